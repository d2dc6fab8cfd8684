// Blocking pops in the replicated state (kv_blocking.cpp, blocked_clients.hpp): a client that
// finds nothing blocks, later entries serve blocked clients in the order they blocked, an
// element goes to exactly one client, PREZ.UNBLOCK and the deadline time clients out, and a
// snapshot carries the blocked clients to a restored replica that then serves exactly as the
// original does.

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "config/limits.hpp"

using namespace prez;

namespace {

constexpr std::uint64_t t0 = 1'000'000;

using argv_type = std::vector<std::string>;

/// Applies command `seq` of client `client` at t0 (or `time`).
std::optional<std::string> run(kv_state& kv, std::uint64_t client, std::uint64_t seq,
                               const argv_type& argv, std::uint64_t time = t0) {
  return kv.apply_client(client, seq, argv, time);
}

std::string served_text(const std::vector<served_client>& served) {
  std::string out;
  for (const auto& s : served)
    out += std::to_string(s.client_id) + "/" + std::to_string(s.seq) + " " + s.reply;
  return out;
}

} // namespace

TEST_CASE("a blocking pop that finds data answers at once, as its non-blocking twin",
          "[kv_blocking]") {
  kv_state kv;
  kv.apply({"RPUSH", "l", "a", "b"}, t0);
  kv.apply({"ZADD", "z", "1", "m", "2", "n"}, t0);
  CHECK(run(kv, 1, 1, {"BLPOP", "none", "l", "0"}) == "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
  CHECK(run(kv, 1, 2, {"BRPOP", "l", "0"}) == "*2\r\n$1\r\nl\r\n$1\r\nb\r\n");
  CHECK(kv.keys().find("l") == nullptr); // emptied lists are deleted
  CHECK(run(kv, 1, 3, {"BZPOPMIN", "z", "0"}) == "*3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n");
  CHECK(run(kv, 1, 4, {"BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"}) ==
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n");
  kv.apply({"RPUSH", "src", "x", "y"}, t0);
  CHECK(run(kv, 1, 5, {"BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"}) == "$1\r\ny\r\n");
  CHECK(run(kv, 1, 6, {"BRPOPLPUSH", "src", "dst", "0"}) == "$1\r\nx\r\n");
  CHECK(kv.apply({"LRANGE", "dst", "0", "-1"}, t0) == "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  CHECK(run(kv, 1, 7, {"BLMPOP", "0", "2", "none", "dst", "LEFT", "COUNT", "9"}) ==
        "*2\r\n$3\r\ndst\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  kv.apply({"SET", "s", "v"}, t0);
  CHECK(run(kv, 1, 8, {"BLPOP", "s", "0"}) ==
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  CHECK(kv.blocked_count() == 0);
  CHECK(kv.take_served().empty());
}

TEST_CASE("blocking commands refuse bad arguments with Redis's errors, in its order",
          "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BLPOP", "k", "-1"}) == "-ERR timeout is negative\r\n");
  CHECK(run(kv, 1, 2, {"BLPOP", "k", "abc"}) == "-ERR timeout is not a float or out of range\r\n");
  CHECK(run(kv, 1, 3, {"BLMOVE", "a", "b", "UP", "LEFT", "-1"}) == "-ERR syntax error\r\n");
  CHECK(run(kv, 1, 4, {"BLMPOP", "-1", "0", "k", "LEFT"}) ==
        "-ERR numkeys should be greater than 0\r\n");
  CHECK(run(kv, 1, 5, {"BLMPOP", "-1", "1", "k", "LEFT"}) == "-ERR timeout is negative\r\n");
  CHECK(run(kv, 1, 6, {"BLMPOP", "0", "3", "k", "LEFT"}) == "-ERR syntax error\r\n");
  CHECK(run(kv, 1, 7, {"BZMPOP", "0", "1", "k", "LEFT"}) == "-ERR syntax error\r\n");
  CHECK(run(kv, 1, 8, {"BZMPOP", "0", "1", "k", "MIN", "COUNT", "0"}) ==
        "-ERR count should be greater than 0\r\n");
  CHECK(run(kv, 1, 9, {"BLPOP", "k", "1e14"}) == "-ERR timeout is out of range\r\n");
  CHECK(run(kv, 1, 10, {"BLPOP", "k", "1e400"}) == "-ERR timeout is negative\r\n");
  CHECK(kv.blocked_count() == 0);
  CHECK(blocking_timeout_ms({"BLPOP", "k", "0.0011"}) == 2u); // ceil, as Redis
  CHECK(blocking_timeout_ms({"BZMPOP", "1.5", "1", "k", "MIN"}) == 1500u);
  CHECK(blocking_timeout_ms({"BLPOP", "k", "-1"}) == std::nullopt);
  CHECK(blocking_timeout_ms({"LPOP", "k"}) == std::nullopt);
}

TEST_CASE("blocked clients are served in the order they blocked, one element each",
          "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BLPOP", "q", "0"}) == std::nullopt);
  CHECK(run(kv, 2, 1, {"BRPOP", "other", "q", "0"}) == std::nullopt);
  CHECK(run(kv, 3, 1, {"BLPOP", "q", "0"}) == std::nullopt);
  CHECK(kv.blocked_count() == 3);
  // LPUSH answers the length after its push, before any client is served (as Redis).
  CHECK(run(kv, 9, 1, {"RPUSH", "q", "a", "b"}) == ":2\r\n");
  CHECK(served_text(kv.take_served()) == "1/1 *2\r\n$1\r\nq\r\n$1\r\na\r\n"
                                         "2/1 *2\r\n$1\r\nq\r\n$1\r\nb\r\n");
  CHECK(kv.keys().find("q") == nullptr);
  CHECK(kv.blocked_count() == 1);
  // Client 2 was served from q: data on "other" goes to nobody.
  CHECK(run(kv, 9, 2, {"RPUSH", "other", "o"}) == ":1\r\n");
  CHECK(kv.take_served().empty());
  CHECK(run(kv, 9, 3, {"RPUSH", "q", "c"}) == ":1\r\n");
  CHECK(served_text(kv.take_served()) == "3/1 *2\r\n$1\r\nq\r\n$1\r\nc\r\n");
  CHECK(kv.blocked_count() == 0);
}

