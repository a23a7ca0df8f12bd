// Typed calls to a node's HTTP/JSON API (docs/api.md) for the CLI and tests.
// Answers are parsed, never trusted: verification is custody_verifier's job.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "ledger/transaction.h"

namespace chipledger {

struct SubmitResult {
  bool accepted = false;
  uint64_t index = 0;
  std::string txid;
  std::string error;  // the node's reason when refused
};

class NodeClient {
 public:
  static Result<std::unique_ptr<NodeClient>> connect_to(const std::string& url);
  // Over a connection the caller owns and keeps alive longer than this
  // client (a benchmark's per-thread connection); `url` is where it points.
  static std::unique_ptr<NodeClient> over(HttpClient& http, std::string url);

  Result<SubmitResult> submit(const SignedTransaction& tx);
  Result<std::string> ledger_id();
  // nullopt when the node says the serial is not registered (404).
  Result<std::optional<nlohmann::json>> chip(const std::string& serial);
  Result<std::optional<nlohmann::json>> history(const std::string& serial,
                                                std::optional<uint64_t> size);
  // POST /v1/histories: many serials' event indices at log size `size`,
  // each event (tx, txid, proof) once (docs/api.md).
  Result<nlohmann::json> histories(const std::vector<std::string>& serials, uint64_t size);
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
