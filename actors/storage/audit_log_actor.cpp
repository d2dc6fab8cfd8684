#include "actors/storage/audit_log_actor.hpp"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"

namespace prez {

namespace {

/// Failures are logged at most this often (with how many there were): a full disk fails every
/// batch, many a second.
constexpr std::chrono::seconds failure_log_interval{10};

struct audit_log_actor_state {
  std::unique_ptr<storage::audit_log_file> file;
  /// Failed batches since the last one logged, and when that was.
  std::uint64_t failures_unlogged = 0;
  std::chrono::steady_clock::time_point last_failure_logged{};
  bool failing = false;
  static inline const char* name = "audit_log_actor";
};

using audit_log_actor_type = caf::stateful_actor<audit_log_actor_state>;

void report(audit_log_actor_type* self, const std::optional<std::string>& error) {
  auto& st = self->state;
  for (const auto& notice : st.file->take_notices())
    spdlog::info("audit log: {}", notice);
  if (!error) {
    if (st.failing)
      spdlog::info("audit log: writing again ({} more failed batches since the last error logged)",
                   st.failures_unlogged);
    st.failing = false;
    st.failures_unlogged = 0;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (st.failing && now - st.last_failure_logged < failure_log_interval) {
    ++st.failures_unlogged;
    return;
  }
  spdlog::error("audit log: {}; these lines are lost (the file will say which entries), the node "
                "serves on and tries again with the next batch ({} failed batches not logged)",
                *error, st.failures_unlogged);
  st.failing = true;
  st.failures_unlogged = 0;
  st.last_failure_logged = now;
}

caf::behavior audit_log_actor(audit_log_actor_type* self, storage::audit_log_options options) {
  self->set_exception_handler(exception_exit_reason);
  if (options.max_bytes == 0)
    spdlog::info("audit log: {} (never rotated)", options.path);
  else
    spdlog::info("audit log: {} (rotated past {} bytes, {} old files kept)", options.path,
                 options.max_bytes, options.keep);
  self->state.file = std::make_unique<storage::audit_log_file>(std::move(options));
  return {
      [=](audit_atom, const std::vector<audit::audit_line>& batch) {
        std::uint64_t bytes = 0;
        for (const auto& line : batch)
          bytes += line.text.size();
        report(self, self->state.file->append(batch));
        if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
          self->send(sender, audited_atom::value, bytes);
      },
  };
}

} // namespace

caf::actor spawn_audit_log_actor(caf::actor_system& system, storage::audit_log_options options,
                                 bool detached) {
  if (!detached) return system.spawn(audit_log_actor, std::move(options));
  return system.spawn<caf::detached>(audit_log_actor, std::move(options));
}

} // namespace prez
