#include "node/node_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <mutex>
#include <vector>

namespace chipledger {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

// Routes of docs/api.md; a path that matches none is "other".
struct RoutePattern {
  std::array<std::string_view, 4> parts;  // "*": any one segment
  size_t n;
  std::string_view label;
};
constexpr RoutePattern kRoutes[] = {
    {{"v1", "transactions"}, 2, "/v1/transactions"},
    {{"v1", "transactions", "batch"}, 3, "/v1/transactions/batch"},
    {{"v1", "transactions", "*"}, 3, "/v1/transactions/{txid}"},
    {{"v1", "histories"}, 2, "/v1/histories"},
    {{"v1", "checkpoint", "signatures"}, 3, "/v1/checkpoint/signatures"},
    {{"v1", "checkpoint"}, 2, "/v1/checkpoint"},
    {{"v1", "health"}, 2, "/v1/health"},
    {{"v1", "members"}, 2, "/v1/members"},
    {{"v1", "chips", "*"}, 3, "/v1/chips/{serial}"},
    {{"v1", "chips", "*", "history"}, 4, "/v1/chips/{serial}/history"},
    {{"v1", "chips", "*", "state"}, 4, "/v1/chips/{serial}/state"},
    {{"v1", "chips", "*", "verdict"}, 4, "/v1/chips/{serial}/verdict"},
    {{"v1", "proofs", "inclusion"}, 3, "/v1/proofs/inclusion"},
    {{"v1", "proofs", "consistency"}, 3, "/v1/proofs/consistency"},
    {{"v1", "licenses", "*"}, 3, "/v1/licenses/{id}"},
    {{"v1", "governance"}, 2, "/v1/governance"},
    {{"v1", "governance", "proposals"}, 3, "/v1/governance/proposals"},
    {{"v1", "governance", "history"}, 3, "/v1/governance/history"},
    {{"v1", "admin", "backup"}, 3, "/v1/admin/backup"},
    {{"metrics"}, 1, "/metrics"},
    {{"explorer", "*"}, 2, "/explorer/{file}"},
};

std::string_view method_label(std::string_view m) {
  for (std::string_view known : {"GET", "POST", "HEAD", "PUT", "DELETE"}) {
    if (m == known) return known;
  }
  return "other";
}

// Histogram buckets, in seconds.
Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}
Histogram::BucketBoundaries count_buckets() {
  return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000};
}

double seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

}  // namespace

// A cumulative value the node keeps itself (Raft's snapshot counts, the
// connections refused), exposed as a counter that grows, at each scrape,
// by what the value grew since the last one.
struct SampledCounter {
  Counter* counter = nullptr;
  double last = 0;
  void advance(double now) {
    if (now > last) counter->Increment(now - last);
    last = now;
  }
};

struct NodeMetrics::Impl {
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();

  Family<Counter>& family_counter(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry);
  }
  Family<Gauge>& family_gauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry);
  }
  Family<Histogram>& family_histogram(const std::string& name, const std::string& help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry);
  }
  Gauge& gauge(const std::string& name, const std::string& help) {
    return family_gauge(name, help).Add({});
  }

  Family<Counter>& http = family_counter("chipledger_http_requests_total",
                                         "HTTP requests answered, by route, method and status");
  Family<Counter>& submissions =
      family_counter("chipledger_submissions_total",
                     "Submitted transactions by outcome (accepted, refused, unknown) and reason");
  Histogram& submit_latency =
      family_histogram("chipledger_submit_latency_seconds",
                       "From an admitted submission's arrival to its answer")
          .Add({}, latency_buckets());
  Histogram& block_apply =
      family_histogram("chipledger_block_apply_seconds",
                       "Time to apply one block: rules, state map, synced write")
          .Add({}, latency_buckets());
  Histogram& block_txs =
      family_histogram("chipledger_block_transactions", "Transactions per applied block")
          .Add({}, count_buckets());
  Histogram& block_serials = family_histogram("chipledger_block_serials",
                                              "Serials whose record changed, per applied block")
                                 .Add({}, count_buckets());

  Family<Gauge>& role =
      family_gauge("chipledger_raft_role",
                   "1 for this node's Raft role (leader, follower, candidate, unavailable)");
  Gauge& term = gauge("chipledger_raft_term", "The Raft term this node is in");
  Gauge& commit = gauge("chipledger_raft_commit_index", "The last Raft index known committed");
  Gauge& applied = gauge("chipledger_raft_applied_index", "The last Raft index this node applied");
  Gauge& log_size = gauge("chipledger_log_size", "Transactions in the ledger's log");
  Gauge& cp_size = gauge("chipledger_checkpoint_size", "The log size of this node's checkpoint");
  Gauge& cp_age = gauge("chipledger_checkpoint_age_seconds",
                        "Seconds since the checkpoint's quorum-th newest signature");
  Gauge& cp_cosigners = gauge("chipledger_checkpoint_cosigners",
                              "Nodes whose signatures this node's checkpoint carries");
  Gauge& cp_quorum = gauge("chipledger_checkpoint_quorum",
                           "Signatures a checkpoint needs (the consortium in force)");
  Gauge& db_bytes =
      gauge("chipledger_data_bytes", "Bytes on disk in the data folder (RocksDB and the Raft log)");
  Gauge& disk_free = gauge("chipledger_disk_free_bytes", "Free bytes of the data folder's disk");
  Gauge& connections = gauge("chipledger_http_open_connections", "Open API connections");

  SampledCounter leader_changes{&family_counter("chipledger_raft_leader_changes_total",
                                                "Times a new Raft leader became known")
                                     .Add({})};
  Family<Counter>& snapshots_family =
      family_counter("chipledger_raft_snapshots_total", "Raft snapshots taken or restored");
  Family<Counter>& snapshot_seconds_family = family_counter(
      "chipledger_raft_snapshot_seconds_total", "Time spent taking or restoring Raft snapshots");
  SampledCounter snapshots_taken{&snapshots_family.Add({{"kind", "taken"}})};
  SampledCounter snapshots_restored{&snapshots_family.Add({{"kind", "restored"}})};
  SampledCounter snapshot_taken_s{&snapshot_seconds_family.Add({{"kind", "taken"}})};
  SampledCounter snapshot_restored_s{&snapshot_seconds_family.Add({{"kind", "restored"}})};
  Family<Counter>& connections_family =
      family_counter("chipledger_http_connections_closed_total",
                     "API connections refused over a cap or closed at a deadline");
  SampledCounter refused{&connections_family.Add({{"why", "refused"}})};
  SampledCounter timed_out{&connections_family.Add({{"why", "timed_out"}})};

  std::mutex scrape_mu;  // one scrape at a time: the sampled counters' `last`
};

