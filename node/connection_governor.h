// Which connections the API server keeps (docs/api.md, "Limits"): at most
// `max_connections` open in all and `max_per_address` from one client
// address. When the server (or the address) is full, the connection that
// has waited longest for a request (an idle keep-alive connection, a slow
// TLS handshake or a header still arriving) gives way to the new one; with
// none waiting, the new one is refused. So connections that only wait, a
// stranger's idle sockets or a slowloris, cannot lock out a client that has
// a request to make: they hold only the slots nobody else wants.
// Bookkeeping over ids and clock readings, no sockets; not thread-safe (the
// server holds a lock around it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

namespace chipledger {

class ConnectionGovernor {
 public:
  struct Limits {
    size_t max_connections = 1024;
    size_t max_per_address = 128;
  };
  enum class Outcome {
    admitted,      // `id` is open (and `evict`, if set, must be closed now)
    server_full,   // max_connections open, none of them waiting
    address_full,  // max_per_address open from this address, none waiting
  };
  struct Decision {
    Outcome outcome = Outcome::admitted;
    uint64_t id = 0;                // admitted: the connection's id
    std::optional<uint64_t> evict;  // admitted: close this connection to make room
  };
  struct Stats {
    size_t open = 0;
    size_t waiting = 0;
    uint64_t admitted = 0;
    uint64_t refused_server_full = 0;
    uint64_t refused_address_full = 0;
    uint64_t evicted = 0;
  };

  explicit ConnectionGovernor(Limits limits);

  // A new connection from `address`; it counts as waiting for a request
  // from `now_ms` on. An evicted connection no longer counts from here.
  Decision open(const std::string& address, uint64_t now_ms);
  // The connection waits for a request (true) or has one (false: a header
  // arrived; it is reading the body, being answered or writing).
  void set_waiting(uint64_t id, bool waiting, uint64_t now_ms);
  // Closed (or evicted: then nothing happens).
  void close(uint64_t id);

  Stats stats() const;
  const Limits& limits() const { return limits_; }

 private:
  using Waiting = std::set<std::pair<uint64_t, uint64_t>>;  // (since_ms, id)
  struct Connection {
    std::string address;
    std::optional<uint64_t> waiting_since_ms;
  };
  struct Address {
    size_t open = 0;
    Waiting waiting;
  };

  void remove(uint64_t id);
  std::optional<uint64_t> oldest_waiting(const Waiting& waiting) const;

  Limits limits_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Connection> connections_;
  std::unordered_map<std::string, Address> addresses_;
  Waiting waiting_;
  Stats stats_;
};

}  // namespace chipledger
