// Typed calls to a node's HTTP/JSON API (docs/api.md) for the CLI and tests.
// Answers are parsed, never trusted: verification is custody_verifier's job.
// History answers are decoded here into typed evidence (custody_evidence.h);
// a malformed answer is an error saying what is wrong, which the verifier
// reports as a proof-failure.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/transaction.h"
#include "net/http_client.h"
#include "verify/custody_evidence.h"
#include "verify/evidence_decoding.h"

namespace chipledger {

// One node's answer to one POST /v1/transactions (docs/api.md, "Outcomes").
struct SubmitReply {
  enum class Kind {
    accepted,  // in the ledger at `index` (`duplicate`: it was there before)
    refused,   // the ledger said no (`reason`): nothing changed
    retry,     // not now (no leader, full, this client's share used): nothing done
    redirect,  // a follower: the leader is at `leader` (empty: none known)
    unknown,   // it may land: no answer after sending, or the node says so
  } kind = Kind::unknown;
  uint64_t index = 0;
  bool duplicate = false;
  std::string leader;
  std::string reason;
  int http_status = 0;  // 0: no HTTP answer
};

// One node's answer to GET /v1/transactions/TXID.
struct TxLookup {
  enum class Kind {
    accepted,   // in this node's ledger at `index`
    waiting,    // on its way through this node
    not_found,  // neither (on a follower: not applied there yet)
    no_answer,  // the node did not answer (`reason`)
  } kind = Kind::no_answer;
  uint64_t index = 0;
  Bytes tx;           // accepted: the signed transaction's bytes, as the node says
  uint64_t size = 0;  // the node's log size when it answered
  std::string reason;
};

class NodeClient {
 public:
  // `timeout` bounds each HTTP call (HttpClient); a leader the node names
  // is reached with the same timeout.
  static Result<std::unique_ptr<NodeClient>> connect_to(
      const std::string& url, std::chrono::milliseconds timeout = HttpClient::kDefaultTimeout);
  // With the client's options (an https URL needs options.tls); a leader
  // the node names is reached with the same options.
  static Result<std::unique_ptr<NodeClient>> connect_to(const std::string& url,
                                                        const HttpClientOptions& options);
  // Over a connection the caller owns and keeps alive longer than this
  // client (a benchmark's per-thread connection); `url` is where it points.
  static std::unique_ptr<NodeClient> over(HttpClient& http, std::string url);

  // Over several nodes: calls start at urls[0]; a read (GET, or a POST the
  // client marks idempotent) that gets no answer moves on to the next URL,
  // each one tried once per call, each with the options' timeout.
  static Result<std::unique_ptr<NodeClient>> connect_to(const std::vector<std::string>& urls,
                                                        const HttpClientOptions& options);

  // POST /v1/transactions to the current node, once (client/submission.h
  // follows redirects, retries and resolves unknown outcomes).
  SubmitReply submit_once(const SignedTransaction& tx);
  // GET /v1/transactions/TXID on the current node.
  TxLookup lookup(const Hash& txid);
  // Talk to `url` from now on (a leader named by a follower; added to the
  // URLs when new), or to the next of the URLs.
  Status switch_to(const std::string& url);
  void switch_to_next();
  // Each HTTP call's timeout from now on (failover included: per node).
  void set_call_timeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds call_timeout() const { return options_.timeout; }
  const std::string& url() const { return urls_[current_]; }
  size_t node_count() const { return urls_.size(); }
  // GET /v1/health: the node's own account, also when it says it cannot do
  // its job (503 with "status": stopped, no-leader, behind).
  Result<nlohmann::json> health();
  Result<std::string> ledger_id();
  // nullopt when the node says the serial is not registered (404).
  Result<std::optional<nlohmann::json>> chip(const std::string& serial);
  // The answer to GET /v1/chips/SERIAL/history: the history, or for a
  // serial the node says is not registered its 404 answer when that carries
  // a state (an absence proof; no "events"), else nullopt.
  Result<std::optional<nlohmann::json>> history(const std::string& serial,
                                                std::optional<uint64_t> size);
  // GET /v1/governance/history?size=S: the governance transactions with
  // proofs, in the form of a serial's history (decode_history with
  // kGovernanceHistory), every page fetched and merged into one answer;
  // with no governance transaction, the 404 answer with its absence proof.
  Result<std::optional<nlohmann::json>> governance_history(uint64_t size);
  // POST /v1/histories: many serials' event indices at log size `size`,
  // each event (tx, txid, proof) once (docs/api.md).
  Result<nlohmann::json> histories(const std::vector<std::string>& serials, uint64_t size);
  // GET /v1/chips/SERIAL/state?size=S: the serial's state at log size
  // `size` (decode_state_answer() makes it evidence).
  Result<nlohmann::json> state(const std::string& serial, uint64_t size);
  // GET /v1/licenses/ID; nullopt when the ledger has no such license.
  Result<std::optional<nlohmann::json>> license(const std::string& id);
  Result<std::string> checkpoint();
  // GET /v1/proofs/consistency?from=A&to=B: the proof's hashes (unchecked).
  Result<std::vector<Hash>> consistency(uint64_t from, uint64_t to);
  // GET /v1/proofs/inclusion?index=I&size=S: the proof's hashes (unchecked).
  Result<std::vector<Hash>> inclusion(uint64_t index, uint64_t size);
  Result<nlohmann::json> get_json(const std::string& target);

 private:
  NodeClient(std::unique_ptr<HttpClient> owned, HttpClient* http, std::vector<std::string> urls,
             HttpClientOptions options)
      : owned_(std::move(owned)), http_(http), urls_(std::move(urls)), options_(options) {}
  Result<std::optional<nlohmann::json>> get_optional(const std::string& target);
  Result<std::optional<nlohmann::json>> history_at(const std::string& target);
  // A read on the current node, then on the next ones while none answers.
  Result<HttpReply> read(const std::string& target, const std::string* post_body = nullptr);
  Status connect_current();
  std::unique_ptr<HttpClient> owned_;  // null when over() a caller's connection
  HttpClient* http_;
  std::vector<std::string> urls_;
  size_t current_ = 0;
  HttpClientOptions options_;
};

}  // namespace chipledger
