#include "node/connection_governor.h"

namespace chipledger {

ConnectionGovernor::ConnectionGovernor(Limits limits) : limits_(limits) {
  if (limits_.max_connections == 0) limits_.max_connections = 1;
  if (limits_.max_per_address == 0) limits_.max_per_address = 1;
}

std::optional<uint64_t> ConnectionGovernor::oldest_waiting(const Waiting& waiting) const {
  if (waiting.empty()) return std::nullopt;
  return waiting.begin()->second;
}

ConnectionGovernor::Decision ConnectionGovernor::open(const std::string& address, uint64_t now_ms) {
  Decision d;
  auto at = addresses_.find(address);
  if (at != addresses_.end() && at->second.open >= limits_.max_per_address) {
    d.evict = oldest_waiting(at->second.waiting);
    if (!d.evict) {
      ++stats_.refused_address_full;
      d.outcome = Outcome::address_full;
      return d;
    }
  } else if (connections_.size() >= limits_.max_connections) {
    d.evict = oldest_waiting(waiting_);
    if (!d.evict) {
      ++stats_.refused_server_full;
      d.outcome = Outcome::server_full;
      return d;
    }
  }
  if (d.evict) {
    remove(*d.evict);
    ++stats_.evicted;
  }
  d.id = next_id_++;
  connections_.emplace(d.id, Connection{address, now_ms});
  Address& books = addresses_[address];
  ++books.open;
  books.waiting.emplace(now_ms, d.id);
  waiting_.emplace(now_ms, d.id);
  ++stats_.admitted;
  return d;
}

void ConnectionGovernor::set_waiting(uint64_t id, bool waiting, uint64_t now_ms) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  Address& books = addresses_[c.address];
  if (c.waiting_since_ms) {
    books.waiting.erase({*c.waiting_since_ms, id});
    waiting_.erase({*c.waiting_since_ms, id});
    c.waiting_since_ms.reset();
  }
  if (waiting) {
    c.waiting_since_ms = now_ms;
    books.waiting.emplace(now_ms, id);
    waiting_.emplace(now_ms, id);
  }
}

void ConnectionGovernor::close(uint64_t id) { remove(id); }

void ConnectionGovernor::remove(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  set_waiting(id, false, 0);
  auto at = addresses_.find(it->second.address);
  if (at != addresses_.end() && --at->second.open == 0) addresses_.erase(at);
  connections_.erase(it);
}

ConnectionGovernor::Stats ConnectionGovernor::stats() const {
  Stats s = stats_;
  s.open = connections_.size();
  s.waiting = waiting_.size();
  return s;
}

}  // namespace chipledger
