#include "actors/raft/background_expiry.hpp"

#include <algorithm>

#include "config/limits.hpp"

namespace prez::raft {

bool worth_reporting(const std::optional<deadline_report>& last, const deadline_report& now) {
  if (!last || last->next_deadline_ms != now.next_deadline_ms) return true;
  return now.next_deadline_ms && *now.next_deadline_ms <= now.clock_ms;
}

void expiry_clock::report(const deadline_report& r) {
  report_ = r;
  // Cleared once the entry is applied, or once the state machine says nothing is left due at its
  // clock: a deadline it reports later is a new one, worth its own entry. (After an entry it does
  // not report an unchanged deadline that is not due, so waiting for the index alone could wait
  // forever when a command removed the due key before the clock entry was applied.)
  if (r.applied_index >= pending_index_ || !r.next_deadline_ms || *r.next_deadline_ms > r.clock_ms)
    pending_index_ = 0;
}

bool expiry_clock::deadline_passed(std::uint64_t now_ms) const {
  return report_ && report_->next_deadline_ms &&
         *report_->next_deadline_ms <= std::max(now_ms, report_->clock_ms);
}

bool expiry_clock::due(std::uint64_t now_ms) const {
  if (pending_index_ != 0 || !deadline_passed(now_ms)) return false;
  return last_stamp_ms_ == 0 || now_ms >= last_stamp_ms_ + limits::background_expiry_interval_ms;
}

void expiry_clock::stamped(std::uint64_t now_ms, std::uint64_t last_index) {
  if (!deadline_passed(now_ms)) return;
  pending_index_ = last_index;
  last_stamp_ms_ = now_ms;
}

} // namespace prez::raft
