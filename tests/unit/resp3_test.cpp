#include <catch2/catch.hpp>

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "actors/gateway/command_docs.hpp"
#include "actors/gateway/resp3.hpp"

using prez::resp3_shape;
using prez::resp3_shape_of;
using prez::to_resp3;

TEST_CASE("RESP3: nulls become _ at every depth, everything else is copied") {
  CHECK(to_resp3("$-1\r\n", resp3_shape::plain) == "_\r\n");
  CHECK(to_resp3("*-1\r\n", resp3_shape::plain) == "_\r\n");
  CHECK(to_resp3("*3\r\n$1\r\na\r\n$-1\r\n*1\r\n$-1\r\n", resp3_shape::plain) ==
        "*3\r\n$1\r\na\r\n_\r\n*1\r\n_\r\n");
  for (const char* same :
       {"+OK\r\n", "-ERR x y\r\n", ":-42\r\n", "$0\r\n\r\n", "*0\r\n", "$4\r\na\r\nb\r\n"})
    CHECK(to_resp3(same, resp3_shape::plain) == same);
}

TEST_CASE("RESP3: pairs become a map, members a set, reports verbatim text") {
  const std::string pairs = "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$-1\r\n";
  CHECK(to_resp3(pairs, resp3_shape::map) == "%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n_\r\n");
  CHECK(to_resp3("*3\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n", resp3_shape::map) ==
        "*3\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n"); // odd: not pairs, left an array
  CHECK(to_resp3("*2\r\n$1\r\na\r\n$1\r\nb\r\n", resp3_shape::set) ==
        "~2\r\n$1\r\na\r\n$1\r\nb\r\n");
  CHECK(to_resp3("$9\r\n# Server\n\r\n", resp3_shape::verbatim) == "=13\r\ntxt:# Server\n\r\n");
  // Errors and nulls keep their meaning whatever the command's shape.
  CHECK(to_resp3("-WRONGTYPE x\r\n", resp3_shape::map) == "-WRONGTYPE x\r\n");
  CHECK(to_resp3("*-1\r\n", resp3_shape::set) == "_\r\n");
}

TEST_CASE("RESP3: EXEC converts each reply by the shape of its queued command") {
  const std::string exec = "*3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$-1\r\n*1\r\n$1\r\nm\r\n";
  CHECK(
      to_resp3(exec, resp3_shape::exec, {resp3_shape::map, resp3_shape::plain, resp3_shape::set}) ==
      "*3\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n_\r\n~1\r\n$1\r\nm\r\n");
  CHECK(to_resp3("*-1\r\n", resp3_shape::exec, {}) == "_\r\n"); // aborted by WATCH
}

TEST_CASE("RESP3: COMMAND DOCS nests maps, argument flags are sets") {
  auto docs = to_resp3(prez::command_docs_reply({"set"}), resp3_shape::command_docs);
  CHECK(docs.rfind("%1\r\n$3\r\nset\r\n%4\r\n$7\r\nsummary\r\n", 0) == 0);
  CHECK(docs.find("$9\r\narguments\r\n*5\r\n%2\r\n$4\r\nname\r\n$3\r\nkey\r\n") !=
        std::string::npos);
  CHECK(docs.find("$5\r\nflags\r\n~1\r\n+optional\r\n") != std::string::npos);
  auto client = to_resp3(prez::command_docs_reply({"client"}), resp3_shape::command_docs);
  CHECK(client.find("$11\r\nsubcommands\r\n%") != std::string::npos);
  CHECK(client.find("$9\r\nclient|id\r\n%3\r\n") != std::string::npos);
}

TEST_CASE("RESP3: COMMAND INFO flags, categories, tips, key specs and subcommands are sets") {
  const std::string info = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n"
                           "*0\r\n*0\r\n*0\r\n*0\r\n";
  CHECK(to_resp3(info, resp3_shape::command_info) ==
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n~0\r\n~0\r\n~0\r\n"
        "~0\r\n");
}

TEST_CASE("RESP3: a reply that does not parse is passed through unchanged") {
  for (const char* bad : {"", "+OK", "$5\r\nab\r\n", "*2\r\n:1\r\n", "?x\r\n", "+OK\r\n+OK\r\n"})
    CHECK(to_resp3(bad, resp3_shape::map) == bad);
}

