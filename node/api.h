// The node's HTTP/JSON API (docs/api.md) as a plain request -> response
// router over the ledger, the block sequencer and the checkpoint publisher.
// Knows nothing of sockets; node/http_server.h carries its requests.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ledger/ledger.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "node/http_types.h"

namespace chipledger {

// What the API tells about replication (from node/raft_replicator.h,
// without its headers).
struct ReplicaView {
  uint64_t raft_id = 0;
  std::string role;  // "leader", "follower", "candidate", "unavailable"
  bool leader = false;
  std::optional<std::string> leader_api_url;  // the known leader's API URL (this node's too)
  uint64_t term = 0;
  uint64_t last_applied = 0;
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_restored = 0;
};

class Api {
 public:
  Api(const Ledger& ledger, BlockSequencer& sequencer, CheckpointPublisher& checkpoints,
      std::string node_id, std::function<ReplicaView()> replica = {})
      : ledger_(ledger),
        sequencer_(sequencer),
        checkpoints_(checkpoints),
        node_id_(std::move(node_id)),
        replica_(std::move(replica)) {}

  void handle(HttpRequest request, Responder respond);

 private:
  void submit(const HttpRequest& request, Responder respond);
  HttpResponse chip(const std::string& serial) const;
  HttpResponse license(const std::string& id) const;
  HttpResponse history(const std::string& serial, const std::string& query) const;
  HttpResponse consistency(const std::string& query) const;
  HttpResponse health() const;
  HttpResponse members() const;
  void checkpoint(const std::string& query, Responder respond) const;
  HttpResponse add_signatures(const HttpRequest& request);

  const Ledger& ledger_;
  BlockSequencer& sequencer_;
  CheckpointPublisher& checkpoints_;
  // A follower's answer to a submission: 421 with the leader's API URL, or
  // 503 while no leader is known; nullopt on the leader.
  std::optional<HttpResponse> not_leader() const;

  std::string node_id_;
  std::function<ReplicaView()> replica_;
};

// Small helpers shared with tests.
HttpResponse json_error(int status, const std::string& message);
Result<std::string> percent_decode(std::string_view s);

}  // namespace chipledger