TEST_CASE("a retried blocking command does not block its client twice", "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 7, {"BLPOP", "q", "0"}) == std::nullopt);
  CHECK(run(kv, 1, 7, {"BLPOP", "q", "0"}) == std::nullopt); // the same entry again
  CHECK(kv.blocked_count() == 1);
  run(kv, 9, 1, {"RPUSH", "q", "a", "b"});
  CHECK(served_text(kv.take_served()) == "1/7 *2\r\n$1\r\nq\r\n$1\r\na\r\n");
  CHECK(kv.apply({"LRANGE", "q", "0", "-1"}, t0) == "*1\r\n$1\r\nb\r\n");
}

TEST_CASE("BLMOVE chains: serving one client gives data to the key of the next one",
          "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}) == std::nullopt);
  CHECK(run(kv, 2, 1, {"BRPOPLPUSH", "b", "c", "0"}) == std::nullopt);
  CHECK(run(kv, 3, 1, {"BLPOP", "c", "0"}) == std::nullopt);
  run(kv, 9, 1, {"LPUSH", "a", "x"});
  CHECK(served_text(kv.take_served()) ==
        "1/1 $1\r\nx\r\n2/1 $1\r\nx\r\n3/1 *2\r\n$1\r\nc\r\n$1\r\nx\r\n");
  CHECK(kv.size() == 0);
}

TEST_CASE("a blocked client is served only by a key of its family", "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BZPOPMAX", "k", "0"}) == std::nullopt);
  run(kv, 9, 1, {"RPUSH", "k", "a"});
  CHECK(kv.take_served().empty());
  CHECK(kv.blocked_count() == 1);
  run(kv, 9, 2, {"DEL", "k"});
  run(kv, 9, 3, {"ZADD", "k", "1", "a", "3", "c"});
  CHECK(served_text(kv.take_served()) == "1/1 *3\r\n$1\r\nk\r\n$1\r\nc\r\n$1\r\n3\r\n");
}

TEST_CASE("BLMPOP and BZMPOP served later take their count", "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2"}) == std::nullopt);
  CHECK(run(kv, 2, 1, {"BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"}) == std::nullopt);
  run(kv, 9, 1, {"RPUSH", "y", "1", "2", "3"});
  run(kv, 9, 2, {"ZADD", "z", "5", "e", "4", "d", "6", "f"});
  CHECK(served_text(kv.take_served()) ==
        "1/1 *2\r\n$1\r\ny\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
        "2/1 *2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n");
}

