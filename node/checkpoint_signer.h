// This node's signature on checkpoints: a C2SP tlog-cosignature/v1 by its
// Ed25519 node key under its node id, dated by an injectable clock (the
// seam tests drive time through). Times never go back: a signature is
// dated max(now, the time of the last one), so a clock stepped backwards
// cannot make a newer signature look older. Not thread-safe (its owner
// serialises).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "ledger/cosignature_book.h"

namespace chipledger {

class CheckpointSigner {
 public:
  using Clock = std::function<uint64_t()>;  // milliseconds since the epoch
  static uint64_t system_ms();

  CheckpointSigner(std::string node_id, PrivateKey key, Clock now_ms = system_ms);

  // Cosigns a checkpoint body (ending in "\n") now.
  Result<TimedSignature> sign(std::string_view text);
  // The clock in POSIX seconds.
  uint64_t now_seconds() const { return now_ms_() / 1000; }
  const std::string& node_id() const { return node_id_; }

 private:
  std::string node_id_;
  PrivateKey key_;
  Clock now_ms_;
  uint64_t last_ = 0;  // the time of the last signature
};

}  // namespace chipledger
