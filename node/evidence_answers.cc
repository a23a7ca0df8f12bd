#include "node/evidence_answers.h"

#include <nlohmann/json.hpp>

#include "ledger/transaction_json.h"

namespace chipledger {
namespace {

using nlohmann::json;

json hashes(const std::vector<Hash>& hs) {
  json out = json::array();
  for (const auto& h : hs) out.push_back(hex_encode(h));
  return out;
}

void append_hashes(std::string& out, const std::vector<Hash>& hs) {
  out += '[';
  for (size_t k = 0; k < hs.size(); ++k) {
    if (k > 0) out += ',';
    out += '"';
    out += hex_encode(hs[k]);
    out += '"';
  }
  out += ']';
}

HttpResponse error_500(const std::string& reason) {
  return HttpResponse{500, "application/json", json{{"error", reason}}.dump()};
}

// A serial's state at an answer's size (docs/api.md, "State proofs"): its
// record's encoding (base64; null when not registered then) and the state
// map's proof (hex of StateProof::encode()).
json state_json(const StateAnswer& state) {
  return json{{"record", state.record ? json(base64_encode(as_bytes(*state.record))) : json()},
              {"proof", hex_encode(state.proof.encode())}};
}

// An attestation's consistency proof (docs/api.md, "Attestations"): from
// the checkpoint its chips signed to the answer's `size`. Every stored
// attestation names a checkpoint the ledger had before it, so the attested
// size is at most the event's index, below `size`.
Result<std::vector<Hash>> attested_consistency(const Ledger& ledger, const Transaction& tx,
                                               uint64_t size) {
  return ledger.consistency_proof(tx.checkpoint_size, size);
}

}  // namespace

HttpResponse history_answer(const Ledger& ledger, const std::string& serial, uint64_t size) {
  auto indices = ledger.history(serial, size);
  if (!indices) return error_500(indices.reason());
  auto state = ledger.state_proof(serial, size);
  if (!state) return error_500(state.reason());
  if (indices->empty()) {
    // Not registered at that size, and the state map's absence proof says so.
    json body{{"error", "serial " + serial + " has no events in the first " + std::to_string(size) +
                            " log entries"},
              {"size", size},
              {"state", state_json(*state)}};
    return HttpResponse{404, "application/json", body.dump()};
  }
  auto root = ledger.root_at(size);
  if (!root) return error_500(root.reason());
  // Each event decoded and rendered once for many requests (a pallet's
  // register is in every one of its serials' histories). The answer is
  // assembled as text in exactly the bytes json::dump() gives for
  // {"events":[{"consistency":[C...],"event":V,"index":I,"proof":[P...],
  //  "tx":T,"txid":H}...],"root":R,"serial":S,"size":N,"state":X} (keys in
  // std::map order, no spaces; "consistency" only for an attestation); hex,
  // base64 and decimal need no escaping, the serial goes through dump().
  auto views = ledger.event_views(*indices);
  if (!views) return error_500(views.reason());
  std::string body = "{\"events\":[";
  for (size_t i = 0; i < indices->size(); ++i) {
    const uint64_t index = (*indices)[i];
    const Ledger::EventView& view = *(*views)[i];
    auto proof = ledger.inclusion_proof(index, size);
    if (!proof) return error_500(proof.reason());
    body += i > 0 ? ",{" : "{";
    if (view.tx.tx.type == TxType::attest) {
      auto consistency = attested_consistency(ledger, view.tx.tx, size);
      if (!consistency) return error_500(consistency.reason());
      body += "\"consistency\":";
      append_hashes(body, *consistency);
      body += ',';
    }
    body += "\"event\":";
    body += view.view_json;
    body += ",\"index\":";
    body += std::to_string(index);
    body += ",\"proof\":";
    append_hashes(body, *proof);
    body += ",\"tx\":\"";
    body += view.tx_base64;
    body += "\",\"txid\":\"";
    body += hex_encode(view.tx.txid);
    body += "\"}";
  }
  body += "],\"root\":\"";
  body += hex_encode(*root);
  body += "\",\"serial\":";
  body += json(serial).dump();
  body += ",\"size\":";
  body += std::to_string(size);
  body += ",\"state\":";
  body += state_json(*state).dump();
  body += '}';
  return HttpResponse{200, "application/json", std::move(body)};
}

HttpResponse histories_answer(const Ledger& ledger, const std::vector<std::string>& serials,
                              uint64_t size) {
  json histories = json::object();
  json events = json::object();
  json states = json::object();
  for (const auto& serial : serials) {
    auto indices = ledger.history(serial, size);
    if (!indices) return error_500(indices.reason());
    histories[serial] = indices->empty() ? json() : json(*indices);
    auto state = ledger.state_proof(serial, size);
    if (!state) return error_500(state.reason());
    states[serial] = state_json(*state);
    // Events not given yet (a pallet's register is shared by its serials),
    // read together; only their id is needed from them, and the checkpoint
    // an attestation names: no decode of the others.
    std::vector<uint64_t> fresh;
    for (uint64_t index : *indices) {
      if (!events.contains(std::to_string(index))) fresh.push_back(index);
    }
    if (fresh.empty()) continue;
    auto wires = ledger.events(fresh);
    if (!wires) return error_500(wires.reason());
    for (size_t i = 0; i < fresh.size(); ++i) {
      std::string key = std::to_string(fresh[i]);
      const Bytes& wire = (*wires)[i];
      auto txid = SignedTransaction::txid_of_wire(wire);
      if (!txid) return error_500("stored event " + key + ": " + txid.reason());
      auto proof = ledger.inclusion_proof(fresh[i], size);
      if (!proof) return error_500(proof.reason());
      json entry{
          {"txid", hex_encode(*txid)}, {"tx", base64_encode(wire)}, {"proof", hashes(*proof)}};
      if (SignedTransaction::type_of_wire(wire) == TxType::attest) {
        auto stx = SignedTransaction::decode(wire);
        if (!stx) return error_500("stored event " + key + ": " + stx.reason());
        auto consistency = attested_consistency(ledger, stx->tx, size);
        if (!consistency) return error_500(consistency.reason());
        entry["consistency"] = hashes(*consistency);
      }
      events[key] = std::move(entry);
    }
  }
  auto root = ledger.root_at(size);
  if (!root) return error_500(root.reason());
  json body{{"size", size},
            {"root", hex_encode(*root)},
            {"histories", std::move(histories)},
            {"states", std::move(states)},
            {"events", std::move(events)}};
  return HttpResponse{200, "application/json", body.dump()};
}

HttpResponse state_answer(const Ledger& ledger, const std::string& serial, uint64_t size) {
  auto state = ledger.state_proof(serial, size);
  if (!state) return error_500(state.reason());
  json body{{"serial", serial}, {"size", size}, {"state", state_json(*state)}};
  return HttpResponse{200, "application/json", body.dump()};
}

}  // namespace chipledger
