#include "node/landmark_service.h"

#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "ledger/location.h"
#include "ledger/transaction.h"
#include "node/api.h"

namespace chipledger {
namespace {

using nlohmann::json;

constexpr size_t kMaxBodyBytes = 4096;

HttpResponse answer_json(const json& j) { return HttpResponse{200, "application/json", j.dump()}; }

Result<Hash> hex_hash(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return Result<Hash>::error(std::string("'") + field + "' (64 hex digits) is missing");
  }
  auto h = hash_from_hex(j[field].get<std::string>());
  if (!h) return Result<Hash>::error(std::string("'") + field + "' is not 64 hex digits");
  return h;
}

}  // namespace

LandmarkService::LandmarkService(LandmarkOptions options, PrivateKey key, MonotonicUs monotonic,
                                 WallMs wall, NonceSource nonces)
    : options_(std::move(options)),
      key_(std::move(key)),
      monotonic_(std::move(monotonic)),
      wall_(std::move(wall)),
      nonces_(std::move(nonces)) {}

std::unique_ptr<LandmarkService> LandmarkService::with_system_clocks(LandmarkOptions options,
                                                                     PrivateKey key) {
  using namespace std::chrono;
  return std::make_unique<LandmarkService>(
      std::move(options), std::move(key),
      [] {
        return static_cast<uint64_t>(
            duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
      },
      [] {
        return static_cast<uint64_t>(
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
      },
      [] { return random_hash(); });
}

size_t LandmarkService::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

HttpResponse LandmarkService::handle(const HttpRequest& req) {
  const uint64_t received_us = monotonic_();  // first: the clock stops here
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "POST" && path == "/v1/location/answer") return answer(req, received_us);
  if (req.method == "POST" && path == "/v1/location/challenge") return challenge(req);
  if (req.method == "GET" && path == "/v1/landmark") {
    return answer_json(json{{"id", options_.id}, {"key", key_.public_key().pem()}});
  }
  if (req.method == "GET" && path == "/v1/health") {
    return answer_json(json{{"status", "ok"}, {"landmark", options_.id}, {"pending", pending()}});
  }
  return json_error(404, "no such endpoint: " + req.method + " " + path +
                             " (a landmark serves POST /v1/location/challenge and "
                             "/v1/location/answer)");
}

HttpResponse LandmarkService::challenge(const HttpRequest& req) {
  if (req.body.size() > kMaxBodyBytes)
    return json_error(413, "a challenge request is at most 4 KiB");
  json j = json::parse(req.body, nullptr, false);
  if (!j.is_object()) return json_error(400, "the challenge request is not a JSON object");
  Pending p;
  for (auto [field, out] : {std::pair{"ledger_id", &p.ledger_id}, {"serial", &p.serial}}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return json_error(400, std::string("'") + field + "' (a string) is missing");
    }
    *out = j[field].get<std::string>();
  }
  if (p.ledger_id.empty() || p.ledger_id.size() > kMaxFieldBytes) {
    return json_error(400, "'ledger_id' must be 1 to 256 bytes");
  }
  if (Status ok = check_serial(p.serial); !ok) return json_error(400, ok.reason());
  if (!j.contains("checkpoint_size") || !j["checkpoint_size"].is_number_unsigned()) {
    return json_error(400, "'checkpoint_size' (a whole number) is missing");
  }
  p.checkpoint_size = j["checkpoint_size"].get<uint64_t>();
  auto root = hex_hash(j, "checkpoint_root");
  if (!root) return json_error(400, root.reason());
  p.checkpoint_root = *root;
  auto nonce = nonces_();
  if (!nonce) return json_error(500, nonce.reason());
  json body{{"landmark", options_.id}, {"nonce", hex_encode(*nonce)}};
  std::string text = body.dump();
  p.address = req.client_address;
  std::lock_guard lock(mu_);
  drop_expired(monotonic_());
  if (pending_.size() >= options_.max_pending) {
    return json_error(503, "too many challenges wait for an answer (" +
                               std::to_string(options_.max_pending) + "): try again shortly");
  }
  size_t& mine = per_address_[p.address];
  if (mine >= options_.max_pending_per_address) {
    return json_error(503, "too many challenges from " + p.address + " wait for an answer (" +
                               std::to_string(options_.max_pending_per_address) +
                               "): answer those first");
  }
  ++mine;
  p.sent_us = monotonic_();  // last: the clock starts as the nonce goes out
  order_.emplace_back(p.sent_us, *nonce);
  pending_.emplace(*nonce, std::move(p));
  return HttpResponse{200, "application/json", std::move(text)};
}