TEST_CASE("PREZ.UNBLOCK times a blocked client out, and the deadline does when its node cannot",
          "[kv_blocking]") {
  kv_state kv;
  CHECK(run(kv, 1, 1, {"BLPOP", "q", "2"}) == std::nullopt);
  CHECK(run(kv, 1, 2, {std::string(unblock_command), "1"}) == ":1\r\n");
  CHECK(served_text(kv.take_served()) == "1/1 *-1\r\n");
  CHECK(run(kv, 1, 3, {std::string(unblock_command), "1"}) == ":0\r\n"); // answered already
  CHECK(run(kv, 1, 4, {std::string(unblock_command), "x"}) == ":0\r\n");
  // CLIENT UNBLOCK ... ERROR: the blocked command fails as in Redis.
  CHECK(run(kv, 1, 5, {"BLPOP", "q", "0"}) == std::nullopt);
  CHECK(run(kv, 1, 6, {std::string(unblock_command), "5", "ERROR"}) == ":1\r\n");
  CHECK(served_text(kv.take_served()) == "1/5 -UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
  run(kv, 9, 1, {"RPUSH", "q", "a"});
  CHECK(kv.take_served().empty()); // nobody takes it: it stays
  CHECK(kv.apply({"LLEN", "q"}, t0) == ":1\r\n");

  // Blocked for 2 s; no PREZ.UNBLOCK comes. Entries before the deadline (timeout plus the
  // grace) leave it blocked; the first one after it times it out.
  CHECK(run(kv, 2, 1, {"BRPOP", "empty", "2"}) == std::nullopt);
  const std::uint64_t deadline = t0 + 2000 + limits::blocked_deadline_grace_ms;
  kv.advance_clock(deadline - 1);
  CHECK(kv.take_served().empty());
  kv.advance_clock(deadline);
  CHECK(served_text(kv.take_served()) == "2/1 *-1\r\n");
  // Timeout 0 has no deadline.
  CHECK(run(kv, 3, 1, {"BLPOP", "empty", "0"}) == std::nullopt);
  kv.advance_clock(deadline + 1'000'000'000);
  CHECK(kv.take_served().empty());
  CHECK(kv.blocked_count() == 1);
}

TEST_CASE("inside MULTI a blocking command does not block, and clients are served after EXEC",
          "[kv_blocking]") {
  kv_state kv;
  CHECK(kv.apply_transaction({{"BLPOP", "q", "0"},
                              {"BLMOVE", "q", "d", "LEFT", "LEFT", "0"},
                              {"BRPOPLPUSH", "q", "d", "0"},
                              {"BZPOPMIN", "z", "0"},
                              {"BLMPOP", "0", "1", "q", "LEFT"}},
                             t0) == "*5\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n");
  CHECK(run(kv, 1, 1, {"BLPOP", "q", "0"}) == std::nullopt);
  // The transaction sees its own push whole; the blocked client gets what is left after it.
  CHECK(kv.apply_transaction({{"RPUSH", "q", "a", "b"}, {"LPOP", "q"}, {"LLEN", "q"}}, t0) ==
        "*3\r\n:2\r\n$1\r\na\r\n:1\r\n");
  CHECK(served_text(kv.take_served()) == "1/1 *2\r\n$1\r\nq\r\n$1\r\nb\r\n");
}

TEST_CASE("a snapshot carries blocked clients: the restored replica serves the same",
          "[kv_blocking]") {
  kv_state kv;
  client_sessions sessions;
  CHECK(run(kv, 1, 1, {"BLPOP", "q", "0"}) == std::nullopt);
  CHECK(run(kv, 2, 5, {"BZPOPMIN", "z", "q2", "3"}) == std::nullopt);
  CHECK(run(kv, 3, 1, {"BLMOVE", "q", "d", "LEFT", "RIGHT", "0"}) == std::nullopt);
  kv.apply({"SET", "k", "v"}, t0);
  kv.begin_snapshot(sessions);
  std::string bytes;
  while (!kv.snapshot_next(bytes, 1 << 20)) {
  }
  auto restored = restore_state(bytes);
  REQUIRE(std::holds_alternative<restored_state>(restored));
  kv_state copy = std::move(std::get<restored_state>(restored).kv);
  CHECK(copy.blocked_count() == 3);
  CHECK(copy.keys().blocked() == kv.keys().blocked());
  for (kv_state* state : {&kv, &copy}) {
    run(*state, 9, 1, {"RPUSH", "q", "a", "b", "c"});
    run(*state, 9, 2, {"ZADD", "z", "1", "m"});
    state->advance_clock(t0 + 3000 + limits::blocked_deadline_grace_ms);
  }
  const auto original = served_text(kv.take_served());
  CHECK(original == "1/1 *2\r\n$1\r\nq\r\n$1\r\na\r\n3/1 $1\r\nb\r\n"
                    "2/5 *3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n");
  CHECK(served_text(copy.take_served()) == original);

  // A damaged blocked-client record is refused, never restored half.
  auto damaged = bytes;
  const auto at = damaged.find("BLMOVE");
  REQUIRE(at != std::string::npos);
  damaged.replace(at, 6, "BLMOVX");
  auto refused = restore_state(damaged);
  REQUIRE(std::holds_alternative<std::string>(refused));
  CHECK(std::get<std::string>(refused).find("blocked client") != std::string::npos);
}
