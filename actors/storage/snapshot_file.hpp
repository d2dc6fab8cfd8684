#pragma once
// Snapshot files (Raft §7, docs/architecture.md §5): the state machine's state up to one log index,
// with the Raft metadata needed to resume after it. Synchronous, pure C++ with POSIX file I/O; no
// CAF. Each writer, receiver or reader is used from one thread; different files may be handled
// from different threads.
//
// On disk, in the data directory:
//   snapshot-<last index, 20 digits>.snap   one complete snapshot:
//     header   8 bytes   magic "PREZSNP1"
//              u32 LE    meta length m, at most limits::snapshot_meta_bytes_max
//              m bytes   msgpack of snapshot_meta: [last_index, last_term, voters, learners,
//                        created_ms, config] (config, the full membership, since membership
//                        changes; older files have five fields and are read with an empty one)
//     body     n bytes   the state bytes, opaque to this layer (the state machine writes them in
//                        pieces and reads them back in pieces)
//     trailer  u64 LE    body length n
//              u32 LE    crc32c (log_store.hpp) of every byte before the trailer: header and body
//              8 bytes   magic "PREZEND1"
//     The file is 12 + m + n + 20 bytes, at most limits::snapshot_bytes_max. The index in the
//     name equals meta.last_index.
//   snapshot-<idx>.snap.tmp    a snapshot being written here (snapshot_writer)
//   snapshot-<idx>.snap.recv   a snapshot being received from the leader (snapshot_receiver)
//
// A snapshot gets its final name only once it is complete and durable (written, fsynced, renamed,
// directory fsynced), so a crash leaves at worst a temp file, which readers ignore and the next
// finished snapshot removes. A final file that fails validation is damage: it is refused (named
// with the reason) and left on disk for an operator, and the newest valid snapshot is used.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "actors/storage/log_store.hpp"
#include "messages/membership.hpp"

namespace prez::storage {

/// What a snapshot covers, stored in its header.
struct snapshot_meta {
  std::uint64_t last_index = 0;      ///< last log index the snapshot covers; >= 1
  std::uint64_t last_term = 0;       ///< its term
  std::vector<std::string> voters;   ///< voters at last_index (names only, for readers)
  std::vector<std::string> learners; ///< learners at last_index (names only, for readers)
  std::uint64_t created_ms = 0;      ///< wall clock when taken (informational)
  /// The cluster configuration at last_index (Raft §7); empty in files written before
  /// membership changes existed (the configuration then is nodes.conf's).
  membership config;
  MSGPACK_DEFINE(last_index, last_term, voters, learners, created_ms, config)
  friend bool operator==(const snapshot_meta&, const snapshot_meta&) = default;
};

/// One complete, valid snapshot file.
struct snapshot_info {
  snapshot_meta meta;
  std::string path; ///< final path: <dir>/snapshot_file_name(meta.last_index)
  std::uint64_t file_bytes = 0;
  std::uint64_t body_bytes = 0;
};

/// "snapshot-<last_index as 20 zero-padded digits>.snap".
std::string snapshot_file_name(std::uint64_t last_index);

/// Writes one snapshot: create() opens <dir>/snapshot-<idx>.snap.tmp and writes the header,
/// append() adds body bytes, finish() writes the trailer, fsyncs the file, renames it to its final
/// name, fsyncs the directory, then prunes (see finish()). The destructor without a successful
/// finish() removes the temp file.
///
/// Errors: every function returns an error string on an operating failure (disk full, EIO) or a
/// snapshot over limits::snapshot_bytes_max; after the first one the writer refuses everything
/// with that error, and the snapshot is abandoned (the destructor removes the temp file).
class snapshot_writer {
public:
  /// Creates `dir` if needed and starts <dir>/snapshot-<meta.last_index>.snap.tmp (replacing a
  /// stale one). `observer`, when set, hears of every file and directory fsync. Errors:
  /// meta.last_index == 0, meta encoding over limits::snapshot_meta_bytes_max, or an I/O failure.
  static std::variant<std::unique_ptr<snapshot_writer>, std::string>
  create(const std::string& dir, const snapshot_meta& meta, sync_observer observer = {});

