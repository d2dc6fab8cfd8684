#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>

#include "actors/gateway/command_docs.hpp"
#include "actors/state_machine/kv_state.hpp"

using prez::doc_argument;
using prez::parse_doc_syntax;

namespace {

/// The hint text redis-cli 7 builds from an argument tree (its rules, written out here so the
/// test does not share code with what it checks).
std::string hint_of(const doc_argument& a);

std::string hint_of(const std::vector<doc_argument>& args, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i)
    out += (i == 0 ? "" : separator) + hint_of(args[i]);
  return out;
}

std::string hint_of(const doc_argument& a) {
  std::string repeat;
  if (a.type == "oneof")
    repeat = hint_of(a.arguments, "|");
  else if (a.type == "block")
    repeat = hint_of(a.arguments, " ");
  else if (a.type != "pure-token")
    repeat = a.name;
  std::string token = a.token;
  if (!token.empty() && a.type != "pure-token") token += " ";
  std::string out = (a.optional ? "[" : "") + token + repeat;
  if (a.multiple) out += " [" + repeat + " ...]";
  return out + (a.optional ? "]" : "");
}

std::string hint(std::string_view command) {
  const auto* syntax = prez::doc_syntax(command);
  REQUIRE(syntax != nullptr);
  return hint_of(parse_doc_syntax(*syntax), " ");
}

} // namespace

TEST_CASE("every command prez answers is documented, and nothing else") {
  std::set<std::string> commands;
  for (const auto& c : prez::describe_commands())
    commands.insert(std::string(c.name));
  std::set<std::string> documented;
  for (auto name : prez::documented_commands()) {
    auto bar = name.find('|');
    if (bar == std::string_view::npos)
      documented.insert(std::string(name));
    else
      CHECK(commands.count(std::string(name.substr(0, bar))) == 1);
  }
  CHECK(documented == commands);
}

TEST_CASE("every syntax line parses") {
  for (auto name : prez::documented_commands()) {
    INFO(name);
    CHECK_NOTHROW(parse_doc_syntax(*prez::doc_syntax(name)));
  }
}

TEST_CASE("hints read as Redis 7's for the same commands") {
  CHECK(hint("set") == "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT "
                       "unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]");
  CHECK(hint("hset") == "key field value [field value ...]");
  CHECK(hint("mset") == "key value [key value ...]");
  CHECK(hint("del") == "key [key ...]");
  CHECK(hint("lpos") == "key element [RANK rank] [COUNT num-matches] [MAXLEN len]");
  CHECK(hint("scan") == "cursor [MATCH pattern] [COUNT count] [TYPE type]");
  CHECK(hint("expire") == "key seconds [NX|XX|GT|LT]");
  CHECK(hint("lmove") == "source destination LEFT|RIGHT LEFT|RIGHT");
  CHECK(hint("linsert") == "key BEFORE|AFTER pivot element");
  CHECK(hint("restore") ==
        "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]");
  CHECK(hint("dump") == "key");
  CHECK(hint("info") == "[section [section ...]]");
  CHECK(hint("auth") == "[username] password");
  CHECK(hint("hello") == "[protover [AUTH username password] [SETNAME clientname]]");
  CHECK(hint("getex") == "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT "
                         "unix-time-milliseconds|PERSIST]");
  CHECK(hint("ping") == "[message]");
  CHECK(hint("dbsize").empty());
}

TEST_CASE("argument trees carry names, types and flags") {
  auto args = parse_doc_syntax("key [condition=NX|XX] [EX:seconds] element... (data=f v)...");
  REQUIRE(args.size() == 5);
  CHECK(args[0].name == "key");
  CHECK(args[0].type == "key");
  CHECK(args[1].name == "condition");
  CHECK(args[1].type == "oneof");
  CHECK(args[1].optional);
  REQUIRE(args[1].arguments.size() == 2);
  CHECK(args[1].arguments[0].type == "pure-token");
  CHECK(args[1].arguments[0].token == "NX");
  CHECK(args[1].arguments[0].name == "nx");
  CHECK(args[2].token == "EX");
  CHECK(args[2].name == "seconds");
  CHECK(args[2].type == "integer");
  CHECK(args[3].multiple);
  CHECK(args[3].type == "string");
  CHECK(args[4].type == "block");
  CHECK(args[4].name == "data");
  CHECK(args[4].multiple);
  CHECK(!args[4].optional);
  CHECK(parse_doc_syntax("increment#double")[0].type == "double");
}

TEST_CASE("malformed syntax lines are refused with the position") {
  for (const char* bad : {"[key", "key]", "(a|)", "ex:seconds", "NX#integer", "[]", "a | b"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_doc_syntax(bad), std::invalid_argument);
  }
}

TEST_CASE("COMMAND DOCS replies in Redis's flat shape and skips unknown names") {
  auto one = prez::command_docs_reply({"GET", "nosuchcommand"});
  CHECK(one.rfind("*2\r\n$3\r\nget\r\n*8\r\n$7\r\nsummary\r\n", 0) == 0);
  CHECK(one.find("$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n") !=
        std::string::npos);
  CHECK(prez::command_docs_reply({"nosuch"}) == "*0\r\n");
  auto client = prez::command_docs_reply({"client"});
  CHECK(client.find("$11\r\nsubcommands\r\n") != std::string::npos);
  CHECK(client.find("$9\r\nclient|id\r\n") != std::string::npos);
  auto set = prez::command_docs_reply({"set"});
  CHECK(set.find("$5\r\nflags\r\n*1\r\n+optional\r\n") != std::string::npos);
}
