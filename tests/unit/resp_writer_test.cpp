// Tests for RESP2 reply encoding and the reply scanner (actors/gateway/resp_writer.hpp).

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "actors/gateway/resp_writer.hpp"

using namespace prez;
using namespace std::string_literals;

TEST_CASE("each reply type encodes as RESP2", "[resp_writer]") {
  std::string out;
  append_simple_string(out, "OK");
  CHECK(out == "+OK\r\n");
  out.clear();
  append_error(out, "unknown command 'FOO'");
  CHECK(out == "-ERR unknown command 'FOO'\r\n");
  out.clear();
  append_error_code(out, "CLUSTERDOWN", "no leader");
  CHECK(out == "-CLUSTERDOWN no leader\r\n");
  out.clear();
  append_integer(out, 0);
  append_integer(out, -42);
  append_integer(out, std::numeric_limits<std::int64_t>::min());
  append_integer(out, std::numeric_limits<std::int64_t>::max());
  CHECK(out == ":0\r\n:-42\r\n:-9223372036854775808\r\n:9223372036854775807\r\n");
  out.clear();
  append_bulk(out, "a\r\nb\0"s);
  CHECK(out == "$5\r\na\r\nb\0\r\n"s);
  out.clear();
  append_bulk(out, "");
  append_null_bulk(out);
  append_array_header(out, 2);
  append_null_array(out);
  CHECK(out == "$0\r\n\r\n$-1\r\n*2\r\n*-1\r\n");
  out.clear();
  append_command(out, {"SET", "k", "v"});
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST_CASE("one-line replies never carry CR or LF", "[resp_writer]") {
  std::string out;
  append_error(out, "bad\r\nthing\n");
  CHECK(out == "-ERR bad  thing \r\n");
  out.clear();
  append_simple_string(out, "a\rb");
  CHECK(out == "+a b\r\n");
  out.clear();
  append_error_code(out, "MO\nVED", "x");
  CHECK(out == "-MO VED x\r\n");
}

TEST_CASE("appending keeps what was there", "[resp_writer]") {
  std::string out = "prefix";
  append_error(out, "x\ny");
  CHECK(out == "prefix-ERR x y\r\n");
}

TEST_CASE("resp_reply_length measures one complete reply", "[resp_writer]") {
  CHECK(resp_reply_length("+OK\r\n") == 5u);
  CHECK(resp_reply_length("-ERR x\r\n") == 8u);
  CHECK(resp_reply_length(":-12\r\n") == 6u);
  CHECK(resp_reply_length("$3\r\nabc\r\n") == 9u);
  CHECK(resp_reply_length("$0\r\n\r\n") == 6u);
  CHECK(resp_reply_length("$-1\r\n") == 5u);
  CHECK(resp_reply_length("*-1\r\n") == 5u);
  CHECK(resp_reply_length("*0\r\n") == 4u);
  CHECK(resp_reply_length("$4\r\na\r\nb\r\n") == 10u);
  // Pipelined: only the first reply counts.
  CHECK(resp_reply_length("+OK\r\n+OK\r\n") == 5u);
}

TEST_CASE("resp_reply_length handles nested arrays", "[resp_writer]") {
  std::string reply;
  append_array_header(reply, 3);
  append_integer(reply, 1);
  append_array_header(reply, 2);
  append_bulk(reply, "x");
  append_array_header(reply, 1);
  append_null_bulk(reply);
  append_null_array(reply);
  std::string stream = reply + "+NEXT\r\n";
  CHECK(resp_reply_length(stream) == reply.size());
  // Every proper prefix is incomplete, never malformed.
  for (std::size_t size = 0; size < reply.size(); ++size) {
    INFO("prefix size " << size);
    CHECK(scan_resp_reply(std::string_view(reply).substr(0, size)).status ==
          resp_scan_status::incomplete);
  }
  // Deep nesting needs no recursion.
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    append_array_header(deep, 1);
  append_integer(deep, 7);
  CHECK(resp_reply_length(deep) == deep.size());
}

TEST_CASE("scan_resp_reply reports malformed replies", "[resp_writer]") {
  for (std::string bad : {"?x\r\n", "+OK\rX", ":abc\r\n", ":\r\n", "$-2\r\n", "$x\r\n",
                          "$3\r\nabcXY", "*-2\r\n", "*1\r\n?\r\n", "*99999999999999\r\n"}) {
    INFO(bad);
    resp_scan_result result = scan_resp_reply(bad);
    CHECK(result.status == resp_scan_status::malformed);
    CHECK(result.length == 0);
    CHECK_FALSE(resp_reply_length(bad).has_value());
  }
  CHECK(scan_resp_reply("").status == resp_scan_status::incomplete);
  CHECK(scan_resp_reply("$3\r\nab").status == resp_scan_status::incomplete);
  CHECK(scan_resp_reply("*2\r\n:1\r\n").status == resp_scan_status::incomplete);
}

TEST_CASE("the one-expression builders match the appenders", "[resp_writer]") {
  CHECK(resp::simple("PONG") == "+PONG\r\n");
  CHECK(resp::ok() == "+OK\r\n");
  CHECK(resp::error("WRONGTYPE Operation against a key") ==
        "-WRONGTYPE Operation against a key\r\n");
  CHECK(resp::error("ERR bad\r\nline") == "-ERR bad  line\r\n");
  CHECK(resp::bulk("a\r\nb") == "$4\r\na\r\nb\r\n");
  CHECK(resp::null_bulk() == "$-1\r\n");
  CHECK(resp::integer(-12) == ":-12\r\n");
  CHECK(resp::array_header(3) == "*3\r\n");
  CHECK(resp::null_array() == "*-1\r\n");
  CHECK(resp::bulk_array(std::vector<std::string>{"x", ""}) == "*2\r\n$1\r\nx\r\n$0\r\n\r\n");
}
