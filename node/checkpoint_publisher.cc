#include "node/checkpoint_publisher.h"

#include "ledger/checkpoint.h"

namespace chipledger {

Status CheckpointPublisher::refresh() {
  uint64_t size = ledger_.size();
  auto root = ledger_.root_at(size);
  if (!root) return root.status().context("checkpoint root");
  Checkpoint cp{ledger_.consortium().ledger_id(), size, *root, {}};
  auto note = sign_checkpoint(cp, node_id_, key_);
  if (!note) return note.status().context("signing the checkpoint");
  CL_TRY(ledger_.save_checkpoint(size, *note).context("saving the checkpoint"));
  std::lock_guard lock(mu_);
  if (size >= size_ || note_.empty()) {
    note_ = std::move(*note);
    size_ = size;
  }
  return Status::ok();
}

std::string CheckpointPublisher::latest() const {
  std::lock_guard lock(mu_);
  return note_;
}

uint64_t CheckpointPublisher::latest_size() const {
  std::lock_guard lock(mu_);
  return size_;
}

}  // namespace chipledger
