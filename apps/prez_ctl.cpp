// prez-ctl: the operator's tool. Speaks RESP to prez nodes over plain TCP; every decision (the
// arguments, INFO parsing, lag, the table and JSON, how replies print) is in
// actors/gateway/ctl_report, this file only moves bytes. `prez-ctl --help` lists the commands.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/ctl_report.hpp"
#include "actors/gateway/resp3.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "apps/ctl_snapshot_save.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

/// Milliseconds left until `deadline`, at least 0.
int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

/// One connection to one node; every operation ends by `deadline` (ctl_limits::timeout_ms after
/// the connection was started). Errors are texts for "down: <reason>" and stderr.
class connection {
public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Connects to `endpoint`; returns an error text, empty on success.
  std::string open(const prez::ctl_endpoint& endpoint) {
    deadline_ = clock_type::now() + std::chrono::milliseconds(prez::ctl_limits::timeout_ms);
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

  /// Sends `argv` as one RESP command and reads one complete reply into `reply` (the bytes) and
  /// `parsed` (views into `reply`). Returns an error text, empty on success.
  std::string exchange(const std::vector<std::string>& argv, std::string& reply,
                       prez::resp2_reply& parsed) {
    std::string request;
    prez::append_command(request, argv);
    if (auto error = send_all(request); !error.empty()) return error;
    reply.clear();
    char chunk[16 * 1024];
    for (;;) {
      auto scan = prez::scan_resp_reply(reply);
      if (scan.status == prez::resp_scan_status::malformed) return "malformed reply (not RESP)";
      if (scan.status == prez::resp_scan_status::complete) {
        reply.resize(scan.length);
        auto tree = prez::parse_resp2_reply(reply);
        if (!tree) return "malformed reply (not RESP)";
        parsed = std::move(*tree);
        return {};
      }
      if (reply.size() > prez::ctl_limits::reply_bytes_max) return "reply too long";
      if (auto error = wait_for(POLLIN); !error.empty()) return error;
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return "connection closed";
      if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
      if (n > 0) reply.append(chunk, static_cast<std::size_t>(n));
    }
  }

private:
  std::string try_connect(const addrinfo* a) {
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

  std::string send_all(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      if (auto error = wait_for(POLLOUT); !error.empty()) return error;
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    return {};
  }

  /// Waits until the socket is ready for `events`; "timeout" once the deadline passed.
  std::string wait_for(short events) {
    for (;;) {
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, remaining_ms(deadline_));
      if (rc > 0) return {};
      if (rc == 0) return "timeout after " + std::to_string(prez::ctl_limits::timeout_ms) + " ms";
      if (errno != EINTR) return std::strerror(errno);
    }
  }

  static std::string lowercase_first(std::string text) {
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z')
      text[0] = static_cast<char>(text[0] + 32);
    return text;
  }

  int fd_ = -1;
  clock_type::time_point deadline_{};
};

/// Connects, authenticates when a password is given and sends `argv`. On success `reply` holds
/// the reply's bytes and `parsed` the reply (an error reply too); returns an error text otherwise.
std::string request(const prez::ctl_endpoint& endpoint, const std::string& password,
                    const std::vector<std::string>& argv, std::string& reply,
                    prez::resp2_reply& parsed) {
  connection c;
  if (auto error = c.open(endpoint); !error.empty()) return error;
  if (!password.empty()) {
    if (auto error = c.exchange({"AUTH", password}, reply, parsed); !error.empty()) return error;
    if (parsed.type == '-') return "AUTH: " + std::string(parsed.payload);
  }
  return c.exchange(argv, reply, parsed);
}

std::string address_of(const prez::ctl_endpoint& endpoint) {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

int run_status(const prez::ctl_args& args) {
  std::vector<prez::node_status> nodes;
  for (const auto& endpoint : args.nodes) {
    std::string reply;
    prez::resp2_reply parsed;
    auto address = address_of(endpoint);
    auto error = request(endpoint, args.password, {"INFO", "raft"}, reply, parsed);
    if (!error.empty())
      nodes.push_back(prez::node_down(address, error));
    else if (parsed.type == '-')
      nodes.push_back(prez::node_down(address, std::string(parsed.payload)));
    else if (parsed.type != '$' || parsed.null)
      nodes.push_back(prez::node_down(address, "INFO raft answered no text"));
    else
      nodes.push_back(prez::node_from_info(address, parsed.payload));
  }
  prez::compute_lag(nodes);
  auto text = args.json ? prez::format_status_json(nodes) : prez::format_status_table(nodes);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!args.json) {
    auto leaders = prez::count_leaders(nodes);
    if (leaders != 1) std::fprintf(stderr, "prez-ctl: %zu leaders among the answers\n", leaders);
  }
  return prez::status_exit_code(nodes);
}

int run_command(const prez::ctl_args& args) {
  std::string reply;
  prez::resp2_reply parsed;
  auto error = request(args.target, args.password, args.command, reply, parsed);
  if (!error.empty()) {
    std::fprintf(stderr, "prez-ctl: %s: %s\n", address_of(args.target).c_str(), error.c_str());
    return 1;
  }
  if (parsed.type == '-') {
    std::fprintf(stderr, "prez-ctl: %.*s\n", static_cast<int>(parsed.payload.size()),
                 parsed.payload.data());
    return 1;
  }
  auto text = prez::format_reply(parsed);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  auto parsed = prez::parse_ctl_args(words);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "prez-ctl: %s\n(prez-ctl --help lists the commands)\n",
                 parsed.error.c_str());
    return 2;
  }
  auto& args = parsed.args;
  if (args.password.empty())
    if (const char* from_env = std::getenv("PREZ_CTL_PASSWORD")) args.password = from_env;
  switch (args.action) {
    case prez::ctl_action::help: {
      auto text = prez::ctl_usage();
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    case prez::ctl_action::status:
      return run_status(args);
    case prez::ctl_action::command:
      return run_command(args);
    case prez::ctl_action::snapshot_save: // backups (docs/decisions.md D25)
      return prez::run_snapshot_save(args);
  }
  return 2;
}
