// prez-ctl's RESP connection (apps/ctl_connection.hpp).
#include "apps/ctl_connection.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/resp_writer.hpp"

namespace prez {

namespace {

using clock_type = std::chrono::steady_clock;

std::string lowercase_first(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] + 32);
  return text;
}

} // namespace

ctl_connection::~ctl_connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ctl_connection::open(const ctl_endpoint& endpoint) {
  timeout_ms_ = ctl_limits::timeout_ms;
  deadline_ = clock_type::now() + std::chrono::milliseconds(timeout_ms_);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(endpoint.port);
  if (int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return std::string("cannot resolve ") + endpoint.host + ": " + ::gai_strerror(rc);
  std::string error = "no address for " + endpoint.host;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    error = try_connect(a);
    if (error.empty()) break;
  }
  ::freeaddrinfo(found);
  return error;
}

std::string ctl_connection::exchange(const std::vector<std::string>& argv, std::string& reply,
                                     resp2_reply& parsed, int timeout_ms) {
  timeout_ms_ = timeout_ms;
  deadline_ = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  std::string request;
  append_command(request, argv);
  if (auto error = send_all(request); !error.empty()) return error;
  reply.clear();
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    auto scan = scan_resp_reply(reply);
    if (scan.status == resp_scan_status::malformed) return "malformed reply (not RESP)";
    if (scan.status == resp_scan_status::complete) {
      reply.resize(scan.length);
      auto tree = parse_resp2_reply(reply);
      if (!tree) return "malformed reply (not RESP)";
      parsed = std::move(*tree);
      return {};
    }
    if (reply.size() > ctl_limits::reply_bytes_max) return "reply too long";
    if (auto error = wait_for(POLLIN); !error.empty()) return error;
    auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n == 0) return "connection closed";
    if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
    if (n > 0) reply.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

std::string ctl_connection::try_connect(const addrinfo* a) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
  if (fd_ < 0) return std::strerror(errno);
  if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) return {};
  if (errno != EINPROGRESS) return lowercase_first(std::strerror(errno));
  if (auto error = wait_for(POLLOUT); !error.empty()) return error;
  int so_error = 0;
  socklen_t length = sizeof so_error;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &length);
  return so_error == 0 ? std::string{} : lowercase_first(std::strerror(so_error));
}

std::string ctl_connection::send_all(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    if (auto error = wait_for(POLLOUT); !error.empty()) return error;
    auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  return {};
}

std::string ctl_connection::wait_for(short events) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now());
    pollfd p{fd_, events, 0};
    int rc = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (rc > 0) return {};
    if (rc == 0) return "timeout after " + std::to_string(timeout_ms_) + " ms";
    if (errno != EINTR) return std::strerror(errno);
  }
}

std::string ctl_request(const ctl_endpoint& endpoint, const std::string& password,
                        const std::vector<std::string>& argv, std::string& reply,
                        resp2_reply& parsed) {
  ctl_connection c;
  if (auto error = c.open(endpoint); !error.empty()) return error;
  if (!password.empty()) {
    if (auto error = c.exchange({"AUTH", password}, reply, parsed); !error.empty()) return error;
    if (parsed.type == '-') return "AUTH: " + std::string(parsed.payload);
  }
  return c.exchange(argv, reply, parsed);
}

std::string address_of(const ctl_endpoint& endpoint) {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

} // namespace prez
