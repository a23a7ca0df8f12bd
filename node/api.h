// The node's HTTP/JSON API (docs/api.md) as a plain request -> response
// router over the ledger, the block sequencer and the checkpoint publisher.
// Knows nothing of sockets; node/http_server.h carries its requests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "node/admission.h"
#include "node/block_sequencer.h"
#include "node/certificate_health.h"
#include "node/checkpoint_publisher.h"
#include "node/explorer_verdict.h"
#include "node/http_types.h"
#include "node/submission_answers.h"

namespace chipledger {

class NodeMetrics;

// What the API tells about replication (from node/raft_replicator.h,
// without its headers).
struct ReplicaView {
  uint64_t raft_id = 0;
  std::string role;  // "leader", "follower", "candidate", "unavailable"
  bool leader = false;
  std::optional<std::string> leader_api_url;  // the known leader's API URL (this node's too)
  uint64_t term = 0;
  uint64_t last_applied = 0;
  uint64_t commit_index = 0;
  uint64_t ms_without_leader = 0;  // 0 while a leader is known
  unsigned election_timeout_ms = 0;
  std::string failure;  // non-empty: replication stopped, this is why
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_restored = 0;
  uint64_t skewed_blocks = 0;  // leader's blocks beyond the clock skew from this node's clock
  int64_t last_block_skew_ms = 0;
  struct Apply {  // blocks applied by this process, their transactions, the time it took
    uint64_t blocks = 0, transactions = 0, us = 0;
  } apply;
  struct Member {
    uint64_t id = 0;
    std::string address;
    std::string role;  // voter, standby, spare
  };
  std::vector<Member> members;  // the Raft configuration this node knows
  struct Transport {            // the Raft transport's connections
    bool tls = false;
    uint64_t accepted = 0, refused = 0, connected = 0, guard_closed = 0;
  } transport;
};

class Api {
 public:
  Api(const Ledger& ledger, BlockSequencer& sequencer, CheckpointPublisher& checkpoints,
      std::string node_id, std::function<ReplicaView()> replica = {})
      : ledger_(ledger),
        sequencer_(sequencer),
        checkpoints_(checkpoints),
        node_id_(std::move(node_id)),
        replica_(std::move(replica)),
        admission_(std::make_unique<Admission>(ledger)),
        verdicts_(std::make_unique<ExplorerVerdicts>(ledger, max_answer_bytes_)) {}

  void handle(HttpRequest request, Responder respond);
  // How many admitted transactions may wait for their outcome at once
  // (before any submission; default Admission::kDefaultCapacity).
  // At most `per_client` of them from one client address (0: a quarter).
  void set_max_pending(size_t n, size_t per_client = 0) {
    admission_ = std::make_unique<Admission>(ledger_, n, per_client);
  }
  // A histories answer larger than this is refused (413), not sent.
  void set_max_answer_bytes(size_t n) {
    max_answer_bytes_ = n;
    verdicts_ = std::make_unique<ExplorerVerdicts>(ledger_, n);
  }
  // Answers the verdicts still waiting (503): before the HTTP server stops.
  void close() { verdicts_->stop(); }
  // What /v1/health says about the API server's connections.
  void set_connection_stats(std::function<ConnectionStats()> fn) {
    connection_stats_ = std::move(fn);
  }
  // What /v1/health says about the node's TLS certificate (none: no TLS).
  void set_certificate_health(std::function<std::optional<CertificateHealth>()> fn) {
    certificate_health_ = std::move(fn);
  }
  // The node-to-node endpoint (POST /v1/checkpoint/signatures) answers only
  // a caller whose TLS client certificate names a node of the consortium in
  // force: 401 without one, 403 for another name (docs/tls.md). Set when the
  // API serves HTTPS.
  void require_node_certificates(bool on) { require_node_certificates_ = on; }
  // What /v1/health says about the data folder's free space (none: not said).
  void set_disk_health(std::function<DiskHealth()> fn) { disk_health_ = std::move(fn); }
  // Submissions are counted here, by outcome and reason, with their
  // latency (none: not counted). It outlives the Api.
  void set_metrics(NodeMetrics* metrics) { metrics_ = metrics; }

  // A node this many committed Raft entries behind is "behind" (health 503).
  static constexpr uint64_t kBehindEntries = 1000;
  // Governance history events per page (about 2.5 KB each with its proof).
  static constexpr size_t kGovernancePageEvents = 1000;

 private:
  void submit(const HttpRequest& request, Responder respond);
  void count(const SubmissionLabel& label,
             std::optional<std::chrono::steady_clock::time_point> arrived = std::nullopt) const;
  void submit_batch(const HttpRequest& request, Responder respond);
  // GET /v1/transactions/TXID: accepted at an index, on its way here, or
  // unknown to this node (404).
  HttpResponse transaction(const std::string& txid_hex) const;
  HttpResponse chip(const std::string& serial) const;
  HttpResponse license(const std::string& id) const;
  HttpResponse history(const std::string& serial, const std::string& query) const;
  HttpResponse state(const std::string& serial, const std::string& query) const;
  HttpResponse histories(const std::string& body) const;
  HttpResponse consistency(const std::string& query) const;
  HttpResponse inclusion(const std::string& query) const;
  std::optional<HttpResponse> refuse_size(uint64_t size) const;
  HttpResponse health() const;
  // What /v1/health reports first: "ok" (200), or "stopped", "no-leader",
  // "behind", "disk-full" (503) with the reason (docs/api.md, "Health").
  struct NodeCondition {
    std::string status;
    std::string error;
  };
  NodeCondition condition_of(const std::optional<ReplicaView>& replica) const;
  HttpResponse members() const;
  void checkpoint(const std::string& query, Responder respond) const;
  HttpResponse add_signatures(const HttpRequest& request);
  HttpResponse governance_history(const std::string& query) const;
  std::optional<HttpResponse> refuse_non_node(const HttpRequest& request) const;

  const Ledger& ledger_;
  BlockSequencer& sequencer_;
  CheckpointPublisher& checkpoints_;
  // A follower's answer to a submission: 421 with the leader's API URL, or
  // 503 while no leader is known; nullopt on the leader.
  std::optional<HttpResponse> not_leader() const;

  std::string node_id_;
  std::function<ReplicaView()> replica_;
  std::function<std::optional<CertificateHealth>()> certificate_health_;
  std::function<ConnectionStats()> connection_stats_;
  std::function<DiskHealth()> disk_health_;
  size_t max_answer_bytes_ = 64u << 20;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<ExplorerVerdicts> verdicts_;
  bool require_node_certificates_ = false;
  NodeMetrics* metrics_ = nullptr;
};

// Small helpers shared with tests.
HttpResponse json_error(int status, const std::string& message);
// The HTTP status a failure's code means (docs/api.md, "Errors"): invalid
// 400, refused 422, not_found 404, unavailable 503, io, corrupt and
// failed 500.
int http_status_of(StatusCode code);
// {"error": reason, "code": "io"} with that status (503 with Retry-After).
HttpResponse status_error(const Status& failure);

}  // namespace chipledger