  ~snapshot_writer();
  snapshot_writer(const snapshot_writer&) = delete;
  snapshot_writer& operator=(const snapshot_writer&) = delete;

  /// Adds `body_bytes` after the body so far (buffered; written in pieces of about 1 MiB).
  /// Errors: an I/O failure, the file growing past limits::snapshot_bytes_max, or a call after
  /// finish().
  std::optional<std::string> append(std::string_view body_bytes);

  /// Completes the snapshot and makes it durable under its final name (replacing a file of the
  /// same index). Then prunes: deletes every snapshot-*.snap with a lower index that is not among
  /// the `keep` newest (by index) in the directory, and every *.snap.tmp / *.snap.recv whose index
  /// is <= this one's (a temp file of a newer snapshot may still be in use). The one just written
  /// is never deleted (keep 0 counts as 1). Removals are not fsynced: a removed file that comes
  /// back after a crash is only an old snapshot or a temp file, pruned again next time.
  /// Errors: an I/O failure, a call after finish(), or any earlier error; an error from pruning
  /// comes after the new snapshot is already durable.
  std::variant<snapshot_info, std::string> finish(std::size_t keep = 2);

  /// Body bytes appended so far.
  std::uint64_t body_bytes() const { return body_bytes_; }

private:
  snapshot_writer(std::string dir, snapshot_meta meta, int fd, sync_observer observer);
  std::optional<std::string> flush();
  std::optional<std::string> fail(std::string error);

  std::string dir_;
  snapshot_meta meta_;
  std::string temp_path_;
  std::string final_path_;
  int fd_ = -1; ///< open on temp_path_ until finish() closes it
  /// Bytes written to the file so far. Invariant: file_offset_ + buffer_.size() == header bytes +
  /// body_bytes_.
  std::uint64_t file_offset_ = 0;
  std::string buffer_; ///< bytes not yet written; crc_ already covers them
  std::uint32_t crc_ = 0;
  std::uint64_t body_bytes_ = 0;
  bool renamed_ = false; ///< the temp file has its final name: nothing for the destructor to do
  bool finished_ = false;
  std::optional<std::string> failed_;
  sync_observer observer_;
};

/// Reads and fully validates one snapshot file: magics, lengths, the crc over header and body, the
/// meta decoding under the msgpack limits of config/limits.hpp, and the index in the file name
/// (which must be snapshot_file_name(meta.last_index)) equal to meta.last_index. Reads the whole
/// file. Errors (never a crash, whatever the bytes): "<path>: <reason>".
std::variant<snapshot_info, std::string> validate_snapshot(const std::string& path);

/// validate_snapshot for a copy kept under any file name (a backup written by `prez-ctl snapshot
/// save`): every check but the index in the name.
std::variant<snapshot_info, std::string> validate_snapshot_copy(const std::string& path);

/// The newest valid snapshot in `dir`: tries every snapshot-*.snap newest (highest index) first
/// and returns the first that validates; each newer one that does not is appended to `refused`
/// as its error string (left on disk, never deleted here). Older ones than the one returned are
/// not read. Returns nullopt when there is none (a missing directory included; a directory that
/// cannot be listed adds its error to `refused`). Temp files are ignored.
std::optional<snapshot_info> newest_valid_snapshot(const std::string& dir,
                                                   std::vector<std::string>& refused);

/// Whether `dir` holds any snapshot-*.snap file at all, valid or not (temp files do not count).
/// False for a missing or unreadable directory.
bool has_snapshot_files(const std::string& dir);

/// Streams the body of the snapshot at `path` to `sink` in pieces of at most `piece_bytes`
/// (0 counts as 1), after validating the whole file; `info`, when given, receives what the
/// validation found before the first piece. With `any_name` the file may have any name (as
/// validate_snapshot_copy). Errors: the file is damaged (as validate_snapshot), changes while
/// read, or `sink` returns an error string (returned as is, nothing more is read).
std::optional<std::string>
read_snapshot_body(const std::string& path,
                   const std::function<std::optional<std::string>(std::string_view)>& sink,
                   std::size_t piece_bytes = 1 << 20, snapshot_info* info = nullptr,
                   bool any_name = false);

/// Raw bytes of a snapshot file, as read_snapshot_chunk returns them.
struct snapshot_chunk {
  std::string bytes;            ///< empty at the end of the file
  std::uint64_t file_bytes = 0; ///< the file's size, so the sender knows when it is done
  std::optional<std::string> error;
};

/// Bytes [offset, offset + max_bytes) of a snapshot file (the leader sends the file itself in
/// InstallSnapshot chunks), fewer at its end, none at offset == size. Not validated here: the
/// receiver validates the whole file. Errors: the file is gone or unreadable, or offset > size.
snapshot_chunk read_snapshot_chunk(const std::string& path, std::uint64_t offset,
                                   std::size_t max_bytes);

/// Follower side of InstallSnapshot (Raft §7): receives the raw file bytes of the leader's
/// snapshot (last_index, last_term) in order into <dir>/snapshot-<idx>.snap.recv. The destructor
/// without a successful finish() removes that file.
///
/// Errors: an I/O failure makes every later call return it (the transfer must start over with a
/// new receiver); a write at the wrong offset or past the size limit is refused without harm.
class snapshot_receiver {
public:
  /// Creates `dir` if needed and starts <dir>/snapshot-<last_index>.snap.recv (replacing a
  /// stale one). `observer`, when set, hears of every file and directory fsync. Errors:
  /// last_index == 0 or an I/O failure.
  static std::variant<std::unique_ptr<snapshot_receiver>, std::string>
  create(const std::string& dir, std::uint64_t last_index, std::uint64_t last_term,
         sync_observer observer = {});

