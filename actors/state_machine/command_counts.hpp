#pragma once
// Commands applied by the state machine, counted by name (the metrics port's
// prez_commands_applied_total). Pure.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace prez {

/// Name -> applied count, sorted by name.
using command_count_map = std::map<std::string, std::uint64_t, std::less<>>;

/// Applied commands per lower-case name. Owned by the state machine actor.
class command_counts {
public:
  /// Distinct names counted; later new names (and names over name_bytes_max) count as "other".
  /// The log holds only commands the gateway classified, so the command table bounds the names
  /// already; this keeps the map bounded even if that ever changes.
  static constexpr std::size_t names_max = 256;
  static constexpr std::size_t name_bytes_max = 32;

  /// Counts one applied command called `name` (any case).
  void count(std::string_view name);

  /// Name -> count, sorted by name. Invariant: size() <= names_max + 1 ("other").
  const command_count_map& counts() const { return counts_; }

private:
  command_count_map counts_;
};

} // namespace prez
