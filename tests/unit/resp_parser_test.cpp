// Tests for the incremental RESP2 request parser (actors/gateway/resp_parser.hpp).

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "actors/gateway/resp_parser.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "config/limits.hpp"

using namespace prez;
using namespace std::string_literals;

namespace {

using commands = std::vector<resp_command>;

commands parse_all(std::string_view bytes) {
  resp_parser parser;
  commands out;
  bool ok = parser.feed(bytes, out);
  INFO("error: " << parser.error());
  REQUIRE(ok);
  return out;
}

/// Feeds `bytes` whole and returns the parser's error (the feed must fail).
std::string parse_error(std::string_view bytes) {
  resp_parser parser;
  commands out;
  CHECK_FALSE(parser.feed(bytes, out));
  CHECK(parser.failed());
  return parser.error();
}

/// Feeds `bytes` in chunks of random size in [1, max_chunk]; returns whether all feeds succeeded.
bool feed_chunked(resp_parser& parser, std::string_view bytes, std::mt19937_64& rng,
                  std::size_t max_chunk, commands& out) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t chunk = std::uniform_int_distribution<std::size_t>(1, max_chunk)(rng);
    chunk = std::min(chunk, bytes.size() - pos);
    if (!parser.feed(bytes.data() + pos, chunk, out)) return false;
    pos += chunk;
  }
  return true;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t size, bool binary) {
  static constexpr char printable[] = "abcXYZ019 _-\"'\\";
  std::string s;
  for (std::size_t i = 0; i < size; ++i) {
    if (binary)
      s += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    else
      s += printable[std::uniform_int_distribution<std::size_t>(0, sizeof(printable) - 2)(rng)];
  }
  return s;
}

/// A random mix of multibulk and inline commands (and empty ones), with the commands expected.
std::pair<std::string, commands> random_stream(std::mt19937_64& rng) {
  std::string bytes;
  commands expected;
  int count = std::uniform_int_distribution<int>(1, 60)(rng);
  for (int c = 0; c < count; ++c) {
    int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    if (kind == 0) {
      bytes += std::uniform_int_distribution<int>(0, 1)(rng) ? "*0\r\n" : "*-1\r\n";
    } else if (kind == 1) {
      bytes += "\r\n";
    } else if (kind <= 3) {
      // Inline: plain words, no quotes, \r\n or bare \n.
      resp_command argv;
      int argc = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int a = 0; a < argc; ++a) {
        argv.push_back("w" + std::to_string(std::uniform_int_distribution<int>(0, 999)(rng)));
        bytes += (a ? " " : "") + argv.back();
      }
      bytes += std::uniform_int_distribution<int>(0, 1)(rng) ? "\r\n" : "\n";
      expected.push_back(argv);
    } else {
      resp_command argv;
      int argc = std::uniform_int_distribution<int>(1, 6)(rng);
      for (int a = 0; a < argc; ++a) {
        std::size_t size = std::uniform_int_distribution<std::size_t>(0, 3)(rng) == 0
                               ? std::uniform_int_distribution<std::size_t>(0, 70000)(rng)
                               : std::uniform_int_distribution<std::size_t>(0, 20)(rng);
        argv.push_back(random_bytes(rng, size, true));
      }
      append_command(bytes, argv);
      expected.push_back(argv);
    }
  }
  return {bytes, expected};
}

} // namespace

TEST_CASE("multibulk commands", "[resp_parser]") {
  CHECK(parse_all("*1\r\n$4\r\nPING\r\n") == commands{{"PING"}});
  CHECK(parse_all("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n") == commands{{"SET", "k", ""}});
}

TEST_CASE("binary-safe bulk strings", "[resp_parser]") {
  std::string value = "a\r\nb\0c\r\n"s;
  std::string bytes;
  append_command(bytes, {"SET", "k\0"s, value});
  CHECK(parse_all(bytes) == commands{{"SET", "k\0"s, value}});
}

TEST_CASE("empty commands produce nothing, like Redis", "[resp_parser]") {
  CHECK(parse_all("*0\r\n").empty());
  CHECK(parse_all("*-1\r\n").empty());
  CHECK(parse_all("*-5\r\n").empty());
  CHECK(parse_all("\r\n").empty());
  CHECK(parse_all("\n").empty());
  CHECK(parse_all("   \t \r\n").empty());
  CHECK(parse_all("*0\r\n\r\nPING\r\n") == commands{{"PING"}});
}

TEST_CASE("inline commands", "[resp_parser]") {
  CHECK(parse_all("PING\r\n") == commands{{"PING"}});
  CHECK(parse_all("  set  k   v \n") == commands{{"set", "k", "v"}});
  CHECK(parse_all("SET k \"a b\\x41\\n\\t\\\\\\\"\" 'it\\'s'\r\n") ==
        commands{{"SET", "k", "a bA\n\t\\\"", "it's"}});
  CHECK(parse_all("SET k\"x y\" \"\"\r\n") == commands{{"SET", "kx y", ""}});
  CHECK(parse_all("SET \"\\q\" '\\n'\r\n") == commands{{"SET", "q", "\\n"}});
  CHECK(parse_all("GET\0key\r\n"s) == commands{{"GET", "key"}});
}

