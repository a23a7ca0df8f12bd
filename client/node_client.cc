#include "client/node_client.h"
#include "net/percent_encoding.h"

#include <algorithm>
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

}  // namespace

Result<std::unique_ptr<NodeClient>> NodeClient::connect_to(const std::string& url,
                                                           std::chrono::milliseconds timeout) {
  HttpClientOptions options;
  options.timeout = timeout;
  return connect_to(url, options);
}

Result<std::unique_ptr<NodeClient>> NodeClient::connect_to(const std::string& url,
                                                           const HttpClientOptions& options) {
  return connect_to(std::vector<std::string>{url}, options);
}

Result<std::unique_ptr<NodeClient>> NodeClient::connect_to(const std::vector<std::string>& urls,
                                                           const HttpClientOptions& options) {
  if (urls.empty()) return Result<std::unique_ptr<NodeClient>>::error("no node URL given");
  // Every URL must parse now, not when a failover reaches it.
  for (const auto& u : urls) CL_TRY(HttpClient::connect_to(u, options));
  auto http = HttpClient::connect_to(urls[0], options);
  if (!http) return http.status();
  HttpClient* raw = http->get();
  return std::unique_ptr<NodeClient>(new NodeClient(std::move(*http), raw, urls, options));
}

std::unique_ptr<NodeClient> NodeClient::over(HttpClient& http, std::string url) {
  return std::unique_ptr<NodeClient>(
      new NodeClient(nullptr, &http, std::vector<std::string>{std::move(url)}, http.options()));
}

Status NodeClient::connect_current() {
  auto http = HttpClient::connect_to(urls_[current_], options_);
  if (!http) return http.status();
  owned_ = std::move(*http);
  http_ = owned_.get();
  return Status::ok();
}

Status NodeClient::switch_to(const std::string& url) {
  auto it = std::find(urls_.begin(), urls_.end(), url);
  size_t i = static_cast<size_t>(it - urls_.begin());
  if (it == urls_.end()) urls_.push_back(url);
  if (i == current_ && http_ != nullptr) return Status::ok();
  const size_t before = current_;
  current_ = i;
  Status st = connect_current();
  if (!st) current_ = before;
  return st;
}

void NodeClient::set_call_timeout(std::chrono::milliseconds timeout) {
  options_.timeout = std::max(timeout, std::chrono::milliseconds(1));
  http_->set_timeout(options_.timeout);
}

void NodeClient::switch_to_next() {
  if (urls_.size() < 2) return;
  const size_t before = current_;
  current_ = (current_ + 1) % urls_.size();
  if (!connect_current()) current_ = before;
}

Result<HttpReply> NodeClient::read(const std::string& target, const std::string* post_body) {
  std::string failures;
  for (size_t tried = 0;; ++tried) {
    auto reply = post_body == nullptr
                     ? http_->get(target)
                     : http_->post(target, *post_body, "application/json", Idempotent::yes);
    if (reply) return reply;
    const Status st = reply.status();
    if (!(st.is_unavailable() || st.is_unknown()) || tried + 1 >= urls_.size()) {
      return tried == 0 ? st : st.context(failures + "then");
    }
    failures += st.reason() + "; ";
    switch_to_next();
  }
}

SubmitReply NodeClient::submit_once(const SignedTransaction& tx) {
  using K = SubmitReply::Kind;
  json body{{"tx", base64_encode(tx.wire())}};
  // The node deduplicates by txid: sending it again is safe.
  auto reply = http_->post("/v1/transactions", body.dump(), "application/json", Idempotent::yes);
  SubmitReply r;
  if (!reply) {
    // Nothing sent (no connection) is a retry; anything later may have landed.
    r.kind = reply.status().is_unavailable() ? K::retry : K::unknown;
    r.reason = reply.reason();
    return r;
  }
  r.http_status = reply->status;
  json j = json::parse(reply->body, nullptr, false);
  if (!j.is_object()) j = json::object();
  r.reason = j.contains("error") && j["error"].is_string()
                 ? j["error"].get<std::string>()
                 : "HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 200);
  const std::string outcome = j.value("outcome", "");
  switch (reply->status) {
    case 200:
      if (outcome != "accepted" || !j.contains("index") || !j["index"].is_number_unsigned()) {
        r.kind = K::unknown;
        r.reason = "the node's answer to a submission (HTTP 200) names no index";
        return r;
      }
      r.kind = K::accepted;
      r.index = j["index"].get<uint64_t>();
      r.duplicate = j.value("duplicate", "") == "in-ledger";
      return r;
    case 400:
    case 413:
    case 422:
      r.kind = K::refused;
      return r;
    case 421:
      r.kind = K::redirect;
      if (j.contains("leader") && j["leader"].is_string()) r.leader = j["leader"];
      return r;
    case 429:
    case 503:
      r.kind = K::retry;
      return r;
    default:  // 202 (the node says it may land), a proxy's 502/504, anything else
      r.kind = K::unknown;
      return r;
  }
}

TxLookup NodeClient::lookup(const Hash& txid) {
  using K = TxLookup::Kind;
  TxLookup out;
  auto reply = http_->get("/v1/transactions/" + hex_encode(txid));
  if (!reply) {
    out.reason = reply.reason();
    return out;
  }
  json j = json::parse(reply->body, nullptr, false);
  if (!j.is_object()) j = json::object();
  const std::string outcome = j.value("outcome", "");
  if (j.contains("size") && j["size"].is_number_unsigned()) out.size = j["size"].get<uint64_t>();
  if (reply->status == 200 && outcome == "accepted" && j.contains("index") &&
      j["index"].is_number_unsigned()) {
    out.kind = K::accepted;
    out.index = j["index"].get<uint64_t>();
    if (j.contains("tx") && j["tx"].is_string()) {
      if (auto wire = base64_decode(j["tx"].get<std::string>())) out.tx = std::move(*wire);
    }
  } else if (reply->status == 200 && outcome == "unknown") {
    out.kind = K::waiting;
  } else if (reply->status == 404 && outcome == "not-found") {
    out.kind = K::not_found;
  } else {
    out.reason = "unexpected answer to GET /v1/transactions/TXID: HTTP " +
                 std::to_string(reply->status) + ": " + reply->body.substr(0, 200);
  }
  return out;
}

