// CONFIG GET / SET / REWRITE's parameter table (config/runtime_config.hpp). The error texts are
// redis-server 7.0.15's, byte for byte, wherever prez has the same parameter and bounds.

#include <catch2/catch.hpp>

#include "actors/state_machine/kv_state.hpp"
#include "config/runtime_config.hpp"

using namespace prez;

namespace {

runtime_config fresh() {
  return runtime_config(default_single_node_config());
}

using pairs = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_CASE("CONFIG GET reports prez.conf values and Redis defaults") {
  auto config = default_single_node_config();
  config.maxclients = 42;
  config.loglevel = "warning";
  runtime_config runtime(config);
  CHECK(runtime.get({"maxclients"}) == pairs{{"maxclients", "42"}});
  CHECK(runtime.get({"loglevel", "hash-max-listpack-entries"}) ==
        pairs{{"loglevel", "warning"}, {"hash-max-listpack-entries", "128"}});
  CHECK(runtime.get({"appendonly", "save", "timeout", "maxmemory"}) ==
        pairs{{"appendonly", "yes"}, {"save", ""}, {"timeout", "0"}, {"maxmemory", "0"}});
  CHECK(runtime.get({"no-such-parameter"}).empty());
}

TEST_CASE("CONFIG GET: a plain name answers under the name as written, aliases included") {
  auto runtime = fresh();
  CHECK(runtime.get({"MAXCLIENTS"}) == pairs{{"MAXCLIENTS", "10000"}});
  CHECK(runtime.get({"hash-max-ziplist-entries"}) == pairs{{"hash-max-ziplist-entries", "128"}});
}

TEST_CASE("CONFIG GET: a glob lists canonical names and aliases, each once") {
  auto runtime = fresh();
  CHECK(runtime.get({"hash-max-*"}) == pairs{{"hash-max-listpack-entries", "128"},
                                             {"hash-max-ziplist-entries", "128"},
                                             {"hash-max-listpack-value", "64"},
                                             {"hash-max-ziplist-value", "64"}});
  CHECK(runtime.get({"maxc*", "MAXCLIENTS", "max?lients"}) == pairs{{"maxclients", "10000"}});
  CHECK(runtime.get({"*"}).size() > 40);
}

TEST_CASE("CONFIG SET changes live and stored parameters") {
  auto runtime = fresh();
  CHECK(runtime.set({"maxclients", "5", "LOGLEVEL", "Warning"}).empty());
  CHECK(runtime.maxclients() == 5);
  CHECK(runtime.loglevel() == "warning");
  CHECK(runtime.set({"requirepass", "s3cret"}).empty());
  CHECK(runtime.requirepass() == "s3cret");
  CHECK(runtime.set({"requirepass", ""}).empty()); // turns the password off, as in Redis
  CHECK(runtime.requirepass().empty());
  CHECK(runtime.set({"protected-mode", "NO"}).empty());
  CHECK_FALSE(runtime.protected_mode());
  CHECK(runtime.set({"snapshot-entries", "7", "snapshot-bytes", "0"}).empty());
  CHECK(runtime.snapshot_entries() == 7);
  CHECK(runtime.snapshot_bytes() == 0);
}

TEST_CASE("CONFIG SET: encoding knobs are stored and reported, aliases share one value") {
  auto runtime = fresh();
  CHECK(runtime.set({"hash-max-ziplist-entries", "512"}).empty());
  CHECK(runtime.value("hash-max-listpack-entries") == "512");
  CHECK(runtime.set({"list-max-listpack-size", "-1", "set-max-intset-entries", "0"}).empty());
  CHECK(runtime.get({"list-max-ziplist-size"}) == pairs{{"list-max-ziplist-size", "-1"}});
  CHECK(runtime.set({"stream-node-max-bytes", "4kb", "hash-max-listpack-value", "1K"}).empty());
  CHECK(runtime.value("stream-node-max-bytes") == "4096");
  CHECK(runtime.value("hash-max-listpack-value") == "1000");
  CHECK(runtime.set({"lazyfree-lazy-user-del", "YES"}).empty());
  CHECK(runtime.value("lazyfree-lazy-user-del") == "yes");
}

TEST_CASE("CONFIG SET refuses with Redis's errors") {
  auto runtime = fresh();
  CHECK(runtime.set({"foo", "bar"}) ==
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  CHECK(runtime.set({"maxclients", "10", "foo", "bar"}) ==
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  CHECK(runtime.set({"maxclients", "10", "maxclients"}) == "ERR syntax error");
  CHECK(runtime.set({"maxclients", "abc"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be "
        "parsed into an integer");
  CHECK(runtime.set({"maxclients", "0"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be "
        "between 1 and 1048576 inclusive");
  CHECK(runtime.set({"hash-max-listpack-entries", "-1"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - "
        "argument must be between 0 and 9223372036854775807 inclusive");
  for (const auto* bad : {"+5", " 5", "05", "1k", "99999999999999999999"})
    CHECK(runtime.set({"hash-max-listpack-entries", bad}) ==
          "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - "
          "argument couldn't be parsed into an integer");
  CHECK(runtime.set({"stream-node-max-bytes", "-1"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'stream-node-max-bytes') - argument "
        "must be a memory value");
  CHECK(runtime.set({"lazyfree-lazy-user-del", "maybe"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'lazyfree-lazy-user-del') - argument "
        "must be 'yes' or 'no'");
  CHECK(runtime.set({"loglevel", "debug", "LOGLEVEL", "notice"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'LOGLEVEL') - duplicate parameter");
  // A name and its alias are not duplicates for Redis 7.0: the later one wins.
  CHECK(runtime.set({"hash-max-listpack-entries", "1", "hash-max-ziplist-entries", "2"}).empty());
  CHECK(runtime.value("hash-max-listpack-entries") == "2");
  CHECK(runtime.set({"port", "1"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
  CHECK(runtime.set({"timeout", "-1"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between "
        "0 and 2147483647 inclusive");
  CHECK(runtime.set({"appendonly", "maybe"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be "
        "'yes' or 'no'");
  CHECK(runtime.set({"appendfsync", "foo"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be "
        "one of the following: everysec, always, no");
  CHECK(runtime.set({"loglevel", "bogus"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one "
        "of the following: debug, verbose, notice, warning, trace, info, warn, error, critical, "
        "off");
}

TEST_CASE("CONFIG SET is all or nothing") {
  auto runtime = fresh();
  CHECK_FALSE(runtime.set({"maxclients", "5", "hash-max-listpack-entries", "x"}).empty());
  CHECK(runtime.maxclients() == 10000);
  CHECK_FALSE(runtime.set({"maxclients", "5", "port", "1"}).empty());
  CHECK(runtime.maxclients() == 10000);
}

TEST_CASE("CONFIG SET: fixed parameters take only prez's value") {
  auto runtime = fresh();
  CHECK(runtime.set({"appendonly", "yes", "save", "", "timeout", "0", "maxmemory", "0"}).empty());
  CHECK(runtime.set({"timeout", "10"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - prez supports only '0' "
        "here");
  CHECK(runtime.set({"save", "3600 1"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'save') - prez supports only '' here");
}

TEST_CASE("CONFIG SET checks values with prez.conf's own validation") {
  auto runtime = fresh();
  const auto error = runtime.set({"requirepass", std::string(600, 'x')});
  CHECK(error == "ERR CONFIG SET failed (possibly related to argument 'requirepass') - "
                 "'requirepass' must be 1..512 bytes");
  CHECK(runtime.requirepass().empty());
  CHECK(runtime.set({"requirepass", "two\nlines"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'requirepass') - prez.conf values "
        "cannot hold a line break");
}

TEST_CASE("every parameter row backed by prez.conf has a value, and aliases are unique") {
  const auto& table = config_parameter_table();
  for (std::size_t i = 1; i < table.size(); ++i)
    CHECK(table[i - 1].name < table[i].name);
  auto runtime = fresh();
  for (const auto& p : table) {
    CHECK(runtime.value(p.name).has_value());
    if (!p.alias.empty()) CHECK(runtime.value(p.alias) == runtime.value(p.name));
    if (p.effect == parameter_effect::stored) CHECK(p.prez_conf_key == p.name);
  }
}

TEST_CASE("CONFIG REWRITE replaces lines in place, keeps the rest, appends new ones") {
  const std::string file = "# my node\n"
                           "port 9100\n"
                           "\n"
                           "  MaxClients 100\n"
                           "# requirepass old\n"
                           "requirepass old\n"
                           "unknown-looking-comment-below # not a comment\n";
  // The last line is not a valid prez.conf line: rewrite refuses a file prez would not load.
  auto parsed = parse_node_config(file.substr(0, file.rfind("unknown")), "/etc/prez/prez.conf");
  REQUIRE(std::holds_alternative<node_config>(parsed));
  runtime_config runtime(std::get<node_config>(parsed));
  REQUIRE(runtime.set({"maxclients", "7", "loglevel", "debug", "hash-max-listpack-entries", "512"})
              .empty());
  auto rewritten = runtime.rewrite(file.substr(0, file.rfind("unknown")), "/etc/prez/prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  CHECK(std::get<std::string>(rewritten) == "# my node\n"
                                            "port 9100\n"
                                            "\n"
                                            "maxclients 7\n"
                                            "# requirepass old\n"
                                            "requirepass old\n"
                                            "# Set by CONFIG SET and written by CONFIG REWRITE\n"
                                            "hash-max-listpack-entries 512\n"
                                            "loglevel debug\n");
  CHECK(std::holds_alternative<config_error>(runtime.rewrite(file, "/etc/prez/prez.conf")));
}

TEST_CASE("CONFIG REWRITE: an empty requirepass removes its line; quoting round-trips") {
  const std::string file = "requirepass old\nport 9100\n";
  auto parsed = parse_node_config(file, "prez.conf");
  REQUIRE(std::holds_alternative<node_config>(parsed));
  runtime_config runtime(std::get<node_config>(parsed));
  REQUIRE(runtime.set({"requirepass", ""}).empty());
  auto rewritten = runtime.rewrite(file, "prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  CHECK(std::get<std::string>(rewritten) == "port 9100\n");
  REQUIRE(runtime.set({"requirepass", "with space \"and\" quote"}).empty());
  rewritten = runtime.rewrite(file, "prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  auto again = parse_node_config(std::get<std::string>(rewritten), "prez.conf");
  REQUIRE(std::holds_alternative<node_config>(again));
  CHECK(std::get<node_config>(again).requirepass == "with space \"and\" quote");
}

TEST_CASE("CONFIG REWRITE of an unchanged configuration changes nothing") {
  const std::string file = "# only a comment\nmaxclients 3\n";
  auto parsed = parse_node_config(file, "prez.conf");
  REQUIRE(std::holds_alternative<node_config>(parsed));
  runtime_config runtime(std::get<node_config>(parsed));
  auto rewritten = runtime.rewrite(file, "prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  CHECK(std::get<std::string>(rewritten) == file);
}

TEST_CASE("prez.conf holds the encoding parameters (under either name), without effect") {
  auto parsed =
      parse_node_config("hash-max-ziplist-entries 512\nstream-node-max-bytes 4kb\n", "prez.conf");
  REQUIRE(std::holds_alternative<node_config>(parsed));
  runtime_config runtime(std::get<node_config>(parsed));
  CHECK(runtime.value("hash-max-listpack-entries") == "512");
  CHECK(runtime.value("stream-node-max-bytes") == "4096");
  auto bad = parse_node_config("set-max-intset-entries -1\n", "prez.conf");
  REQUIRE(std::holds_alternative<config_error>(bad));
  CHECK(std::get<config_error>(bad).message ==
        "prez.conf:1: invalid set-max-intset-entries '-1': argument must be between 0 and "
        "9223372036854775807 inclusive");
  // REWRITE replaces the alias's line in place.
  REQUIRE(runtime.set({"hash-max-listpack-entries", "64"}).empty());
  auto rewritten =
      runtime.rewrite("hash-max-ziplist-entries 512\nstream-node-max-bytes 4kb\n", "prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  CHECK(std::get<std::string>(rewritten) ==
        "hash-max-listpack-entries 64\nstream-node-max-bytes 4kb\n");
}

TEST_CASE("notify-keyspace-events: CONFIG SET checks the letters and GET answers Redis's text") {
  auto runtime = fresh();
  CHECK(runtime.get({"notify-keyspace-events"}) == pairs{{"notify-keyspace-events", ""}});
  CHECK(runtime.notify_keyspace_events() == 0);
  CHECK(runtime.set({"notify-keyspace-events", "KEA"}).empty());
  CHECK(runtime.get({"notify-keyspace-events"}) == pairs{{"notify-keyspace-events", "AKE"}});
  CHECK(runtime.notify_keyspace_events() ==
        (kv::notify::keyspace | kv::notify::keyevent | kv::notify::all));
  CHECK(runtime.set({"notify-keyspace-events", "Ex$"}).empty());
  CHECK(runtime.value("notify-keyspace-events") == "$xE");
  CHECK(runtime.set({"notify-keyspace-events", "KEQ"}) ==
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid "
        "event class character. Use 'Ag$lshzxeKEtmdn'.");
  CHECK(runtime.value("notify-keyspace-events") == "$xE"); // unchanged
  CHECK(runtime.set({"notify-keyspace-events", ""}).empty());
  CHECK(runtime.notify_keyspace_events() == 0);
}

TEST_CASE("notify-keyspace-events in prez.conf and through CONFIG REWRITE") {
  const std::string text = "port 7001\nnotify-keyspace-events Elg\n";
  auto parsed = parse_node_config(text, "prez.conf");
  REQUIRE(std::holds_alternative<node_config>(parsed));
  runtime_config runtime(std::get<node_config>(parsed));
  CHECK(runtime.value("notify-keyspace-events") == "glE");
  auto bad = parse_node_config("port 7001\nnotify-keyspace-events KEy\n", "prez.conf");
  CHECK(std::holds_alternative<config_error>(bad));
  CHECK(runtime.set({"notify-keyspace-events", ""}).empty());
  auto rewritten = runtime.rewrite(text, "prez.conf");
  REQUIRE(std::holds_alternative<std::string>(rewritten));
  CHECK(std::get<std::string>(rewritten) == "port 7001\nnotify-keyspace-events \"\"\n");
}
