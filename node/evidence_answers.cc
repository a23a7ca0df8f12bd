#include "node/evidence_answers.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_set>

#include "ledger/transaction_json.h"

namespace chipledger {
namespace {

using nlohmann::json;

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
// map's proof (hex of StateProof::encode()). As text, in the bytes json::dump() gives:
// {"proof":P,"record":R|null}.
std::string state_json(const StateAnswer& state) {
  std::string out = "{\"proof\":\"";
  out += hex_encode(state.proof.encode());
  out += "\",\"record\":";
  if (state.record) {
    out += '"';
    out += base64_encode(as_bytes(*state.record));
    out += '"';
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

// `"serial":S,"size":N,"state":X}`: how both single-serial answers end
// (the serial through dump() for its escaping).
void append_serial_tail(std::string& body, const std::string& serial, uint64_t size,
                        const StateAnswer& state) {
  body += "\"serial\":";
  body += json(serial).dump();
  body += ",\"size\":";
  body += std::to_string(size);
  body += ",\"state\":";
  body += state_json(state);
  body += '}';
}

// An attestation's consistency proof (docs/api.md, "Attestations"): from
// the checkpoint its chips signed to the answer's `size`. Every stored
// attestation names a checkpoint the ledger had before it, so the attested
// size is at most the event's index, below `size`.
Result<std::vector<Hash>> attested_consistency(const Ledger& ledger, const Transaction& tx,
                                               uint64_t size) {
  return ledger.consistency_proof(tx.checkpoint_size, size);
}

HttpResponse answer_too_large(size_t max_bytes, const char* advice) {
  json body{{"error", "the answer would be over " + std::to_string(max_bytes) +
                          " bytes (the node's [api] max_answer_bytes); " + advice}};
  return HttpResponse{413, "application/json", body.dump()};
}

}  // namespace

HttpResponse history_answer(const Ledger& ledger, const std::string& serial, uint64_t size,
                            size_t max_bytes, const HistoryPage& page) {
  auto indices = ledger.history(serial, size);
  if (!indices) return error_500(indices.reason());
  const bool had_events = !indices->empty();
  if (page.after) std::erase_if(*indices, [&](uint64_t i) { return i <= *page.after; });
  std::optional<uint64_t> next;  // the page's last index, when more follow
  if (indices->size() > page.max_events) {
    indices->resize(page.max_events);
    next = indices->back();
  }
  auto state = ledger.state_proof(serial, size);
  if (!state) return error_500(state.reason());
  if (!had_events) {
    // Not registered at that size, and the state map's absence proof says so.
    json body{{"error", "serial " + serial + " has no events in the first " + std::to_string(size) +
                            " log entries"},
              {"size", size},
              {"state", json::parse(state_json(*state))}};
    return HttpResponse{404, "application/json", body.dump()};
  }
  auto root = ledger.root_at(size);
  if (!root) return error_500(root.reason());
  // Each event decoded and rendered once for many requests (a pallet's
  // register is in every one of its serials' histories). The answer is
  // assembled as text in exactly the bytes json::dump() gives for
  // {"events":[{"consistency":[C...],"event":V,"index":I,"proof":[P...],
  //  "tx":T,"txid":H}...],"next":I,"root":R,"serial":S,"size":N,"state":X}
  // ("next" only on a page that more follow; keys in
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
    if (body.size() > max_bytes) {
      return answer_too_large(max_bytes, "this serial's history is larger than the node serves");
    }
    // A page also ends at half the byte limit (the rest of the answer is
    // small): big events make shorter pages, never a 413.
    if (page.max_events != SIZE_MAX && i + 1 < indices->size() && body.size() > max_bytes / 2) {
      next = index;
      break;
    }
  }
  body += "],";
  if (next) body += "\"next\":" + std::to_string(*next) + ",";
  body += "\"root\":\"";
  body += hex_encode(*root);
  body += "\",";
  append_serial_tail(body, serial, size, *state);
  return HttpResponse{200, "application/json", std::move(body)};
}

// Assembled as text, like history_answer (the answer is the node's largest:
// a rack of 200 serials with two events and a state proof each), in exactly
// the bytes json::dump() gives for {"events":{"I":{"consistency":[C...],
// "proof":[P...],"tx":T,"txid":H},...},"histories":{S:[I...]|null,...},
// "root":R,"size":N,"states":{S:X,...}} except that events and serials are
// in the order first met (json::dump() sorts object keys).
HttpResponse histories_answer(const Ledger& ledger, const std::vector<std::string>& serials,
                              uint64_t size, size_t max_bytes) {
  std::string events, histories, states;
  std::unordered_set<uint64_t> given;
  std::unordered_set<std::string_view> listed;
  for (const auto& serial : serials) {
    if (!listed.insert(serial).second) continue;  // named twice: answered once
    auto indices = ledger.history(serial, size);
    if (!indices) return error_500(indices.reason());
    auto state = ledger.state_proof(serial, size);
    if (!state) return error_500(state.reason());
    const std::string key = json(serial).dump();
    histories += histories.empty() ? "" : ",";
    histories += key;
    histories += ':';
    if (indices->empty()) {
      histories += "null";
    } else {
      histories += '[';
      for (size_t k = 0; k < indices->size(); ++k) {
        if (k > 0) histories += ',';
        histories += std::to_string((*indices)[k]);
      }
      histories += ']';
    }
    states += states.empty() ? "" : ",";
    states += key;
    states += ':';
    states += state_json(*state);
    // Events not given yet (a pallet's register is shared by its serials),
    // read together; only their id is needed from them, and the checkpoint
    // an attestation names: no decode of the others.
    std::vector<uint64_t> fresh;
    for (uint64_t index : *indices) {
      if (given.insert(index).second) fresh.push_back(index);
    }
    if (fresh.empty()) continue;
    auto wires = ledger.events(fresh);
    if (!wires) return error_500(wires.reason());
    for (size_t i = 0; i < fresh.size(); ++i) {
      const std::string index = std::to_string(fresh[i]);
      const Bytes& wire = (*wires)[i];
      auto txid = SignedTransaction::txid_of_wire(wire);
      if (!txid) return error_500("stored event " + index + ": " + txid.reason());
      auto proof = ledger.inclusion_proof(fresh[i], size);
      if (!proof) return error_500(proof.reason());
      events += events.empty() ? "\"" : ",\"";
      events += index;
      events += "\":{";
      if (SignedTransaction::type_of_wire(wire) == TxType::attest) {
        auto stx = SignedTransaction::decode(wire);
        if (!stx) return error_500("stored event " + index + ": " + stx.reason());
        auto consistency = attested_consistency(ledger, stx->tx, size);
        if (!consistency) return error_500(consistency.reason());
        events += "\"consistency\":";
        append_hashes(events, *consistency);
        events += ',';
      }
      events += "\"proof\":";
      append_hashes(events, *proof);
      events += ",\"tx\":\"";
      events += base64_encode(wire);
      events += "\",\"txid\":\"";
      events += hex_encode(*txid);
      events += "\"}";
    }
    if (events.size() + histories.size() + states.size() > max_bytes) {
      return answer_too_large(max_bytes, "ask for fewer serials per request");
    }
  }
  auto root = ledger.root_at(size);
  if (!root) return error_500(root.reason());
  std::string body;
  body.reserve(events.size() + histories.size() + states.size() + 160);
  body += "{\"events\":{";
  body += events;
  body += "},\"histories\":{";
  body += histories;
  body += "},\"root\":\"";
  body += hex_encode(*root);
  body += "\",\"size\":";
  body += std::to_string(size);
  body += ",\"states\":{";
  body += states;
  body += "}}";
  return HttpResponse{200, "application/json", std::move(body)};
}

HttpResponse state_answer(const Ledger& ledger, const std::string& serial, uint64_t size) {
  auto state = ledger.state_proof(serial, size);
  if (!state) return error_500(state.reason());
  std::string body = "{";
  append_serial_tail(body, serial, size, *state);
  return HttpResponse{200, "application/json", std::move(body)};
}

}  // namespace chipledger
