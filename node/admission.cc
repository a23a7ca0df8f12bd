#include "node/admission.h"

namespace chipledger {

Admission::Decision Admission::admit(const SignedTransaction& tx,
                                     const std::function<Status()>& check_signature) {
  const Hash& txid = tx.txid;
  auto waiting = [] {
    return Decision{Verdict::waiting, 0,
                    "duplicate: this transaction is already waiting to be applied"};
  };
  {
    std::lock_guard lock(mu_);
    if (waiting_.count(txid)) return waiting();
  }
  auto index = ledger_.transaction_index(txid);
  if (!index) return Decision{Verdict::unavailable, 0, "cannot read the ledger: " + index.reason()};
  if (*index) {
    return Decision{
        Verdict::in_ledger, **index,
        "replay: this transaction is already in the ledger at index " + std::to_string(**index)};
  }
  if (Status sig = check_signature(); !sig) {
    return Decision{Verdict::bad_signature, 0, sig.reason()};
  }
  std::lock_guard lock(mu_);
  if (waiting_.count(txid)) return waiting();
  if (waiting_.size() >= capacity_) {
    return Decision{Verdict::full, 0,
                    "the node has " + std::to_string(capacity_) +
                        " transactions waiting to be applied; retry shortly"};
  }
  waiting_.insert(txid);
  return Decision{};
}

void Admission::release(const Hash& txid) {
  std::lock_guard lock(mu_);
  waiting_.erase(txid);
}

size_t Admission::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

}  // namespace chipledger
