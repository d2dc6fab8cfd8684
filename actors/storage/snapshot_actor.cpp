#include "actors/storage/snapshot_actor.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/snapshot_export.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "actors/storage/snapshot_load.hpp"

namespace prez {

namespace {

struct snapshot_actor_state {
  node_name self;
  std::string dir;
  /// The snapshot the state machine is writing, if any.
  std::unique_ptr<storage::snapshot_writer> writer;
  /// Why the snapshot being written cannot be finished (its pieces are then ignored).
  std::optional<std::string> writer_error;
  /// The snapshot being received from the leader, if any, and which one it is.
  std::unique_ptr<storage::snapshot_receiver> receiver;
  std::uint64_t receiving_index = 0;
  std::uint64_t receiving_term = 0;
  /// Snapshot files open for backup clients (RAFT.SNAPSHOT FETCH / READ, D25), and whether a
  /// tick to close idle ones is on its way.
  storage::snapshot_exports exports;
  bool expiry_scheduled = false;
  static inline const char* name = "snapshot_actor";
};

using snapshot_actor = caf::stateful_actor<snapshot_actor_state>;

/// Snapshots kept on disk: the newest, and one older to fall back on if the newest is damaged.
constexpr std::size_t snapshots_kept = 2;

raft::snapshot_ref ref_of(const storage::snapshot_info& info) {
  return raft::snapshot_ref{info.meta.last_index, info.meta.last_term, info.file_bytes};
}

/// Leader: reads one chunk of our snapshot file and sends it as an InstallSnapshot request.
void send_chunk(snapshot_actor* self, raft::snapshot_send& chunk, const caf::actor& link) {
  auto& st = self->state;
  const auto path = st.dir + "/" + storage::snapshot_file_name(chunk.request.last_index);
  auto read = storage::read_snapshot_chunk(path, chunk.request.offset, chunk.length);
  if (read.error) {
    // Replaced by a newer snapshot meanwhile: the leader restarts the transfer when it sees no
    // progress (leader_logic's two-round rule).
    spdlog::warn("snapshot chunk for {} not sent: {}", chunk.to, *read.error);
    return;
  }
  auto& request = chunk.request;
  request.data = std::move(read.bytes);
  request.done = request.offset + request.data.size() >= read.file_bytes;
  self->send(link, peer_send_atom::value, raft_message{st.self, chunk.to, std::move(request)});
}

/// Follower: stores one received chunk; after the last one validates and installs the file.
void write_chunk(snapshot_actor* self, const install_snapshot_request& chunk) {
  auto& st = self->state;
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  const raft::snapshot_ref expected{chunk.last_index, chunk.last_term, 0};
  auto refuse = [&](const std::string& why) {
    spdlog::warn("received snapshot {}/{} refused: {}", chunk.last_index, chunk.last_term, why);
    st.receiver.reset();
    if (sender)
      self->send(sender, snap_recvd_atom::value, expected, false,
                 std::shared_ptr<restored_state>{});
  };
  if (chunk.offset == 0) {
    st.receiver.reset();
    auto created = storage::snapshot_receiver::create(st.dir, chunk.last_index, chunk.last_term);
    if (auto* error = std::get_if<std::string>(&created)) {
      refuse(*error); // the leader sends it again later
      return;
    }
    st.receiver = std::get<std::unique_ptr<storage::snapshot_receiver>>(std::move(created));
    st.receiving_index = chunk.last_index;
    st.receiving_term = chunk.last_term;
  }
  if (!st.receiver || st.receiving_index != chunk.last_index ||
      st.receiving_term != chunk.last_term || st.receiver->received() != chunk.offset) {
    // The role checked the order; a mismatch here means a role change raced with a transfer.
    if (chunk.done) refuse("chunks out of order");
    return;
  }
  if (auto error = st.receiver->write(chunk.offset, chunk.data)) {
    refuse(*error);
    return;
  }
  if (!chunk.done) return;
  auto finished = st.receiver->finish(snapshots_kept);
  st.receiver.reset();
  if (auto* error = std::get_if<std::string>(&finished)) {
    refuse(*error); // damaged in transit or too large: the leader sends it again
    return;
  }
  const auto& info = std::get<storage::snapshot_info>(finished);
  const auto ref = ref_of(info);
  // Decoded here, off the state machine's thread; the role hands it over with the restore.
  auto loaded = load_snapshot_state(info.path);
  if (auto* error = std::get_if<std::string>(&loaded)) {
    refuse(*error); // a valid file whose state does not decode: the leader's bug, not ours
    return;
  }
  spdlog::info("stored snapshot {}/{} received from the leader ({} bytes)", ref.index, ref.term,
               ref.bytes);
  std::get<std::shared_ptr<restored_state>>(loaded)->config = info.meta.config;
  if (sender)
    self->send(sender, snap_recvd_atom::value, ref, true,
               std::get<std::shared_ptr<restored_state>>(std::move(loaded)));
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// Closes idle exported files, and keeps checking while any is open (an open file keeps a pruned
/// snapshot's disk space).
void schedule_expiry(snapshot_actor* self) {
  auto& st = self->state;
  if (st.expiry_scheduled || st.exports.size() == 0) return;
  st.expiry_scheduled = true;
  self->delayed_send(self, std::chrono::milliseconds(limits::snapshot_export_idle_ms / 4),
                     tick_atom::value);
}

caf::behavior snapshot_actor_fn(snapshot_actor* self, node_name name, std::string dir) {
  self->state.self = std::move(name);
  self->state.dir = std::move(dir);
  self->set_exception_handler(exception_exit_reason);
  return {
      // A snapshot that cannot be written (disk full, EIO) is not a broken promise: the log it
      // would have replaced is intact. The error goes back to the state machine (INFO shows
      // rdb_last_bgsave_status:err, RAFT.SNAPSHOT answers it) and the next snapshot tries again.
      [=](snap_begin_atom, const storage::snapshot_meta& meta) {
        auto& st = self->state;
        st.writer.reset(); // a snapshot begun and never ended was abandoned
        st.writer_error.reset();
        auto created = storage::snapshot_writer::create(st.dir, meta);
        if (auto* error = std::get_if<std::string>(&created)) {
          st.writer_error = *error;
          return;
        }
        st.writer = std::get<std::unique_ptr<storage::snapshot_writer>>(std::move(created));
      },
      [=](snap_piece_atom, const std::string& bytes) {
        auto& st = self->state;
        if (!st.writer || st.writer_error) return;
        if (auto error = st.writer->append(bytes)) st.writer_error = *error;
      },
      [=](snap_end_atom) -> caf::result<raft::snapshot_ref> {
        auto& st = self->state;
        auto writer = std::move(st.writer);
        auto failed = std::move(st.writer_error);
        st.writer_error.reset();
        if (failed) return caf::make_error(caf::sec::runtime_error, *failed);
        if (!writer) return caf::make_error(caf::sec::invalid_argument, "no snapshot begun");
        auto finished = writer->finish(snapshots_kept);
        if (auto* error = std::get_if<std::string>(&finished))
          return caf::make_error(caf::sec::runtime_error, *error);
        return ref_of(std::get<storage::snapshot_info>(finished));
      },
      [=](snap_abort_atom) {
        self->state.writer.reset();
        self->state.writer_error.reset();
      },
      [=](snap_send_atom, raft::snapshot_send& chunk, const caf::actor& link) {
        send_chunk(self, chunk, link);
      },
      [=](snap_write_atom, const install_snapshot_request& chunk) { write_chunk(self, chunk); },
      // Backups (D25): serve snapshot `index` (the state machine names one it has made durable)
      // and answer its size; then its bytes, a bounded chunk per READ.
      [=](snap_export_atom, std::uint64_t index) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        auto opened = st.exports.open(st.dir, index, now_ms());
        schedule_expiry(self);
        if (auto* error = std::get_if<std::string>(&opened))
          return caf::make_error(caf::sec::runtime_error, *error);
        return std::get<std::uint64_t>(opened);
      },
      [=](snap_read_atom, std::uint64_t index, std::uint64_t offset,
          std::uint64_t count) -> caf::result<std::string> {
        auto read = self->state.exports.read(index, offset, count, now_ms());
        if (read.error) return caf::make_error(caf::sec::invalid_argument, *read.error);
        return std::move(read.bytes);
      },
      [=](tick_atom) {
        self->state.expiry_scheduled = false;
        self->state.exports.expire(now_ms());
        schedule_expiry(self);
      },
  };
}

} // namespace

caf::actor spawn_snapshot_actor(caf::actor_system& system, node_name self, std::string dir,
                                bool detached) {
  if (!detached) return system.spawn(snapshot_actor_fn, std::move(self), std::move(dir));
  return system.spawn<caf::detached>(snapshot_actor_fn, std::move(self), std::move(dir));
}

} // namespace prez
