#include "verify/evidence_decoding.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace chipledger {
namespace {

using nlohmann::json;

bool is_whole(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() ? &*it : nullptr;
}

Result<uint64_t> answer_size(const json& answer) {
  const json* size = field(answer, "size");
  if (!size || !is_whole(*size)) {
    return Result<uint64_t>::error("the history answer has no valid size");
  }
  return size->get<uint64_t>();
}

Result<std::vector<Hash>> decode_proof(const json* j) {
  if (!j || !j->is_array()) return Result<std::vector<Hash>>::error("proof is not a list");
  std::vector<Hash> out;
  out.reserve(j->size());
  for (const auto& h : *j) {
    if (!h.is_string()) return Result<std::vector<Hash>>::error("proof entry is not a string");
    auto hash = hash_from_hex(h.get<std::string>());
    if (!hash) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

// One event entry ({tx, proof, consistency?, ...}) at `index`, into `into`; the same
// index twice must carry the same event.
Status decode_event(uint64_t index, const json& entry, HistoryEvidence& into) {
  auto where = [&] { return "the event at index " + std::to_string(index); };
  const json* tx = field(entry, "tx");
  if (!tx || !tx->is_string()) return Status::error("a history entry lacks tx or index");
  auto leaf = base64_decode(tx->get<std::string>());
  if (!leaf) return leaf.status().context(where());
  auto proof = decode_proof(field(entry, "proof"));
  if (!proof) return proof.status().context(where());
  EventEvidence ev{index, std::move(*leaf), std::move(*proof), std::nullopt};
  if (const json* consistency = field(entry, "consistency")) {
    auto hashes = decode_proof(consistency);
    if (!hashes) return hashes.status().context(where() + ": consistency proof");
    ev.consistency = std::move(*hashes);
  }
  auto [it, fresh] = into.events.try_emplace(index, ev);
  if (!fresh && !(it->second == ev)) {
    return Status::error("the answer gives two different events at index " + std::to_string(index));
  }
  return Status::ok();
}

// A log index written in decimal, canonically (as std::to_string writes it).
std::optional<uint64_t> decode_u64_decimal(const std::string& key) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), v);
  if (ec != std::errc() || end != key.data() + key.size() || std::to_string(v) != key) {
    return std::nullopt;
  }
  return v;
}

Result<uint64_t> decode_index(const json* j) {
  if (!j || !is_whole(*j)) return Result<uint64_t>::error("a history entry lacks tx or index");
  return j->get<uint64_t>();
}

}  // namespace

// A serial's "state" object: {"record": base64 or null, "proof": hex}.
static Status decode_state(const json* state, SerialEvidence& out) {
  if (!state) return Status::ok();
  const json* record = field(*state, "record");
  const json* proof = field(*state, "proof");
  if (!record || !proof || !proof->is_string() || !(record->is_null() || record->is_string())) {
    return Status::error("the state of serial " + out.serial + " is malformed");
  }
  auto bytes = hex_decode(proof->get<std::string>());
  if (!bytes) return bytes.status().context("the state proof of serial " + out.serial);
  if (record->is_string()) {
    auto rec = base64_decode(record->get<std::string>());
    if (!rec) return rec.status().context("the state record of serial " + out.serial);
    out.state_record = std::string(rec->begin(), rec->end());
  }
  out.state_proof = std::move(*bytes);
  out.has_state = true;
  return Status::ok();
}

Result<HistoryEvidence> decode_history(const std::string& serial, const std::optional<json>& answer,
                                       uint64_t size) {
  using R = Result<HistoryEvidence>;
  HistoryEvidence out;
  out.size = size;
  out.serials.emplace_back();
  out.serials.back().serial = serial;
  if (!answer) return out;
  auto at = answer_size(*answer);
  if (!at) return at.status();
  out.size = *at;
  // A 404 answer ("not registered") has no events, only the state.
  const json* events = field(*answer, "events");
  const json* state = field(*answer, "state");
  if (events || !state) {
    if (!events || !events->is_array()) return R::error("the history answer has no list of events");
    for (const auto& e : *events) {
      auto index = decode_index(field(e, "index"));
      if (!index) return index.status();
      CL_TRY(decode_event(*index, e, out));
      out.serials[0].indices.push_back(*index);
    }
  }
  CL_TRY(decode_state(state, out.serials[0]));
  return out;
}

Result<SerialEvidence> decode_state_answer(const std::string& serial, uint64_t size,
                                           const json& answer) {
  using R = Result<SerialEvidence>;
  const json* named = field(answer, "serial");
  if (!named || !named->is_string() || named->get<std::string>() != serial) {
    return R::error("the node's state answer is not for serial " + serial);
  }
  const json* at = field(answer, "size");
  if (!at || !is_whole(*at) || at->get<uint64_t>() != size) {
    return R::error("the node's state answer for serial " + serial + " is not for log size " +
                    std::to_string(size));
  }
  const json* state = field(answer, "state");
  if (!state) return R::error("the node's state answer for serial " + serial + " has no state");
  SerialEvidence out;
  out.serial = serial;
  CL_TRY(decode_state(state, out));
  return out;
}

Result<HistoryEvidence> decode_histories(const json& answer) {
  using R = Result<HistoryEvidence>;
  HistoryEvidence out;
  auto at = answer_size(answer);
  if (!at) return at.status();
  out.size = *at;
  const json* histories = field(answer, "histories");
  const json* events = field(answer, "events");
  const json* states = field(answer, "states");
  if (!histories || !histories->is_object() || (events && !events->is_object()) ||
      (states && !states->is_object())) {
    return R::error("the histories answer has no histories or events object");
  }
  for (const auto& [serial, list] : histories->items()) {
    SerialEvidence s;
    s.serial = serial;
    if (!list.is_null()) {
      if (!list.is_array())
        return R::error("the event list of serial " + serial + " is not a list");
      for (const auto& i : list) {
        auto index = decode_index(&i);
        if (!index) return index.status().context("serial " + serial);
        s.indices.push_back(*index);
      }
    }
    CL_TRY(decode_state(states ? field(*states, serial.c_str()) : nullptr, s));
    out.serials.push_back(std::move(s));
  }
  if (events) {
    for (const auto& [key, entry] : events->items()) {
      auto index = decode_u64_decimal(key);
      if (!index) return R::error("an event key '" + key.substr(0, 32) + "' is not a log index");
      CL_TRY(decode_event(*index, entry, out));
    }
  }
  return out;
}

}  // namespace chipledger
