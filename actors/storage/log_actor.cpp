#include "actors/storage/log_actor.hpp"

#include <cstdlib>
#include <malloc.h>
#include <utility>
#include <vector>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/storage/log_store.hpp"
#include "config/limits.hpp"

namespace prez {

namespace {

struct log_actor_state {
  std::unique_ptr<storage::log_store> store;
  /// Requests written but not yet acknowledged, with who asked. Acknowledged after the next sync.
  std::vector<std::pair<caf::actor, std::uint64_t>> waiting;
  bool flush_scheduled = false;
  static inline const char* name = "log_actor";
};

[[noreturn]] void fail_stop(const std::string& what) {
  spdlog::critical("storage failure: {}; stopping this node so it cannot act on lost data", what);
  spdlog::shutdown();
  std::_Exit(70);
}

void apply_request(storage::log_store& store, const persist_request& request) {
  if (request.reset_log_to)
    if (auto error = store.reset(*request.reset_log_to)) fail_stop(*error);
  if (request.compact_to)
    if (auto error = store.compact_to(*request.compact_to)) fail_stop(*error);

  if (request.truncate_from)
    if (auto error = store.truncate_from(*request.truncate_from)) fail_stop(*error);
  if (!request.entries.empty())
    if (auto error = store.append(request.entries)) fail_stop(*error);
  if (request.hard)
    if (auto error = store.save_hard_state({request.hard->term, request.hard->voted_for}))
      fail_stop(*error);
}

caf::behavior log_actor(caf::stateful_actor<log_actor_state>* self,
                        std::shared_ptr<std::unique_ptr<storage::log_store>> store, bool trim) {
  self->state.store = std::move(*store);
  self->set_exception_handler(exception_exit_reason);
  // Actor tests (not detached) run the coordinator until idle: no endless timer there.
  if (trim) self->delayed_send(self, limits::memory_trim_interval, trim_atom::value);
  return {
      [=](persist_atom, const persist_request& request) {
        apply_request(*self->state.store, request);
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        self->state.waiting.emplace_back(std::move(sender), request.seq);
        // Group commit: the flush goes to the back of the mailbox, so every write that arrived
        // meanwhile (e.g. during the previous fsync) is covered by the same fsync.
        if (!self->state.flush_scheduled) {
          self->state.flush_scheduled = true;
          self->send(self, flush_atom::value);
        }
      },
      // Memory freed by compaction and by bursts of client traffic was allocated on one thread
      // and freed on another, so glibc keeps most of it in its arenas instead of returning it;
      // without a trim a leader's resident size stays at its peak (measured after 500k SETs:
      // 96 MB, 37 MB after malloc_trim; docs/decisions.md D20). On the log actor's own thread the
      // trim delays no actor's work.
      [=](trim_atom) {
        ::malloc_trim(0);
        self->delayed_send(self, limits::memory_trim_interval, trim_atom::value);
      },
      [=](flush_atom) {
        auto& st = self->state;
        st.flush_scheduled = false;
        if (auto error = st.store->sync()) fail_stop(*error);
        persist_reply reply{0, st.store->last_index(), st.store->last_term()};
        for (auto& [who, seq] : st.waiting) {
          reply.seq = seq;
          self->send(who, persisted_atom::value, reply);
        }
        st.waiting.clear();
      },
  };
}

} // namespace

caf::actor spawn_log_actor(caf::actor_system& system, std::unique_ptr<storage::log_store> store,
                           bool detached) {
  auto holder = std::make_shared<std::unique_ptr<storage::log_store>>(std::move(store));
  if (!detached) return system.spawn(log_actor, holder, false);
  return system.spawn<caf::detached>(log_actor, holder, true);
}

} // namespace prez
