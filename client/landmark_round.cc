#include "client/landmark_round.h"

#include <nlohmann/json.hpp>
#include <thread>

namespace chipledger {
namespace {

using nlohmann::json;

// A string field of a landmark's answer; empty when absent or not a string.
std::string text_of(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> post_json(HttpClient& http, const std::string& target, const json& body) {
  auto reply = http.post(target, body.dump());
  if (!reply) return reply.status().context(http.url() + target);
  json j = json::parse(reply->body, nullptr, false);
  if (reply->status != 200) {
    std::string why = j.is_object() && !text_of(j, "error").empty() ? text_of(j, "error")
                                                                    : reply->body.substr(0, 200);
    return Result<json>::error(http.url() + target + ": HTTP " + std::to_string(reply->status) +
                               ": " + why);
  }
  if (!j.is_object()) return Result<json>::error(http.url() + target + ": the answer is not JSON");
  return j;
}

}  // namespace

Result<LocationStatement> run_locate_round(HttpClient& landmark_http, const Landmark& landmark,
                                           const LocateRequest& request, const PrivateKey& chip_key,
                                           std::chrono::microseconds chip_delay) {
  using R = Result<LocationStatement>;
  auto challenge = post_json(landmark_http, "/v1/location/challenge",
                             json{{"ledger_id", request.ledger_id},
                                  {"serial", request.serial},
                                  {"checkpoint_size", request.checkpoint_size},
                                  {"checkpoint_root", hex_encode(request.checkpoint_root)}});
  if (!challenge) return challenge.status();
  if (text_of(*challenge, "landmark") != landmark.id) {
    return R::error(landmark_http.url() + " is not landmark " + landmark.id + " (it says '" +
                    text_of(*challenge, "landmark") + "')");
  }
  auto nonce = hash_from_hex(text_of(*challenge, "nonce"));
  if (!nonce) return R::error(landmark_http.url() + ": the challenge has no nonce");
  // The chip's side: sign at once (or after the simulated distance).
  Bytes message = locate_chip_message(request.ledger_id, landmark.id, request.serial, *nonce,
                                      request.checkpoint_size, request.checkpoint_root);
  auto signature = chip_key.sign(message);
  if (!signature) return signature.status().context("the chip of " + request.serial);
  if (chip_delay.count() > 0) std::this_thread::sleep_for(chip_delay);  // the simulated distance
  auto answer =
      post_json(landmark_http, "/v1/location/answer",
                json{{"nonce", hex_encode(*nonce)}, {"signature", hex_encode(*signature)}});
  if (!answer) return answer.status();
  auto bytes = hex_decode(text_of(*answer, "statement"));
  if (!bytes) return R::error(landmark_http.url() + ": the answer has no statement");
  auto s = LocationStatement::decode(*bytes);
  if (!s) return s.status().context(landmark_http.url() + ": the statement");
  if (s->ledger_id != request.ledger_id || s->landmark != landmark.id ||
      s->serial != request.serial || s->nonce != *nonce ||
      s->checkpoint_size != request.checkpoint_size ||
      s->checkpoint_root != request.checkpoint_root || s->chip_signature != *signature) {
    return R::error(landmark_http.url() + ": the statement is not of the round asked for");
  }
  CL_TRY(verify_landmark_signature(*s, landmark.key));
  return s;
}

}  // namespace chipledger
