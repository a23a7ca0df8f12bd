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

#include "client/custody_evidence.h"
#include "client/evidence_decoding.h"
#include "ledger/transaction.h"
#include "net/http_client.h"

namespace chipledger {

struct SubmitResult {
  bool accepted = false;
  uint64_t index = 0;
  std::string txid;
  std::string error;  // the node's reason when refused
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

  Result<SubmitResult> submit(const SignedTransaction& tx);
  Result<std::string> ledger_id();
  // nullopt when the node says the serial is not registered (404).
  Result<std::optional<nlohmann::json>> chip(const std::string& serial);
  // The answer to GET /v1/chips/SERIAL/history: the history, or for a
  // serial the node says is not registered its 404 answer when that carries
  // a state (an absence proof; no "events"), else nullopt.
  Result<std::optional<nlohmann::json>> history(const std::string& serial,
                                                std::optional<uint64_t> size);
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
  NodeClient(std::unique_ptr<HttpClient> owned, HttpClient* http, std::string url)
      : owned_(std::move(owned)), http_(http), url_(std::move(url)) {}
  Result<std::optional<nlohmann::json>> get_optional(const std::string& target);
  std::unique_ptr<HttpClient> owned_;  // null when over() a caller's connection
  HttpClient* http_;
  std::string url_;
};

std::string percent_encode_serial(std::string_view serial);

}  // namespace chipledger