TEST_CASE("split_inline_args follows sdssplitargs", "[resp_parser]") {
  using args = std::vector<std::string>;
  CHECK(split_inline_args("") == args{});
  CHECK(split_inline_args("a") == args{"a"});
  CHECK(split_inline_args("\"\\x4g\"") == args{"x4g"});
  CHECK(split_inline_args("\"a\"\"b\"") == std::nullopt);
  CHECK(split_inline_args("'a'b") == std::nullopt);
  CHECK(split_inline_args("\"abc") == std::nullopt);
  CHECK(split_inline_args("'abc") == std::nullopt);
  CHECK(split_inline_args("\"abc\\\"") == std::nullopt);
}

TEST_CASE("pipelined mix of inline and multibulk", "[resp_parser]") {
  std::string bytes =
      "PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO \"hi there\"\n*1\r\n$4\r\nINFO\r\n";
  CHECK(parse_all(bytes) == commands{{"PING"}, {"GET", "k"}, {"ECHO", "hi there"}, {"INFO"}});
}

TEST_CASE("protocol errors use Redis's words", "[resp_parser]") {
  CHECK(parse_error("*abc\r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*\r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*01\r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*+1\r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*1\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*1 \r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*99999999999999999999\r\n") == "Protocol error: invalid multibulk length");
  CHECK(parse_error("*" + std::to_string(limits::multibulk_count_max + 1) + "\r\n") ==
        "Protocol error: invalid multibulk length");
  CHECK(parse_error("*1\r\nfoo\r\n") == "Protocol error: expected '$', got 'f'");
  CHECK(parse_error("*1\r\n\r\n") == "Protocol error: expected '$', got '\\x0d'");
  CHECK(parse_error("*1\r\n$-1\r\n") == "Protocol error: invalid bulk length");
  CHECK(parse_error("*1\r\n$abc\r\n") == "Protocol error: invalid bulk length");
  CHECK(parse_error("*1\r\n$\r\n") == "Protocol error: invalid bulk length");
  CHECK(parse_error("*1\r\n$3\n") == "Protocol error: invalid bulk length");
  CHECK(parse_error("*1\r\n$" + std::to_string(limits::bulk_bytes_max + 1) + "\r\n") ==
        "Protocol error: invalid bulk length");
  CHECK(parse_error("*1\r\n$3\r\nfooXY") == "Protocol error: bulk string not terminated by CRLF");
  CHECK(parse_error("SET \"a b\r\n") == "Protocol error: unbalanced quotes in request");
  CHECK(parse_error("SET \"a\"b\r\n") == "Protocol error: unbalanced quotes in request");
  CHECK(parse_error("SET 'a\r\n") == "Protocol error: unbalanced quotes in request");
  CHECK(parse_error(std::string(limits::inline_line_bytes_max + 1, 'a')) ==
        "Protocol error: too big inline request");
  CHECK(parse_error(std::string(limits::inline_line_bytes_max + 1, 'a') + "\r\n") ==
        "Protocol error: too big inline request");
  CHECK(parse_error("*" + std::string(limits::inline_line_bytes_max + 1, '1')) ==
        "Protocol error: too big mbulk count string");
  CHECK(parse_error("*1\r\n$" + std::string(limits::inline_line_bytes_max + 1, '1')) ==
        "Protocol error: too big bulk count string");
}