HttpResponse LandmarkService::answer(const HttpRequest& req, uint64_t received_us) {
  if (req.body.size() > kMaxBodyBytes) return json_error(413, "an answer is at most 4 KiB");
  json j = json::parse(req.body, nullptr, false);
  if (!j.is_object()) return json_error(400, "the answer is not a JSON object");
  auto nonce = hex_hash(j, "nonce");
  if (!nonce) return json_error(400, nonce.reason());
  if (!j.contains("signature") || !j["signature"].is_string()) {
    return json_error(400, "'signature' (hex) is missing");
  }
  auto signature = hex_decode(j["signature"].get<std::string>());
  if (!signature || signature->empty() || signature->size() > kMaxSignatureBytes) {
    return json_error(400, "'signature' must be 1 to 256 bytes of hex");
  }
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(*nonce);
    if (it == pending_.end()) {
      return json_error(404, "no challenge waits with this nonce (each is answered once)");
    }
    p = it->second;
    forget(it);
  }
  const uint64_t round_trip = received_us - p.sent_us;
  const auto timeout_us = static_cast<uint64_t>(options_.challenge_timeout.count()) * 1000;
  if (round_trip > timeout_us) {
    return json_error(410, "the answer came " + std::to_string(round_trip / 1000) +
                               " ms after the challenge, later than the " +
                               std::to_string(options_.challenge_timeout.count()) +
                               " ms allowed: ask for a new one");
  }
  LocationStatement s;
  s.ledger_id = p.ledger_id;
  s.landmark = options_.id;
  s.serial = p.serial;
  s.nonce = *nonce;
  s.checkpoint_size = p.checkpoint_size;
  s.checkpoint_root = p.checkpoint_root;
  s.round_trip_us = round_trip;
  s.time_ms = wall_();
  s.chip_signature = std::move(*signature);
  auto signed_statement = sign_statement(std::move(s), key_);
  if (!signed_statement) return json_error(500, signed_statement.reason());
  auto bytes = signed_statement->encode();
  if (!bytes) return json_error(500, bytes.reason());
  return answer_json(json{{"landmark", options_.id},
                          {"statement", hex_encode(*bytes)},
                          {"round_trip_us", round_trip},
                          {"time_ms", signed_statement->time_ms},
                          {"bound_km_at_200", bound_km(round_trip, 200)}});
}

void LandmarkService::forget(std::map<Hash, Pending>::iterator it) {
  auto count = per_address_.find(it->second.address);
  if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
  pending_.erase(it);
}

void LandmarkService::drop_expired(uint64_t now_us) {
  const auto timeout_us = static_cast<uint64_t>(options_.challenge_timeout.count()) * 1000;
  while (!order_.empty() && now_us - order_.front().first > timeout_us) {
    auto it = pending_.find(order_.front().second);
    // Not answered yet (an answered one is gone, or a nonce handed out again later).
    if (it != pending_.end() && it->second.sent_us == order_.front().first) forget(it);
    order_.pop_front();
  }
  // Answered challenges leave their place in order_ until it expires; keep
  // the queue within a bound however fast challenges are answered.
  if (order_.size() > 4 * options_.max_pending + 64) {
    std::deque<std::pair<uint64_t, Hash>> kept;
    for (const auto& entry : order_) {
      auto it = pending_.find(entry.second);
      if (it != pending_.end() && it->second.sent_us == entry.first) kept.push_back(entry);
    }
    order_.swap(kept);
  }
}

}  // namespace chipledger
