// Keeps this node's latest signed checkpoint: after each block, refresh()
// signs (ledger id, size, root) with the node's Ed25519 key as a C2SP
// signed note and keeps it in the ledger's checkpoint column. latest() is
// safe from any thread.
#pragma once

#include <mutex>
#include <string>

#include "crypto/keys.h"
#include "ledger/ledger.h"

namespace chipledger {

class CheckpointPublisher {
 public:
  CheckpointPublisher(Ledger& ledger, std::string node_id, PrivateKey key)
      : ledger_(ledger), node_id_(std::move(node_id)), key_(std::move(key)) {}

  Status refresh();
  std::string latest() const;
  uint64_t latest_size() const;

 private:
  Ledger& ledger_;
  std::string node_id_;
  PrivateKey key_;
  mutable std::mutex mu_;
  std::string note_;
  uint64_t size_ = 0;
};

}  // namespace chipledger