TEST_CASE("a line exactly at the inline limit is accepted", "[resp_parser]") {
  std::string line = "ECHO " + std::string(limits::inline_line_bytes_max - 5, 'x');
  REQUIRE(line.size() == limits::inline_line_bytes_max);
  commands out = parse_all(line + "\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0][1].size() == limits::inline_line_bytes_max - 5);
}

TEST_CASE("commands before an error are kept; the parser stays failed", "[resp_parser]") {
  resp_parser parser;
  commands out;
  CHECK_FALSE(parser.feed("PING\r\n*1\r\n$x\r\n", out));
  CHECK(out == commands{{"PING"}});
  CHECK(parser.error() == "Protocol error: invalid bulk length");
  CHECK_FALSE(parser.feed("PING\r\n", out));
  CHECK(out.size() == 1);
}

TEST_CASE("declared sizes do not allocate", "[resp_parser]") {
  resp_parser parser;
  commands out;
  std::string bytes = "*" + std::to_string(limits::multibulk_count_max) + "\r\n$" +
                      std::to_string(limits::bulk_bytes_max) + "\r\nab";
  REQUIRE(parser.feed(bytes, out));
  CHECK(out.empty());
  CHECK(parser.buffered_bytes() == 2);
  CHECK(parser.allocated_bytes() <= limits::declared_reserve_bytes_max + 4096);
  // More argument headers declaring big sizes still hold only what arrived.
  for (int i = 0; i < 100; ++i)
    REQUIRE(parser.feed("x", out));
  CHECK(parser.buffered_bytes() == 102);
  CHECK(parser.allocated_bytes() <= limits::declared_reserve_bytes_max + 4096);
}

TEST_CASE("buffer memory is given back after a big command", "[resp_parser]") {
  resp_parser parser;
  commands out;
  std::string bytes;
  append_command(bytes, {"SET", "k", std::string(1 << 20, 'v')});
  REQUIRE(parser.feed(bytes, out));
  REQUIRE(out.size() == 1);
  CHECK(parser.buffered_bytes() == 0);
  CHECK(parser.allocated_bytes() <= 2 * limits::read_chunk_bytes);
}

TEST_CASE("query buffer limit bounds one command's bytes", "[resp_parser]") {
  resp_parser parser;
  commands out;
  std::string bulk;
  append_bulk(bulk, std::string(limits::bulk_bytes_max, 'v'));
  std::size_t bulks = limits::query_buffer_bytes_max / limits::bulk_bytes_max + 1;
  REQUIRE(parser.feed("*" + std::to_string(bulks + 1) + "\r\n", out));
  bool ok = true;
  for (std::size_t i = 0; i < bulks && ok; ++i)
    ok = parser.feed(bulk, out);
  CHECK_FALSE(ok);
  CHECK(parser.error() == "Protocol error: query buffer limit exceeded");
  CHECK(out.empty());
}

TEST_CASE("a big bulk arriving byte by byte parses in linear time", "[resp_parser]") {
  resp_parser parser;
  commands out;
  std::string value(1 << 20, 'z');
  std::string bytes;
  append_command(bytes, {"SET", "k", value});
  bool ok = true;
  for (std::size_t i = 0; i < bytes.size() && ok; ++i)
    ok = parser.feed(&bytes[i], 1, out);
  REQUIRE(ok);
  REQUIRE(out.size() == 1);
  CHECK(out[0][2] == value);
  // A long inline line arriving byte by byte is scanned once, not once per byte.
  std::string line = "ECHO " + std::string(limits::inline_line_bytes_max - 10, 'y') + "\r\n";
  for (std::size_t i = 0; i < line.size() && ok; ++i)
    ok = parser.feed(&line[i], 1, out);
  REQUIRE(ok);
  CHECK(out.size() == 2);
}

TEST_CASE("any chunking gives the same commands as one feed", "[resp_parser]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed=" << seed);
    std::mt19937_64 rng(seed);
    auto [bytes, expected] = random_stream(rng);
    CHECK(parse_all(bytes) == expected);
    for (std::size_t max_chunk : {1ul, 7ul, 100ul, 20000ul}) {
      INFO("max_chunk=" << max_chunk);
      resp_parser parser;
      commands out;
      REQUIRE(feed_chunked(parser, bytes, rng, max_chunk, out));
      CHECK(out == expected);
      CHECK(parser.buffered_bytes() == 0);
    }
  }
}

TEST_CASE("chunked bad input fails the same way as one feed", "[resp_parser]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed=" << seed);
    std::mt19937_64 rng(seed);
    std::string bytes = "PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$x\r\nPING\r\n";
    resp_parser parser;
    commands out;
    CHECK_FALSE(feed_chunked(parser, bytes, rng, 5, out));
    CHECK(parser.error() == "Protocol error: invalid bulk length");
    CHECK(out == commands{{"PING"}, {"GET", "k"}});
  }
}

TEST_CASE("round trip: append_command then parse", "[resp_parser]") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200; ++i) {
    resp_command argv;
    int argc = std::uniform_int_distribution<int>(1, 5)(rng);
    for (int a = 0; a < argc; ++a)
      argv.push_back(
          random_bytes(rng, std::uniform_int_distribution<std::size_t>(0, 40)(rng), true));
    std::string bytes;
    append_command(bytes, argv);
    CHECK(parse_all(bytes) == commands{argv});
  }
}

TEST_CASE("before AUTH, Redis's small limits apply; after it, the normal ones", "[resp_parser]") {
  prez::resp_parser parser;
  parser.set_authenticated(false);
  std::vector<prez::resp_command> out;
  CHECK_FALSE(parser.feed(std::string_view("*11\r\n"), out));
  CHECK(parser.error() == "Protocol error: unauthenticated multibulk length");
  prez::resp_parser bulk;
  bulk.set_authenticated(false);
  CHECK_FALSE(bulk.feed(std::string_view("*2\r\n$4\r\nAUTH\r\n$16385\r\n"), out));
  CHECK(bulk.error() == "Protocol error: unauthenticated bulk length");
  prez::resp_parser ok;
  ok.set_authenticated(false);
  CHECK(ok.feed(std::string_view("*2\r\n$4\r\nAUTH\r\n$3\r\npw1\r\n"), out));
  ok.set_authenticated(true);
  CHECK(ok.feed(std::string_view("*11\r\n"), out));
}
