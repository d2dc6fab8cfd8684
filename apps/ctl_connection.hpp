#pragma once
// prez-ctl's one RESP connection over plain TCP: connect, send a command, read one whole reply,
// every step bounded by a deadline. Used by every prez-ctl command (apps/prez_ctl.cpp,
// apps/ctl_snapshot_save.cpp).
#include <chrono>
#include <string>
#include <vector>

#include "actors/gateway/ctl_report.hpp"
#include "actors/gateway/resp3.hpp"

struct addrinfo;

namespace prez {

class ctl_connection {
public:
  ctl_connection() = default;
  ctl_connection(const ctl_connection&) = delete;
  ctl_connection& operator=(const ctl_connection&) = delete;
  ~ctl_connection();

  /// Connects to `endpoint` within ctl_limits::timeout_ms; returns an error text, empty on
  /// success.
  std::string open(const ctl_endpoint& endpoint);

  /// Sends `argv` as one RESP command and reads one complete reply within `timeout_ms` into
  /// `reply` (the bytes) and `parsed` (views into `reply`). Returns an error text, empty on
  /// success.
  std::string exchange(const std::vector<std::string>& argv, std::string& reply,
                       resp2_reply& parsed, int timeout_ms = ctl_limits::timeout_ms);

private:
  std::string try_connect(const addrinfo* a);
  std::string send_all(const std::string& bytes);
  /// Waits until the socket is ready for `events`; "timeout after N ms" once the deadline passed.
  std::string wait_for(short events);

  int fd_ = -1;
  int timeout_ms_ = ctl_limits::timeout_ms;
  std::chrono::steady_clock::time_point deadline_{};
};

/// Connects, authenticates when a password is given and sends `argv`. On success `reply` holds
/// the reply's bytes and `parsed` the reply (an error reply too); returns an error text otherwise.
std::string ctl_request(const ctl_endpoint& endpoint, const std::string& password,
                        const std::vector<std::string>& argv, std::string& reply,
                        resp2_reply& parsed);

/// `host:port`, IPv6 hosts in brackets.
std::string address_of(const ctl_endpoint& endpoint);

} // namespace prez
