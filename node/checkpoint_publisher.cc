#include "node/checkpoint_publisher.h"

#include <algorithm>

#include "node/node_log.h"

namespace chipledger {

CheckpointPublisher::CheckpointPublisher(Ledger& ledger, std::string node_id, PrivateKey key,
                                         FatalHandler on_fatal, Options options)
    : ledger_(ledger),
      on_fatal_(std::move(on_fatal)),
      options_(options),
      book_(
          [&ledger](uint64_t size) { return ledger.consortium_at(size); }, node_id,
          CosignatureBook::Options{1024, 1024, ledger.genesis().policy().max_clock_skew_ms / 1000}),
      store_(ledger),
      signer_(node_id, std::move(key), options.now_ms) {}

CheckpointPublisher::~CheckpointPublisher() { close(); }

Status CheckpointPublisher::recall(uint64_t size) {
  if (book_.remembers(size)) return Status::ok();
  auto raw = store_.load(size);
  if (!raw) return raw.status();
  if (!raw->has_value()) return Status::ok();
  if (auto entry = book_.parse_stored(**raw, size)) book_.recall(size, std::move(*entry));
  return Status::ok();
}

Status CheckpointPublisher::sign_current(std::string& newly_failed) {
  bool was_failed = book_.failed();
  uint64_t size = ledger_.size();
  auto root = ledger_.root_at(size);
  if (!root) return root.status().context("checkpoint root");
  auto state_root = ledger_.state_root_at(size);
  if (!state_root) return state_root.status().context("checkpoint state root");
  // What this node signed at this size before (in memory, or on disk from
  // before a restart) must be what its ledger says now: the book checks.
  CL_TRY(recall(size));
  auto own = signer_.sign(book_.text(size, *root, *state_root));
  if (!own) return own.status();
  auto signed_note = book_.sign_own(size, *root, *state_root, std::move(*own));
  if (!was_failed && book_.failed()) newly_failed = book_.failure();
  if (!signed_note) return signed_note.status();
  if (!signed_note->warning.empty()) {
    LogLine(LogLevel::warn) << "chipledger-node " << node_id() << ": " << signed_note->warning;
  }
  CL_TRY(store_.save(size, signed_note->note));
  return Status::ok();
}

Status CheckpointPublisher::refresh() {
  std::string newly_failed;
  Status result = Status::ok();
  std::optional<uint64_t> quorum_size;
  {
    std::lock_guard lock(mu_);
    result = sign_current(newly_failed);
    quorum_size = book_.quorum_size();
  }
  if (result) notifier_.signed_own();
  notifier_.cosigned(quorum_size);
  if (!newly_failed.empty()) {
    notifier_.failed();
    if (on_fatal_) on_fatal_(newly_failed);
  }
  return result;
}

Result<bool> CheckpointPublisher::resign_if_due() {
  {
    std::lock_guard lock(mu_);
    if (book_.failed()) return false;
    auto own = book_.own_time(ledger_.size());
    if (own && signer_.now_seconds() < *own + options_.resign_interval_seconds) return false;
  }
  CL_TRY(refresh());
  return true;
}

CosignOutcome CheckpointPublisher::add_signatures(std::string_view wire) {
  using Kind = CosignOutcome::Kind;
  CosignOutcome out;
  auto checked = book_.check(wire, signer_.now_seconds());
  if (!checked) {
    out.kind = Kind::refused;
    out.reason = checked.reason();
    return out;
  }
  std::string newly_failed;
  std::optional<uint64_t> quorum_size;
  {
    std::lock_guard lock(mu_);
    bool was_failed = book_.failed();
    uint64_t own_size = ledger_.size();
    std::optional<Hash> own_root;
    std::optional<Hash> own_state_root;
    if (checked->size <= own_size) {
      auto root = ledger_.root_at(checked->size);
      // A size older than the state map keeps cannot be compared: refused.
      auto state_root = root ? ledger_.state_root_at(checked->size) : Result<Hash>(root.status());
      if (!state_root) {
        out.kind = Kind::refused;
        out.reason = state_root.reason();
        return out;
      }
      own_root = *root;
      own_state_root = *state_root;
      if (Status st = recall(checked->size); !st) {
        out.kind = Kind::refused;
        out.reason = st.reason();
        return out;
      }
    }
    out = book_.add(*checked, own_size, own_root, own_state_root);
    if (out.kind == Kind::kept && out.needs_own) {
      // A size this node reached but kept no signature for: its own ledger
      // has these roots, so it signs them too.
      auto own = signer_.sign(checked->text);
      auto signed_note =
          own ? book_.sign_own(checked->size, *own_root, *own_state_root, std::move(*own))
              : Result<CosignatureBook::Signed>(own.status());
      if (!signed_note) {
        out.kind = Kind::refused;
        out.reason = signed_note.reason();
      } else {
        out.changed = true;
        out.signers.push_back(node_id());
        std::sort(out.signers.begin(), out.signers.end());
      }
    }
    if (out.kind == Kind::kept && out.changed) {
      auto note = book_.note_at(checked->size);
      Status st = note ? store_.save(checked->size, *note) : Status::ok();
      if (!st) {
        out.kind = Kind::refused;
        out.reason = st.reason();
      }
    }
    if (!was_failed && book_.failed()) newly_failed = book_.failure();
    quorum_size = book_.quorum_size();
  }
  if (!out.warning.empty()) {
    LogLine(LogLevel::warn) << "chipledger-node " << node_id() << ": " << out.warning;
  }
  notifier_.cosigned(quorum_size);  // a quorum may have been reached
  if (!newly_failed.empty()) {
    notifier_.failed();
    if (on_fatal_) on_fatal_(newly_failed);
  }
  return out;
}

ServedCheckpoint CheckpointPublisher::served() const {
  std::lock_guard lock(mu_);
  return book_.served();
}

ServedCheckpoint CheckpointPublisher::newest(uint64_t* version) const {
  if (version) *version = notifier_.version();
  std::lock_guard lock(mu_);
  return book_.newest();
}

bool CheckpointPublisher::failed() const {
  std::lock_guard lock(mu_);
  return book_.failed();
}

std::string CheckpointPublisher::failure() const {
  std::lock_guard lock(mu_);
  return book_.failure();
}

}  // namespace chipledger