TEST_CASE("RESP3: shapes follow the command, as Redis 7 answers it") {
  CHECK(resp3_shape_of({"HGETALL", "h"}) == resp3_shape::map);
  CHECK(resp3_shape_of({"config", "GET", "*"}) == resp3_shape::map);
  CHECK(resp3_shape_of({"config", "SET", "a", "b"}) == resp3_shape::plain);
  CHECK(resp3_shape_of({"SMEMBERS", "s"}) == resp3_shape::set);
  CHECK(resp3_shape_of({"SPOP", "s"}) == resp3_shape::plain);
  CHECK(resp3_shape_of({"SPOP", "s", "2"}) == resp3_shape::set);
  CHECK(resp3_shape_of({"SRANDMEMBER", "s", "2"}) == resp3_shape::plain); // may repeat: array
  CHECK(resp3_shape_of({"info"}) == resp3_shape::verbatim);
  CHECK(resp3_shape_of({"CLIENT", "list"}) == resp3_shape::verbatim);
  CHECK(resp3_shape_of({"CLIENT", "id"}) == resp3_shape::plain);
  CHECK(resp3_shape_of({"COMMAND"}) == resp3_shape::command_info);
  CHECK(resp3_shape_of({"COMMAND", "DOCS"}) == resp3_shape::command_docs);
  CHECK(resp3_shape_of({"exec"}) == resp3_shape::exec);
  CHECK(resp3_shape_of({}) == resp3_shape::plain);
}

TEST_CASE("RESP3: the one reader reads the RESP3 types prez writes") {
  const auto map = prez::parse_resp2_reply("%2\r\n$1\r\na\r\n_\r\n$1\r\nb\r\n#t\r\n");
  REQUIRE(map);
  CHECK(map->type == '%');
  REQUIRE(map->elements.size() == 4); // keys and values in turn
  CHECK(map->elements[1].type == '_');
  CHECK(map->elements[1].null);
  CHECK(map->elements[3].payload == "t");
  const auto set = prez::parse_resp2_reply("~2\r\n:1\r\n(12345678901234567890\r\n");
  REQUIRE(set);
  CHECK(set->type == '~');
  REQUIRE(set->elements.size() == 2);
  CHECK(set->elements[1].type == '(');
  CHECK(set->elements[1].payload == "12345678901234567890");
  const auto dbl = prez::parse_resp2_reply(",3.5\r\n");
  REQUIRE(dbl);
  CHECK(dbl->payload == "3.5");
  const auto verbatim = prez::parse_resp2_reply("=6\r\ntxt:hi\r\n");
  REQUIRE(verbatim);
  CHECK(verbatim->payload == "txt:hi");
  for (const char* bad : {"#x\r\n", "_1\r\n", ",\r\n", "(\r\n", "=2\r\nab\r\n", "=4\r\nabcd\r\n",
                          "=-1\r\n", "%-1\r\n", "~-1\r\n", "%1\r\n:1\r\n", "~2\r\n:1\r\n"})
    CHECK_FALSE(prez::parse_resp2_reply(bad));
}

TEST_CASE("RESP3: a script's RESP3 types go through to a RESP3 client, nulls become _") {
  CHECK(resp3_shape_of({"EVAL", "return 1", "0"}) == resp3_shape::script);
  CHECK(resp3_shape_of({"evalsha_ro", "x", "0"}) == resp3_shape::script);
  CHECK(resp3_shape_of({"FCALL", "f", "0"}) == resp3_shape::script);
  const std::string map = "%2\r\n$1\r\na\r\n$-1\r\n$1\r\nb\r\n~1\r\n,1.5\r\n";
  CHECK(to_resp3(map, resp3_shape::script) == "%2\r\n$1\r\na\r\n_\r\n$1\r\nb\r\n~1\r\n,1.5\r\n");
  for (const char* same : {"#t\r\n", "#f\r\n", ",inf\r\n", "(123\r\n", "=6\r\ntxt:hi\r\n"})
    CHECK(to_resp3(same, resp3_shape::script) == same);
  CHECK(to_resp3("$-1\r\n", resp3_shape::script) == "_\r\n");
  // Inside EXEC too.
  CHECK(to_resp3("*2\r\n#t\r\n$-1\r\n", resp3_shape::exec, {resp3_shape::script}) ==
        "*2\r\n#t\r\n_\r\n");
}

