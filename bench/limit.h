// The machine's own limit beside every result: how many signatures of the
// algorithm the ledger uses (Ed25519) this machine verifies per second,
// measured in the same run through the project's crypto (PublicKey::verify,
// libsodium), on one thread and on every core at once. Beside it, OpenSSL
// 3's rate on one thread (the reference `openssl speed ed25519` measures,
// and what the limit was before the switch to libsodium, docs/crypto.md),
// so that results compare across hosts and with older figures.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/result.h"

namespace chipledger::bench {

struct SignatureLimit {
  std::string algorithm = "ed25519";
  unsigned cores = 1;
  double per_core = 0;          // verifications per second on one thread
  double all_cores = 0;         // verifications per second with one thread per core
  double openssl_per_core = 0;  // OpenSSL 3 EVP's verifications per second, one thread
  double seconds_each = 0;
  size_t message_bytes = 0;
  size_t readings = 1;  // measurements this limit is the best of

  // The higher of two readings (the machine's limit is what it can do: a
  // reading taken while others held the cores is lower, not a new limit).
  static SignatureLimit best_of(const SignatureLimit& a, const SignatureLimit& b);

  // What a result needing `signatures_per_s` verifications per second is of
  // the machine's limit: signatures_per_s / (per_core * cores).
  double ratio(double signatures_per_s) const;
  // The same against OpenSSL's rate (openssl_per_core * cores).
  double openssl_ratio(double signatures_per_s) const;
  nlohmann::json to_json() const;
};

// Verifies a signature over a typical transfer's signing input for `each`
// on one thread, then for `each` on `cores` threads.
Result<SignatureLimit> measure_signature_limit(std::chrono::milliseconds each, unsigned cores);

// Sets a scenario's limit fields, ratio and ratio target (those with a
// "ratio_goal") from `limit` and its "signatures_per_s"; also
// "ratio_to_openssl", for comparison only (targets are judged on "ratio").
void judge_against(nlohmann::json& scenario, const SignatureLimit& limit);

}  // namespace chipledger::bench
