// Applied commands by name (command_counts.hpp). Pure.
#include "actors/state_machine/command_counts.hpp"

#include "config/assert.hpp"

namespace prez {

void command_counts::count(std::string_view name) {
  std::string key;
  if (name.empty() || name.size() > name_bytes_max) {
    key = "other";
  } else {
    key.reserve(name.size());
    for (char c : name) {
      const bool word =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (c >= 'A' && c <= 'Z')
        key += static_cast<char>(c - 'A' + 'a');
      else if (word)
        key += c;
      else
        return count("");
    }
  }
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    const std::size_t names = counts_.size() - counts_.count("other");
    if (names >= names_max && key != "other") return count("");
    it = counts_.emplace(std::move(key), 0).first;
  }
  ++it->second;
  PREZ_ASSERT(counts_.size() <= names_max + 1);
}

} // namespace prez
