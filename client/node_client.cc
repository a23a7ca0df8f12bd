#include "client/node_client.h"

#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace chipledger {
namespace {

using nlohmann::json;

Result<json> parse_body(const HttpReply& reply, const std::string& what) {
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Result<json>::error("the node's answer to " + what + " is not a JSON object (HTTP " +
                               std::to_string(reply.status) + ")");
  }
  return j;
}

Status http_error(const HttpReply& reply, const std::string& what) {
  json j = json::parse(reply.body, nullptr, false);
  std::string reason =
      (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string())
          ? j["error"].get<std::string>()
          : reply.body.substr(0, 200);
  return Status::error(what + ": HTTP " + std::to_string(reply.status) + ": " + reason);
}

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

std::string percent_encode_serial(std::string_view serial) {
  std::string out;
  for (char c : serial) {
    if (c == '/' || c == ':' || c == '%') {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[(c >> 4) & 15];
      out += hex[c & 15];
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<NodeClient>> NodeClient::connect_to(const std::string& url,
                                                           std::chrono::milliseconds timeout) {
  HttpClientOptions options;
  options.timeout = timeout;
  return connect_to(url, options);
}

Result<std::unique_ptr<NodeClient>> NodeClient::connect_to(const std::string& url,
                                                           const HttpClientOptions& options) {
  auto http = HttpClient::connect_to(url, options);
  if (!http) return http.status();
  HttpClient* raw = http->get();
  return std::unique_ptr<NodeClient>(new NodeClient(std::move(*http), raw, url));
}

std::unique_ptr<NodeClient> NodeClient::over(HttpClient& http, std::string url) {
  return std::unique_ptr<NodeClient>(new NodeClient(nullptr, &http, std::move(url)));
}

Result<SubmitResult> NodeClient::submit(const SignedTransaction& tx) {
  json body{{"tx", base64_encode(tx.wire())}};
  auto reply = http_->post("/v1/transactions", body.dump());
  if (!reply) return reply.status();
  if (reply->status == 421) {
    // A follower names the Raft leader: submit there once, and keep talking
    // to the leader afterwards.
    json j = json::parse(reply->body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("leader") && j["leader"].is_string() &&
        j["leader"].get<std::string>() != url_) {
      std::string leader = j["leader"].get<std::string>();
      auto http = HttpClient::connect_to(leader, http_->options());
      if (!http) return http.status().context("connecting to the leader " + leader);
      owned_ = std::move(*http);
      http_ = owned_.get();
      url_ = leader;
      reply = http_->post("/v1/transactions", body.dump());
      if (!reply) return reply.status().context("submitting to the leader " + leader);
    }
  }
  if (reply->status != 200 && reply->status != 422) return http_error(*reply, "submit");
  auto j = parse_body(*reply, "submit");
  if (!j) return j.status();
  SubmitResult r;
  r.accepted = j->value("accepted", false);
  r.index = j->value("index", uint64_t{0});
  r.txid = j->value("txid", std::string());
  r.error = j->value("error", std::string());
  return r;
}

Result<json> NodeClient::get_json(const std::string& target) {
  auto reply = http_->get(target);
  if (!reply) return reply.status();
  if (reply->status != 200) return http_error(*reply, "GET " + target);
  return parse_body(*reply, "GET " + target);
}

Result<std::optional<json>> NodeClient::get_optional(const std::string& target) {
  auto reply = http_->get(target);
  if (!reply) return reply.status();
  if (reply->status == 404) return std::optional<json>();
  if (reply->status != 200) return http_error(*reply, "GET " + target);
  auto j = parse_body(*reply, "GET " + target);
  if (!j) return j.status();
  return std::optional<json>(std::move(*j));
}

Result<std::string> NodeClient::ledger_id() {
  auto j = get_json("/v1/health");
  if (!j) return j.status();
  if (!j->contains("ledger_id") || !(*j)["ledger_id"].is_string()) {
    return Result<std::string>::error("the node's health answer has no ledger_id");
  }
  return (*j)["ledger_id"].get<std::string>();
}

Result<std::optional<json>> NodeClient::chip(const std::string& serial) {
  return get_optional("/v1/chips/" + percent_encode_serial(serial));
}

Result<json> NodeClient::state(const std::string& serial, uint64_t size) {
  return get_json("/v1/chips/" + percent_encode_serial(serial) +
                  "/state?size=" + std::to_string(size));
}

Result<std::optional<json>> NodeClient::history(const std::string& serial,
                                                std::optional<uint64_t> size) {
  std::string target = "/v1/chips/" + percent_encode_serial(serial) + "/history";
  if (size) target += "?size=" + std::to_string(*size);
  auto reply = http_->get(target);
  if (!reply) return reply.status();
  if (reply->status == 404) {
    // "Not registered": the answer carries the state map's absence proof.
    json j = json::parse(reply->body, nullptr, false);
    if (j.is_object() && j.contains("state")) return std::optional<json>(std::move(j));
    return std::optional<json>();
  }
  if (reply->status != 200) return http_error(*reply, "GET " + target);
  auto j = parse_body(*reply, "GET " + target);
  if (!j) return j.status();
  return std::optional<json>(std::move(*j));
}

Result<json> NodeClient::histories(const std::vector<std::string>& serials, uint64_t size) {
  json body{{"serials", serials}, {"size", size}};
  // A read-only query: safe to send again on a fresh connection.
  auto reply = http_->post("/v1/histories", body.dump(), "application/json", Idempotent::yes);
  if (!reply) return reply.status();
  if (reply->status != 200) return http_error(*reply, "POST /v1/histories");
  return parse_body(*reply, "POST /v1/histories");
}

Result<std::optional<json>> NodeClient::license(const std::string& id) {
  std::string escaped;
  for (char c : id) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    if (plain) {
      escaped += c;
    } else {
      static const char* hex = "0123456789ABCDEF";
      escaped += '%';
      escaped += hex[(static_cast<unsigned char>(c) >> 4) & 15];
      escaped += hex[c & 15];
    }
  }
  return get_optional("/v1/licenses/" + escaped);
}

Result<std::string> NodeClient::checkpoint() {
  auto reply = http_->get("/v1/checkpoint");
  if (!reply) return reply.status();
  if (reply->status != 200) return http_error(*reply, "GET /v1/checkpoint");
  return reply->body;
}

namespace {

Result<std::vector<Hash>> proof_hashes(const json& j, const std::string& what) {
  if (!j.contains("proof") || !j["proof"].is_array()) {
    return Result<std::vector<Hash>>::error("the node's " + what + " answer has no proof");
  }
  std::vector<Hash> out;
  for (const auto& h : j["proof"]) {
    if (!h.is_string()) {
      return Result<std::vector<Hash>>::error("a " + what + " proof entry is not a string");
    }
    auto hash = hash_from_hex(h.get<std::string>());
    if (!hash) return hash.status().context(what + " proof");
    out.push_back(*hash);
  }
  return out;
}

}  // namespace

Result<std::vector<Hash>> NodeClient::consistency(uint64_t from, uint64_t to) {
  auto j =
      get_json("/v1/proofs/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(to));
  if (!j) return j.status();
  return proof_hashes(*j, "consistency");
}

Result<std::vector<Hash>> NodeClient::inclusion(uint64_t index, uint64_t size) {
  auto j = get_json("/v1/proofs/inclusion?index=" + std::to_string(index) +
                    "&size=" + std::to_string(size));
  if (!j) return j.status();
  return proof_hashes(*j, "inclusion");
}

}  // namespace chipledger
