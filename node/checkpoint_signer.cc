#include "node/checkpoint_signer.h"

#include <algorithm>
#include <chrono>

namespace chipledger {

uint64_t CheckpointSigner::system_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

CheckpointSigner::CheckpointSigner(std::string node_id, PrivateKey key, Clock now_ms)
    : node_id_(std::move(node_id)), key_(std::move(key)), now_ms_(std::move(now_ms)) {}

Result<TimedSignature> CheckpointSigner::sign(std::string_view text) {
  uint64_t time = std::max(now_seconds(), last_);
  auto sig = sign_cosignature(text, node_id_, key_, time);
  if (!sig) return sig.status().context("signing the checkpoint");
  last_ = time;
  return TimedSignature{std::move(*sig), time};
}

}  // namespace chipledger
