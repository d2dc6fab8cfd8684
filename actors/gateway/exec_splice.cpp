#include "actors/gateway/exec_splice.hpp"

#include <algorithm>
#include <cctype>

#include "actors/gateway/resp3.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/assert.hpp"

namespace prez {

bool runs_at_connection(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  std::string name = argv[0];
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const auto commands = describe_commands();
  const auto it = std::lower_bound(
      commands.begin(), commands.end(), name,
      [](const command_description& c, const std::string& n) { return c.name < n; });
  return it != commands.end() && it->name == name && it->kind == command_kind::local;
}

exec_plan plan_exec(std::vector<std::vector<std::string>> queued) {
  exec_plan plan;
  for (std::size_t i = 0; i < queued.size(); ++i) {
    if (runs_at_connection(queued[i])) {
      plan.local.push_back(std::move(queued[i]));
      plan.local_positions.push_back(i);
    } else {
      plan.data.push_back(std::move(queued[i]));
    }
  }
  return plan;
}

std::optional<std::vector<std::string>> array_elements(const std::string& reply) {
  const auto parsed = parse_resp2_reply(reply);
  if (!parsed || parsed->type != '*' || parsed->null) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(parsed->elements.size());
  for (const auto& element : parsed->elements)
    out.emplace_back(element.raw);
  return out;
}

std::string splice_exec_reply(const std::vector<std::string>& data_replies,
                              const std::vector<std::string>& local_replies,
                              const std::vector<std::size_t>& local_positions) {
  PREZ_ASSERT(local_replies.size() == local_positions.size());
  const std::size_t total = data_replies.size() + local_replies.size();
  std::string out;
  append_array_header(out, total);
  std::size_t next_data = 0;
  std::size_t next_local = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (next_local < local_positions.size() && local_positions[next_local] == i) {
      out += local_replies[next_local++];
    } else {
      PREZ_ASSERT(next_data < data_replies.size());
      out += data_replies[next_data++];
    }
  }
  PREZ_ASSERT(next_data == data_replies.size());
  PREZ_ASSERT(next_local == local_replies.size());
  return out;
}

} // namespace prez
