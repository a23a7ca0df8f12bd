// Builds and submits signed transactions in-process for the integration
// tests, with the dev consortium's member keys (ledger/transaction.h's
// sign_transaction). Throws std::runtime_error on local failures; safe to use
// from several threads (one HttpClient per thread).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "ledger/transaction.h"
#include "net/http_client.h"

namespace chipledger::integ {

uint64_t now_ms();

struct Author {
  Author(std::string member, const std::string& key_file);
  std::string id;
  PrivateKey key;
};

Transaction register_tx(const std::string& ledger_id, const Author& author,
                        const std::vector<std::string>& serials);
// transfer (give `to`), accept or reject of one serial whose latest event is `prev`.
Transaction move_tx(const std::string& ledger_id, const Author& author, TxType type,
                    const std::string& serial, const Hash& prev, const std::string& to = "");

SignedTransaction sign(const Transaction& tx, const Author& author);

// {"tx": "<base64 of wire>"}
std::string submit_body(ByteView wire);

struct SubmitReply {
  bool answered = false;  // false: no HTTP answer (connection refused/reset, ...)
  int status = 0;
  nlohmann::json body;  // parsed JSON body (null when not JSON)
  std::string raw;      // body text, or the client's reason when not answered
  bool accepted() const { return answered && status == 200 && body.value("accepted", false); }
  uint64_t index() const { return body.value("index", uint64_t{0}); }
  std::string error() const { return body.is_object() ? body.value("error", "") : ""; }
};

SubmitReply post_transactions(HttpClient& http, const std::string& body);
SubmitReply submit(HttpClient& http, const SignedTransaction& stx);

}  // namespace chipledger::integ
