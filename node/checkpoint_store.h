// Where a node keeps its signed checkpoints: the ledger's checkpoint column
// (one note per log size, every signature the node holds on it). A note
// saved replaces the one stored at that size. Thread-safe as the Ledger is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/result.h"
#include "ledger/ledger.h"

namespace chipledger {

class CheckpointStore {
 public:
  explicit CheckpointStore(Ledger& ledger) : ledger_(ledger) {}

  Status save(uint64_t size, const std::string& note);
  // The note stored at `size` (nullopt: none).
  Result<std::optional<std::string>> load(uint64_t size) const;

 private:
  Ledger& ledger_;
};

}  // namespace chipledger
