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

}  // namespace

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