  ~snapshot_receiver();
  snapshot_receiver(const snapshot_receiver&) = delete;
  snapshot_receiver& operator=(const snapshot_receiver&) = delete;

  /// Bytes received so far: the next offset expected.
  std::uint64_t received() const { return received_; }

  /// Writes `bytes` at `offset`. Errors (nothing written): offset != received(), the file growing
  /// past limits::snapshot_bytes_max, a call after finish(); or an I/O failure (sticky).
  std::optional<std::string> write(std::uint64_t offset, std::string_view bytes);

  /// Validates the whole received file as validate_snapshot does and checks that its
  /// meta.last_index and meta.last_term are the expected ones, fsyncs it, renames it to its final
  /// name (replacing a file of the same index), fsyncs the directory and prunes as
  /// snapshot_writer::finish(keep). Errors: "<recv path>: <reason>" for a damaged or unexpected
  /// file (the receiver stays usable only for destruction), an I/O failure, a second call.
  std::variant<snapshot_info, std::string> finish(std::size_t keep = 2);

private:
  snapshot_receiver(std::string dir, std::uint64_t last_index, std::uint64_t last_term, int fd,
                    sync_observer observer);
  std::optional<std::string> fail(std::string error);

  std::string dir_;
  std::uint64_t last_index_ = 0;
  std::uint64_t last_term_ = 0;
  std::string receive_path_;
  std::string final_path_;
  int fd_ = -1;                ///< open on receive_path_ until finish() closes it
  std::uint64_t received_ = 0; ///< Invariant: the size of the file written so far
  bool renamed_ = false;       ///< the file has its final name
  bool finished_ = false;      ///< finish() was called (successfully or not)
  std::optional<std::string> failed_;
  sync_observer observer_;
};

} // namespace prez::storage
