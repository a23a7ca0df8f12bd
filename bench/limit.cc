#include "bench/limit.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "crypto/keys.h"
#include "crypto/openssl_ed25519.h"
#include "ledger/transaction.h"

namespace chipledger::bench {
namespace {

// Runs `threads` threads verifying for `each`; returns verifications/s, or
// 0 when a verification failed (it must not).
template <typename Verifier>
double verify_rate(const Verifier& key, const Bytes& message, const Bytes& signature,
                   unsigned threads, std::chrono::milliseconds each) {
  std::atomic<bool> go{false}, bad{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  SteadyClock::time_point start;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      uint64_t n = 0;
      auto until = start + each;
      do {
        for (int i = 0; i < 16; ++i, ++n) {
          if (!key.verify(message, signature)) bad = true;
        }
      } while (SteadyClock::now() < until);
      total += n;
    });
  }
  start = SteadyClock::now();
  go = true;
  for (auto& t : pool) t.join();
  double elapsed = seconds_since(start);
  if (bad.load() || elapsed <= 0) return 0;
  return static_cast<double>(total.load()) / elapsed;
}

}  // namespace

double SignatureLimit::ratio(double signatures_per_s) const {
  double limit = per_core * static_cast<double>(cores);
  return limit > 0 ? signatures_per_s / limit : 0;
}

double SignatureLimit::openssl_ratio(double signatures_per_s) const {
  double limit = openssl_per_core * static_cast<double>(cores);
  return limit > 0 ? signatures_per_s / limit : 0;
}

SignatureLimit SignatureLimit::best_of(const SignatureLimit& a, const SignatureLimit& b) {
  SignatureLimit best = a;
  best.per_core = std::max(a.per_core, b.per_core);
  best.all_cores = std::max(a.all_cores, b.all_cores);
  best.openssl_per_core = std::max(a.openssl_per_core, b.openssl_per_core);
  best.readings = a.readings + b.readings;
  return best;
}

void judge_against(nlohmann::json& s, const SignatureLimit& limit) {
  double ratio = limit.ratio(s.value("signatures_per_s", 0.0));
  s["limit"] = limit.to_json();
  s["limit_per_core"] = limit.per_core;
  s["cores"] = limit.cores;
  s["ratio"] = ratio;
  s["ratio_to_openssl"] = limit.openssl_ratio(s.value("signatures_per_s", 0.0));
  if (!s.contains("targets")) return;
  for (auto& t : s["targets"]) {
    if (!t.contains("ratio_goal")) continue;
    t["value"] = ratio;
    t["met"] = ratio >= t["ratio_goal"].get<double>();
  }
}

nlohmann::json SignatureLimit::to_json() const {
  return {{"algorithm", algorithm},
          {"how", "crypto PublicKey::verify (libsodium) over a transfer's signing input"},
          {"message_bytes", message_bytes},
          {"cores", cores},
          {"verify_per_s_1_thread", per_core},
          {"verify_per_s_all_cores", all_cores},
          {"limit_per_core", per_core},
          {"limit_all_cores", per_core * static_cast<double>(cores)},
          {"openssl_verify_per_s_1_thread", openssl_per_core},
          {"seconds_each", seconds_each},
          {"readings", readings}};
}

Result<SignatureLimit> measure_signature_limit(std::chrono::milliseconds each, unsigned cores) {
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  if (!key) return key.status();
  // A single-serial transfer like the ones the benchmark submits.
  Transaction tx;
  tx.type = TxType::transfer;
  tx.ledger_id = "chipledger.dev/bench-limit";
  tx.author = "maker";
  tx.key_id = key->public_key().key_id();
  tx.time_ms = unix_ms();
  tx.to = "distributor";
  tx.ship_to_country = "SG";
  tx.refs.push_back({"BENCH-LIMIT-000000001", sha256(std::string_view("prev"))});
  auto stx = sign_transaction(tx, *key);
  if (!stx) return stx.status();
  Bytes message = signing_input(stx->body);

  SignatureLimit limit;
  limit.cores = cores;
  limit.message_bytes = message.size();
  limit.seconds_each = std::chrono::duration<double>(each).count();
  limit.per_core = verify_rate(key->public_key(), message, stx->signature, 1, each);
  limit.all_cores = verify_rate(key->public_key(), message, stx->signature, cores, each);
  auto reference = OpenSslEd25519Verifier::from(key->public_key());
  if (!reference) return reference.status();
  limit.openssl_per_core = verify_rate(*reference, message, stx->signature, 1, each);
  if (limit.per_core <= 0 || limit.all_cores <= 0 || limit.openssl_per_core <= 0) {
    return Result<SignatureLimit>::error("a signature did not verify while measuring the limit");
  }
  return limit;
}

}  // namespace chipledger::bench
