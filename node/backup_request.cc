#include "node/backup_request.h"

#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "crypto/sha256.h"

namespace chipledger {
namespace {

constexpr std::string_view kSignedPrefix = "chipledger backup request v1\n";
constexpr size_t kNonceHexDigits = 32;
constexpr size_t kMaxIdBytes = 256;

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// An id goes into the signed text on a line of its own: no line breaks.
bool is_line(std::string_view s) {
  return !s.empty() && s.size() <= kMaxIdBytes && s.find('\n') == std::string_view::npos;
}

}  // namespace

std::string BackupRequest::signed_text() const {
  return std::string(kSignedPrefix) + ledger_id + "\n" + node_id + "\n" + std::to_string(time_ms) +
         "\n" + nonce + "\n";
}

std::string BackupRequest::to_json() const {
  return nlohmann::json{{"ledger_id", ledger_id},
                        {"node_id", node_id},
                        {"time_ms", time_ms},
                        {"nonce", nonce},
                        {"signature", base64_encode(signature)}}
      .dump();
}

Result<BackupRequest> BackupRequest::parse(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::invalid("a backup request is a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "ledger_id" && key != "node_id" && key != "time_ms" && key != "nonce" &&
        key != "signature") {
      return Status::invalid("a backup request has no field '" + key + "'");
    }
  }
  auto text = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  BackupRequest r;
  const std::string* ledger = text("ledger_id");
  const std::string* node = text("node_id");
  const std::string* nonce = text("nonce");
  const std::string* signature = text("signature");
  if (!ledger || !is_line(*ledger)) return Status::invalid("a backup request needs its ledger_id");
  if (!node || !is_line(*node)) return Status::invalid("a backup request needs its node_id");
  auto time = j.find("time_ms");
  if (time == j.end() || !time->is_number_unsigned()) {
    return Status::invalid("a backup request needs time_ms (milliseconds since 1970)");
  }
  if (!nonce || nonce->size() != kNonceHexDigits || !is_lower_hex(*nonce)) {
    return Status::invalid("a backup request's nonce is 32 lowercase hex digits");
  }
  if (!signature) return Status::invalid("a backup request needs its signature (base64)");
  auto sig = base64_decode(*signature);
  if (!sig) return Status::invalid("a backup request's signature is not base64");
  r.ledger_id = *ledger;
  r.node_id = *node;
  r.time_ms = time->get<uint64_t>();
  r.nonce = *nonce;
  r.signature = std::move(*sig);
  return r;
}

Result<BackupRequest> BackupRequest::sign(const PrivateKey& key, std::string ledger_id,
                                          std::string node_id, uint64_t time_ms) {
  auto random = random_hash();
  if (!random) return random.status();
  BackupRequest r;
  r.ledger_id = std::move(ledger_id);
  r.node_id = std::move(node_id);
  r.time_ms = time_ms;
  r.nonce = hex_encode(*random).substr(0, kNonceHexDigits);
  auto sig = key.sign(as_bytes(r.signed_text()));
  if (!sig) return sig.status().context("signing the backup request");
  r.signature = std::move(*sig);
  return r;
}

bool BackupRequest::verify(const PublicKey& key) const {
  const std::string text = signed_text();
  return key.verify(as_bytes(text), signature);
}

}  // namespace chipledger
