// A landmark (docs/location.md, section 5): times how long a chip takes to
// answer a fresh nonce, and signs a statement of the round trip. It knows
// no ledger and checks no chip signature (the ledger and `verify` do); it
// guarantees that each nonce is random, answered at most once and only
// within the challenge timeout, that the round trip it signs is what its
// monotonic clock measured from handing out the nonce to receiving the
// answer, and that at most `max_pending` challenges wait at once, at most
// `max_pending_per_address` of them from one client address. The
// clocks and the nonce source are seams, so tests drive them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crypto/keys.h"
#include "crypto/result.h"
#include "crypto/sha256.h"
#include "node/http_types.h"

namespace chipledger {

struct LandmarkOptions {
  std::string id;  // as the trust file names the landmark
  size_t max_pending = 4096;
  size_t max_pending_per_address = 64;  // one client cannot take every slot
  std::chrono::milliseconds challenge_timeout{5000};
};

class LandmarkService {
 public:
  using MonotonicUs = std::function<uint64_t()>;  // microseconds, never going back
  using WallMs = std::function<uint64_t()>;       // Unix milliseconds
  using NonceSource = std::function<Result<Hash>()>;
  LandmarkService(LandmarkOptions options, PrivateKey key, MonotonicUs monotonic, WallMs wall,
                  NonceSource nonces);
  // With the system's steady and wall clocks and OpenSSL's RAND_bytes.
  static std::unique_ptr<LandmarkService> with_system_clocks(LandmarkOptions options,
                                                             PrivateKey key);

  // POST /v1/location/challenge, POST /v1/location/answer, GET /v1/landmark
  // and GET /v1/health; anything else 404. Answers before returning.
  HttpResponse handle(const HttpRequest& req);
  size_t pending() const;

 private:
  struct Pending {
    std::string ledger_id;
    std::string serial;
    uint64_t checkpoint_size = 0;
    Hash checkpoint_root{};
    uint64_t sent_us = 0;
    std::string address;  // the client's
  };
  HttpResponse challenge(const HttpRequest& req);
  HttpResponse answer(const HttpRequest& req, uint64_t received_us);
  void drop_expired(uint64_t now_us);                 // with mu_ held
  void forget(std::map<Hash, Pending>::iterator it);  // with mu_ held

  LandmarkOptions options_;
  PrivateKey key_;
  MonotonicUs monotonic_;
  WallMs wall_;
  NonceSource nonces_;
  mutable std::mutex mu_;
  std::map<Hash, Pending> pending_;
  // (sent_us, nonce) in the order handed out, which is expiry order: the
  // expired are dropped from the front without a scan.
  std::deque<std::pair<uint64_t, Hash>> order_;
  std::map<std::string, size_t> per_address_;
};

}  // namespace chipledger
