#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "actors/gateway/http_request.hpp"

using namespace prez::http;

namespace {

constexpr std::size_t limit = 8192;

request_head parse(const std::string& text) {
  return parse_request_head(text, limit);
}

route route_text(const std::string& text) {
  return route_of(parse(text));
}

} // namespace

TEST_CASE("A request is complete only at the blank line after the headers") {
  CHECK(parse("").state == head_state::incomplete);
  CHECK(parse("GET /metr").state == head_state::incomplete);
  CHECK(parse("GET /metrics HTTP/1.1\r\n").state == head_state::incomplete);
  CHECK(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n").state == head_state::incomplete);
  CHECK(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r").state == head_state::incomplete);
  auto head = parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  CHECK(head.state == head_state::complete);
  CHECK(head.method == "GET");
  CHECK(head.path == "/metrics");
}

TEST_CASE("Bare LF line ends, HTTP/1.0, and a query string are accepted") {
  CHECK(parse("GET /health HTTP/1.0\n\n").state == head_state::complete);
  auto head = parse("GET /metrics?name[]=x HTTP/1.1\r\n\r\n");
  CHECK(head.state == head_state::complete);
  CHECK(head.path == "/metrics");
}

TEST_CASE("Bytes after the blank line (a body, a second request) are ignored") {
  auto head = parse("GET /health HTTP/1.1\r\n\r\nGARBAGE\x01\x02");
  CHECK(head.state == head_state::complete);
  CHECK(head.path == "/health");
}

TEST_CASE("A wrong request line is malformed as soon as its line ends") {
  for (const std::string line :
       {"GET\r\n", "GET /metrics\r\n", "GET  /metrics HTTP/1.1\r\n", "GET /metrics HTTP/1.1 x\r\n",
        "GET metrics HTTP/1.1\r\n", "GET /metrics HTTP/2\r\n", "GET /metrics http/1.1\r\n",
        "G(T /metrics HTTP/1.1\r\n", "GET /me\x01trics HTTP/1.1\r\n", "GET /a\rb HTTP/1.1\r\n",
        "\r\n", "\x16\x03\x01\x02\x05\n"}) {
    INFO(line);
    auto head = parse(line);
    CHECK(head.state == head_state::malformed);
    CHECK_FALSE(head.error.empty());
    CHECK(route_of(head) == route::bad_request);
  }
}

TEST_CASE("Wrong header lines are malformed") {
  for (const std::string headers :
       {"NoColon\r\n\r\n", ": empty-name\r\n\r\n", "Bad Name: x\r\n\r\n", " folded: x\r\n\r\n",
        "X: a\x01z\r\n\r\n", "X: a\rb\r\n\r\n"}) {
    INFO(headers);
    CHECK(parse("GET /metrics HTTP/1.1\r\n" + headers).state == head_state::malformed);
  }
}

TEST_CASE("A head over the limit is malformed, with or without its blank line") {
  const std::string start = "GET /metrics HTTP/1.1\r\nX-Pad: ";
  CHECK(parse(start + std::string(limit, 'a')).state == head_state::malformed);
  CHECK(parse(start + std::string(limit, 'a') + "\r\n\r\n").state == head_state::malformed);
  CHECK(parse("GET /" + std::string(limit, 'a')).state == head_state::malformed);
  CHECK(parse(std::string(limit + 1, 'A')).error == "request header too large");
  // Exactly at the limit, blank line included: fine.
  const std::string end = "\r\n\r\n";
  const std::string exact = start + std::string(limit - start.size() - end.size(), 'a') + end;
  REQUIRE(exact.size() == limit);
  CHECK(parse(exact).state == head_state::complete);
  CHECK(parse(exact.substr(0, limit - 1) + "x").state == head_state::incomplete);
}

TEST_CASE("Routes: GET /metrics, GET /health, 404 for other paths, 405 for other methods") {
  CHECK(route_text("GET /metrics HTTP/1.1\r\n\r\n") == route::metrics);
  CHECK(route_text("GET /health HTTP/1.1\r\n\r\n") == route::health);
  CHECK(route_text("GET / HTTP/1.1\r\n\r\n") == route::not_found);
  CHECK(route_text("GET /metrics/ HTTP/1.1\r\n\r\n") == route::not_found);
  CHECK(route_text("GET /Metrics HTTP/1.1\r\n\r\n") == route::not_found);
  CHECK(route_text("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n") ==
        route::method_not_allowed);
  CHECK(route_text("HEAD /health HTTP/1.1\r\n\r\n") == route::method_not_allowed);
  CHECK(route_text("get /metrics HTTP/1.1\r\n\r\n") == route::method_not_allowed);
  CHECK(route_text("DELETE /nothing HTTP/1.1\r\n\r\n") == route::method_not_allowed);
}

TEST_CASE("A response carries its status, length, type and closes the connection") {
  CHECK(format_response(200, "text/plain", "hi\n") == "HTTP/1.1 200 OK\r\n"
                                                      "Content-Type: text/plain\r\n"
                                                      "Content-Length: 3\r\n"
                                                      "Connection: close\r\n"
                                                      "\r\n"
                                                      "hi\n");
  CHECK(format_response(503, "application/json", "{}")
            .rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  auto not_allowed = error_response(route::method_not_allowed);
  CHECK(not_allowed.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(not_allowed.find("\r\nAllow: GET\r\n") != std::string::npos);
  CHECK(error_response(route::not_found).rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  auto bad = error_response(route::bad_request, "invalid method");
  CHECK(bad.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(bad.find("\r\n\r\nbad request: invalid method\n") != std::string::npos);
}

TEST_CASE("Every prefix of a request is incomplete or already malformed, never another request") {
  const std::string good = "GET /health?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t/1\r\n\r\n";
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO(n);
    CHECK(parse(good.substr(0, n)).state == head_state::incomplete);
  }
  CHECK(parse(good).state == head_state::complete);
  const std::string bad = "GET /health HTTP/1.1\r\nBad Header\r\n\r\n";
  const auto first_bad = bad.find("Bad Header") + std::string("Bad Header\r\n").size();
  for (std::size_t n = first_bad; n <= bad.size(); ++n)
    CHECK(parse(bad.substr(0, n)).state == head_state::malformed);
}

TEST_CASE("Random bytes never crash the parser and never exceed the limit unnoticed") {
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  const std::string alphabet = "GET /metrics HTTP/1.1\r\n:ab \t\x01\x7f\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const auto size = next() % (round % 10 == 0 ? 3 * limit : 200);
    for (std::size_t i = 0; i < size; ++i)
      text += alphabet[next() % alphabet.size()];
    auto head = parse(text);
    if (head.state == head_state::incomplete) CHECK(text.size() <= limit);
    if (head.state != head_state::incomplete) (void)route_of(head);
  }
}