TEST_CASE("RESP2: a script's RESP3 types are downgraded as Redis 7.0 answers a RESP2 client") {
  using prez::to_resp2;
  CHECK(to_resp2("_\r\n") == "$-1\r\n");
  CHECK(to_resp2("#t\r\n") == ":1\r\n");
  CHECK(to_resp2("#f\r\n") == ":0\r\n");
  CHECK(to_resp2(",3.141\r\n") == "$5\r\n3.141\r\n");
  CHECK(to_resp2(",-inf\r\n") == "$4\r\n-inf\r\n");
  CHECK(to_resp2("(1234567999999999999999999999999999999\r\n") ==
        "$37\r\n1234567999999999999999999999999999999\r\n");
  CHECK(to_resp2("=29\r\ntxt:This is a verbatim\nstring\r\n") ==
        "$25\r\nThis is a verbatim\nstring\r\n");
  CHECK(to_resp2("%1\r\n$1\r\nf\r\n%1\r\n$1\r\ng\r\n,1\r\n") ==
        "*2\r\n$1\r\nf\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n");
  CHECK(to_resp2("~2\r\n$1\r\na\r\n#f\r\n") == "*2\r\n$1\r\na\r\n:0\r\n");
  CHECK(to_resp2("*3\r\n_\r\n*-1\r\n$-1\r\n") == "*3\r\n$-1\r\n*-1\r\n$-1\r\n");
  // RESP2 replies (and ones that do not parse) come back unchanged.
  for (const char* same : {"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$1\r\nx\r\n", "*-1\r\n",
                           "*2\r\n$1\r\na\r\n:2\r\n", "*2\r\n:1\r\n", "%1\r\n"})
    CHECK(to_resp2(same) == same);
  CHECK(prez::may_hold_resp3(resp3_shape::script));
  CHECK_FALSE(prez::may_hold_resp3(resp3_shape::map));
  CHECK_FALSE(prez::may_hold_resp3(resp3_shape::exec, {resp3_shape::plain, resp3_shape::set}));
  CHECK(prez::may_hold_resp3(resp3_shape::exec, {resp3_shape::plain, resp3_shape::script}));
}

namespace {

/// A random reply of RESP2 and RESP3 types, nested up to `depth` more levels (a fixed generator:
/// the same cases at every run).
std::string random_reply(std::uint64_t& state, int depth) {
  auto next = [&state](std::uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  static const char* const scalars[] = {
      "+OK\r\n",   "-ERR x\r\n", ":-7\r\n",         "$2\r\nab\r\n", "$-1\r\n",
      "*-1\r\n",   "_\r\n",      "#t\r\n",          "#f\r\n",       ",1.5\r\n",
      ",-inf\r\n", "(123\r\n",   "=5\r\ntxt:x\r\n", "$0\r\n\r\n",   "=4\r\nmkd:\r\n"};
  const auto kind = depth > 0 ? next(4) : 0;
  if (kind == 0) return scalars[next(std::size(scalars))];
  const auto count = next(4);
  std::string out = std::string(1, "*~%"[kind - 1]) + std::to_string(count) + "\r\n";
  for (std::uint64_t i = 0; i < (kind == 3 ? 2 * count : count); ++i)
    out += random_reply(state, depth - 1);
  return out;
}

/// Whether `reply` holds only RESP2 types.
bool only_resp2(const prez::resp2_reply& reply) {
  if (std::string_view("+-:$*").find(reply.type) == std::string_view::npos) return false;
  for (const auto& element : reply.elements)
    if (!only_resp2(element)) return false;
  return true;
}

} // namespace

TEST_CASE("RESP2/RESP3: any mix of types reads, downgrades to RESP2 and goes through RESP3") {
  std::uint64_t state = 12;
  for (int i = 0; i < 2000; ++i) {
    const std::string reply = random_reply(state, 4);
    INFO(reply);
    const auto parsed = prez::parse_resp2_reply(reply);
    REQUIRE(parsed);
    CHECK(parsed->raw == reply);
    const auto resp2 = prez::parse_resp2_reply(prez::to_resp2(reply));
    REQUIRE(resp2);
    CHECK(only_resp2(*resp2));
    CHECK(prez::to_resp2(prez::to_resp2(reply)) == prez::to_resp2(reply));
    // RESP3 keeps every RESP3 type; only RESP2's nulls change (to `_`), so a second pass is a
    // no-op.
    const std::string resp3 = to_resp3(reply, resp3_shape::script);
    CHECK(to_resp3(resp3, resp3_shape::script) == resp3);
    if (reply.find("*-1") == std::string::npos) // RESP2's null array stays one; `_` is `$-1`
      CHECK(prez::to_resp2(resp3) == prez::to_resp2(reply));
  }
}
