#include "node/checkpoint_store.h"

namespace chipledger {

Status CheckpointStore::save(uint64_t size, const std::string& note) {
  return ledger_.save_checkpoint(size, note).context("saving checkpoint " + std::to_string(size));
}

Result<std::optional<std::string>> CheckpointStore::load(uint64_t size) const {
  return ledger_.checkpoint_at(size);
}

}  // namespace chipledger