Result<json> NodeClient::get_json(const std::string& target) {
  auto reply = read(target);
  if (!reply) return reply.status();
  if (reply->status != 200) return http_error(*reply, "GET " + target);
  return parse_body(*reply, "GET " + target);
}

Result<std::optional<json>> NodeClient::get_optional(const std::string& target) {
  auto reply = read(target);
  if (!reply) return reply.status();
  if (reply->status == 404) return std::optional<json>();
  if (reply->status != 200) return http_error(*reply, "GET " + target);
  auto j = parse_body(*reply, "GET " + target);
  if (!j) return j.status();
  return std::optional<json>(std::move(*j));
}

Result<json> NodeClient::health() {
  auto reply = read("/v1/health");
  if (!reply) return reply.status();
  if (reply->status != 200 && reply->status != 503) return http_error(*reply, "GET /v1/health");
  auto j = parse_body(*reply, "GET /v1/health");
  if (!j) return j.status();
  if (!j->contains("status") || !(*j)["status"].is_string()) {
    return http_error(*reply, "GET /v1/health");
  }
  return j;
}

Result<std::string> NodeClient::ledger_id() {
  auto j = health();
  if (!j) return j.status();
  if (!j->contains("ledger_id") || !(*j)["ledger_id"].is_string()) {
    return Result<std::string>::error("the node's health answer has no ledger_id");
  }
  return (*j)["ledger_id"].get<std::string>();
}

Result<std::optional<json>> NodeClient::chip(const std::string& serial) {
  return get_optional("/v1/chips/" + percent_encode_segment(serial));
}

Result<json> NodeClient::state(const std::string& serial, uint64_t size) {
  return get_json("/v1/chips/" + percent_encode_segment(serial) +
                  "/state?size=" + std::to_string(size));
}

Result<std::optional<json>> NodeClient::history(const std::string& serial,
                                                std::optional<uint64_t> size) {
  std::string target = "/v1/chips/" + percent_encode_segment(serial) + "/history";
  if (size) target += "?size=" + std::to_string(*size);
  return history_at(target);
}

namespace {

// docs/api.md, "Governance": at most this many events per page; and the
// most governance transactions this client follows (about 2.5 KB each).
constexpr size_t kGovernancePageEvents = 1000;
constexpr size_t kMaxGovernanceEvents = 100000;

// One page of the governance history, after index `after`: at most a
// page's events, their indices increasing, past `after` and below `size`;
// "next", when there, its last event's index. Returns the page's last index.
Result<std::optional<uint64_t>> check_page(const json& page, std::optional<uint64_t> after,
                                           uint64_t size) {
  using R = Result<std::optional<uint64_t>>;
  const json* events = page.contains("events") ? &page["events"] : nullptr;
  if (!events || !events->is_array() || events->size() > kGovernancePageEvents) {
    return R::error("a page of the governance history has no list of at most " +
                    std::to_string(kGovernancePageEvents) + " events");
  }
  std::optional<uint64_t> last = after;
  for (const auto& e : *events) {
    const json* index = e.is_object() && e.contains("index") ? &e["index"] : nullptr;
    if (!index || !index->is_number_unsigned() || index->get<uint64_t>() >= size ||
        (last && index->get<uint64_t>() <= *last)) {
      return R::error("the governance history's pages do not move forward in log order");
    }
    last = index->get<uint64_t>();
  }
  if (page.contains("next") && (events->empty() || page["next"] != events->back()["index"])) {
    return R::error("a page of the governance history names a next index that is not its last");
  }
  return last;
}

}  // namespace

Result<std::optional<json>> NodeClient::governance_history(uint64_t size) {
  const std::string base = "/v1/governance/history?size=" + std::to_string(size);
  auto first = history_at(base);
  if (!first || !*first || !(*first)->contains("events")) return first;  // a 404: its state
  json& merged = **first;
  auto last = check_page(merged, std::nullopt, size);
  if (!last) return last.status();
  while (merged.contains("next")) {
    merged.erase("next");
    auto more = history_at(base + "&after=" + std::to_string(**last));
    if (!more) return more.status();
    if (!*more) return Status::error("a page of the governance history is missing");
    json& page = **more;
    last = check_page(page, *last, size);
    if (!last) return last.status();
    json& all = merged["events"];
    if (all.size() + page["events"].size() > kMaxGovernanceEvents) {
      return Status::error("the governance history has more than " +
                           std::to_string(kMaxGovernanceEvents) +
                           " transactions: more than this client follows");
    }
    for (auto& e : page["events"]) all.push_back(std::move(e));
    if (page.contains("next")) merged["next"] = page["next"];
  }
  return first;
}

Result<std::optional<json>> NodeClient::history_at(const std::string& target) {
  auto reply = read(target);
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
  const std::string text = body.dump();
  auto reply = read("/v1/histories", &text);
  if (!reply) return reply.status();
  if (reply->status != 200) return http_error(*reply, "POST /v1/histories");
  return parse_body(*reply, "POST /v1/histories");
}

Result<std::optional<json>> NodeClient::license(const std::string& id) {
  return get_optional("/v1/licenses/" + percent_encode_segment(id));
}

Result<std::string> NodeClient::checkpoint() {
  auto reply = read("/v1/checkpoint");
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