NodeMetrics::NodeMetrics() : impl_(std::make_unique<Impl>()) {}
NodeMetrics::~NodeMetrics() = default;

std::string_view metrics_route(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::array<std::string_view, 5> parts{};
  size_t n = 0;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    if (n == parts.size()) return "other";
    parts[n++] = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  for (const auto& r : kRoutes) {
    if (r.n != n) continue;
    bool match = true;
    for (size_t i = 0; i < n && match; ++i) match = r.parts[i] == "*" || r.parts[i] == parts[i];
    if (match) return r.label;
  }
  return "other";
}

void NodeMetrics::http_request(std::string_view method, std::string_view target, int status) {
  impl_->http
      .Add({{"route", std::string(metrics_route(target))},
            {"method", std::string(method_label(method))},
            {"status", std::to_string(status)}})
      .Increment();
}

void NodeMetrics::submission(std::string_view outcome, std::string_view reason) {
  impl_->submissions.Add({{"outcome", std::string(outcome)}, {"reason", std::string(reason)}})
      .Increment();
}

void NodeMetrics::submit_latency(std::chrono::microseconds took) {
  impl_->submit_latency.Observe(seconds(took));
}

void NodeMetrics::block_applied(size_t transactions, size_t serials,
                                std::chrono::microseconds took) {
  impl_->block_apply.Observe(seconds(took));
  impl_->block_txs.Observe(static_cast<double>(transactions));
  impl_->block_serials.Observe(static_cast<double>(serials));
}

std::string NodeMetrics::render(const MetricsSample& now) {
  Impl& m = *impl_;
  std::lock_guard lock(m.scrape_mu);
  for (std::string_view r : {"leader", "follower", "candidate", "unavailable"}) {
    m.role.Add({{"role", std::string(r)}}).Set(now.raft_role == r ? 1 : 0);
  }
  m.term.Set(static_cast<double>(now.raft_term));
  m.commit.Set(static_cast<double>(now.raft_commit_index));
  m.applied.Set(static_cast<double>(now.raft_applied_index));
  m.log_size.Set(static_cast<double>(now.log_size));
  m.cp_size.Set(static_cast<double>(now.checkpoint_size));
  m.cp_age.Set(now.checkpoint_age_seconds);
  m.cp_cosigners.Set(static_cast<double>(now.checkpoint_cosigners));
  m.cp_quorum.Set(static_cast<double>(now.checkpoint_quorum));
  m.db_bytes.Set(static_cast<double>(now.db_bytes));
  m.disk_free.Set(static_cast<double>(now.disk_free_bytes));
  m.connections.Set(static_cast<double>(now.open_connections));
  m.leader_changes.advance(static_cast<double>(now.raft_leader_changes));
  m.snapshots_taken.advance(static_cast<double>(now.snapshots_taken));
  m.snapshots_restored.advance(static_cast<double>(now.snapshots_restored));
  m.snapshot_taken_s.advance(static_cast<double>(now.snapshot_taken_ms) / 1000.0);
  m.snapshot_restored_s.advance(static_cast<double>(now.snapshot_restored_ms) / 1000.0);
  m.refused.advance(static_cast<double>(now.connections_refused));
  m.timed_out.advance(static_cast<double>(now.connections_timed_out));
  return prometheus::TextSerializer().Serialize(m.registry->Collect());
}

}  // namespace chipledger
