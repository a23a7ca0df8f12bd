// Test helper (header-only): the reference rendering of the evidence
// answers of docs/api.md, built from a Ledger one read at a time with
// nlohmann::json, independently of node/evidence_answers.cc (which
// assembles the same answers as text, from caches): the node's answers must
// equal these.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/transaction_json.h"
#include "tests/node/test_consortium.h"

namespace chipledger::testing::reference {

inline nlohmann::json hashes(const std::vector<Hash>& hs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : hs) out.push_back(hex_encode(h));
  return out;
}

inline nlohmann::json state_json(const Ledger& ledger, const std::string& serial, uint64_t size) {
  using nlohmann::json;
  auto state = must(ledger.state_proof(serial, size));
  return json{{"record", state.record ? json(base64_encode(as_bytes(*state.record))) : json()},
              {"proof", hex_encode(state.proof.encode())}};
}

// An event entry: txid, tx, inclusion proof, and for an attestation the
// consistency proof from the checkpoint its chips signed.
inline nlohmann::json event_json(const Ledger& ledger, uint64_t index, uint64_t size) {
  Bytes wire = must(ledger.event(index));
  auto stx = must(SignedTransaction::decode(wire));
  nlohmann::json e{{"txid", hex_encode(stx.txid)},
                   {"tx", base64_encode(wire)},
                   {"proof", hashes(must(ledger.inclusion_proof(index, size)))}};
  if (stx.tx.type == TxType::attest) {
    e["consistency"] = hashes(must(ledger.consistency_proof(stx.tx.checkpoint_size, size)));
  }
  return e;
}

// GET /v1/chips/SERIAL/history?size=S (for a serial with no events, the
// 404 answer with its absence proof).
inline nlohmann::json history_json(const Ledger& ledger, const std::string& serial, uint64_t size) {
  using nlohmann::json;
  auto indices = must(ledger.history(serial, size));
  if (indices.empty()) {
    return json{{"error", "serial " + serial + " has no events in the first " +
                              std::to_string(size) + " log entries"},
                {"size", size},
                {"state", state_json(ledger, serial, size)}};
  }
  json events = json::array();
  for (uint64_t index : indices) {
    json e = event_json(ledger, index, size);
    e["index"] = index;
    e["event"] = transaction_view(must(SignedTransaction::decode(must(ledger.event(index)))).tx);
    events.push_back(std::move(e));
  }
  return json{{"serial", serial},
              {"size", size},
              {"root", hex_encode(must(ledger.root_at(size)))},
              {"events", events},
              {"state", state_json(ledger, serial, size)}};
}

// POST /v1/histories for `serials` at `size`.
inline nlohmann::json histories_json(const Ledger& ledger, const std::vector<std::string>& serials,
                                     uint64_t size) {
  using nlohmann::json;
  json histories = json::object();
  json events = json::object();
  json states = json::object();
  for (const auto& serial : serials) {
    auto indices = must(ledger.history(serial, size));
    histories[serial] = indices.empty() ? json() : json(indices);
    states[serial] = state_json(ledger, serial, size);
    for (uint64_t index : indices) {
      std::string key = std::to_string(index);
      if (!events.contains(key)) events[key] = event_json(ledger, index, size);
    }
  }
  return json{{"size", size},
              {"root", hex_encode(must(ledger.root_at(size)))},
              {"histories", histories},
              {"states", states},
              {"events", events}};
}

}  // namespace chipledger::testing::reference
