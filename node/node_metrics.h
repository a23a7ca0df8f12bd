// The node's Prometheus metrics (docs/metrics.md): counters and histograms
// the node's parts record into as things happen, and gauges read from a
// sample of the node's state when GET /metrics is scraped, rendered in the
// text exposition format 0.0.4. Thread-safe: any thread records; labels
// come from fixed sets (routes, outcomes, reasons), never from a request's
// own text, so a stranger cannot grow the label space. prometheus-cpp's
// headers stay in node_metrics.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chipledger {

// What the node is at the moment of a scrape.
struct MetricsSample {
  std::string raft_role;  // "leader", "follower", "candidate", "unavailable"
  uint64_t raft_term = 0, raft_commit_index = 0, raft_applied_index = 0;
  uint64_t raft_leader_changes = 0;
  uint64_t snapshots_taken = 0, snapshots_restored = 0;
  uint64_t snapshot_taken_ms = 0, snapshot_restored_ms = 0;
  uint64_t log_size = 0;  // the ledger's transactions
  uint64_t checkpoint_size = 0;
  // since the checkpoint's quorum-th newest signature (what clients judge
  // freshness by); since 1970 when it has no quorum
  double checkpoint_age_seconds = 0;
  uint64_t checkpoint_cosigners = 0;  // nodes whose signatures the checkpoint carries
  uint64_t checkpoint_quorum = 0;
  uint64_t db_bytes = 0;  // the data folder on disk (RocksDB and the Raft log)
  uint64_t disk_free_bytes = 0;
  uint64_t open_connections = 0;
  uint64_t connections_refused = 0, connections_timed_out = 0;
};

class NodeMetrics {
 public:
  NodeMetrics();
  ~NodeMetrics();
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // One answered HTTP request: its route (metrics_route) and status.
  void http_request(std::string_view method, std::string_view target, int status);
  // One submission's outcome ("accepted", "refused", "unknown") and why,
  // from submission_answers' fixed set ("rules", "arrival", "full", ...).
  void submission(std::string_view outcome, std::string_view reason);
  // From a submission's arrival to its answer.
  void submit_latency(std::chrono::microseconds took);
  // One block this process applied.
  void block_applied(size_t transactions, size_t serials, std::chrono::microseconds took);

  // The exposition: every family, with the gauges set from `now`.
  std::string render(const MetricsSample& now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The route label of a request target: its path with the variable segment
// named ("/v1/chips/{serial}/history"), "other" for anything unknown.
std::string_view metrics_route(std::string_view target);

}  // namespace chipledger
