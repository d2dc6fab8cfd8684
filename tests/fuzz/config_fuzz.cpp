// libFuzzer target for the config parsers (config/node_config.hpp). The input is split at its
// first NUL byte into a prez.conf text and a nodes.conf text (without a NUL, both parsers get the
// whole input). Properties, each a trap when broken:
//   - parsing never crashes;
//   - an error names the file, and a line within the text (0 = the whole file);
//   - an accepted prez.conf satisfies node_config's documented invariants (valid name, ports and
//     timeout in range, a known lower-case loglevel, members = self alone in single-node mode and
//     empty in cluster mode, where name and cluster-port are required);
//   - an accepted nodes.conf has 1..cluster_nodes_max members sorted by unique valid names, with
//     non-empty hosts, ports 1..65535, unique addresses and their own distinct source lines;
//   - attach_members either stores exactly those members or leaves the config unchanged.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/limits.hpp"
#include "config/node_config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

const std::string config_file = "conf/prez.conf";
const std::string nodes_file = "conf/nodes.conf";

std::size_t line_count(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void check_error(const prez::config_error& error, const std::string& file, std::string_view text) {
  FUZZ_CHECK(error.file == file);
  FUZZ_CHECK(error.line <= line_count(text));
  FUZZ_CHECK(error.message.size() > file.size() &&
             error.message.compare(0, file.size(), file) == 0);
}

void check_config(const prez::node_config& config) {
  FUZZ_CHECK(prez::is_valid_node_name(config.name));
  FUZZ_CHECK(config.port >= 1);
  FUZZ_CHECK(config.cluster_node_timeout_ms >= 50 && config.cluster_node_timeout_ms <= 600000);
  FUZZ_CHECK(prez::is_valid_loglevel(config.loglevel));
  FUZZ_CHECK(config.loglevel == lower(config.loglevel));
  FUZZ_CHECK(!prez::spdlog_level_name(config.loglevel).empty());
  FUZZ_CHECK(!config.bind.empty());
  FUZZ_CHECK(!config.dir.empty());
  FUZZ_CHECK(config.source_file == config_file);
  if (config.cluster_config_file.empty()) {
    FUZZ_CHECK(config.members.size() == 1);
    FUZZ_CHECK(config.members[0].name == config.name);
    FUZZ_CHECK(config.members[0].host == "127.0.0.1");
    FUZZ_CHECK(config.members[0].cluster_port == config.cluster_port);
  } else {
    FUZZ_CHECK(config.members.empty());
    FUZZ_CHECK(config.cluster_port >= 1); // required in cluster mode
  }
}

void check_members(const std::vector<prez::cluster_member>& members, std::string_view text) {
  FUZZ_CHECK(!members.empty() && members.size() <= prez::limits::cluster_nodes_max);
  std::set<std::pair<std::string, std::uint16_t>> addresses;
  std::set<std::size_t> lines;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const prez::cluster_member& member = members[i];
    FUZZ_CHECK(prez::is_valid_node_name(member.name));
    if (i > 0) FUZZ_CHECK(members[i - 1].name < member.name); // sorted, unique
    FUZZ_CHECK(!member.host.empty());
    FUZZ_CHECK(member.host.front() != '[' && member.host.back() != ']');
    FUZZ_CHECK(member.cluster_port >= 1);
    FUZZ_CHECK(addresses.emplace(lower(member.host), member.cluster_port).second);
    FUZZ_CHECK(member.source_line >= 1 && member.source_line <= line_count(text));
    FUZZ_CHECK(lines.insert(member.source_line).second);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view config_text = input.substr(0, nul);
  const std::string_view nodes_text = nul == std::string_view::npos ? input : input.substr(nul + 1);

  auto parsed = prez::parse_node_config(config_text, config_file);
  if (auto* error = std::get_if<prez::config_error>(&parsed))
    check_error(*error, config_file, config_text);
  else
    check_config(std::get<prez::node_config>(parsed));

  auto members = prez::parse_nodes_file(nodes_text, nodes_file);
  if (auto* error = std::get_if<prez::config_error>(&members)) {
    check_error(*error, nodes_file, nodes_text);
    return 0;
  }
  const auto& list = std::get<std::vector<prez::cluster_member>>(members);
  check_members(list, nodes_text);

  // A cluster-mode prez.conf and a valid nodes.conf: check membership as load_node_config does.
  if (auto* config = std::get_if<prez::node_config>(&parsed);
      config != nullptr && !config->cluster_config_file.empty()) {
    prez::node_config attached = *config;
    auto result = prez::attach_members(attached, list, nodes_file);
    if (auto* error = std::get_if<prez::config_error>(&result)) {
      FUZZ_CHECK(error->file == nodes_file);
      FUZZ_CHECK(attached.members == config->members && attached.name == config->name);
    } else {
      FUZZ_CHECK(attached.members == list);
      const auto self = std::find_if(list.begin(), list.end(),
                                     [&](const auto& m) { return m.name == attached.name; });
      FUZZ_CHECK(self != list.end() && self->cluster_port == attached.cluster_port);
    }
  }
  return 0;
}
