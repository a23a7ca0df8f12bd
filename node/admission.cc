#include "node/admission.h"

#include <algorithm>

namespace chipledger {

Admission::Admission(const Ledger& ledger, size_t capacity, size_t per_client_capacity)
    : ledger_(ledger),
      capacity_(capacity),
      per_client_capacity_(per_client_capacity ? std::min(per_client_capacity, capacity)
                                               : std::max<size_t>(1, capacity / 4)) {}

// The refusals decided by the waiting books alone (mu_ held).
std::optional<Admission::Decision> Admission::refuse_locked(const Hash& txid,
                                                            const std::string& client) const {
  if (waiting_.count(txid)) {
    return Decision{Verdict::waiting, 0,
                    "this transaction is already on its way through this node; its outcome is not "
                    "known yet (GET /v1/transactions/TXID)"};
  }
  if (waiting_.size() >= capacity_) {
    return Decision{Verdict::full, 0,
                    "the node has " + std::to_string(capacity_) +
                        " transactions waiting to be applied; retry shortly"};
  }
  auto it = per_client_.find(client);
  if (it != per_client_.end() && it->second >= per_client_capacity_) {
    return Decision{Verdict::client_full, 0,
                    "your address has " + std::to_string(per_client_capacity_) +
                        " transactions waiting to be applied already ([api] "
                        "max_pending_per_address); retry shortly"};
  }
  return std::nullopt;
}

Admission::Decision Admission::admit(const SignedTransaction& tx, const std::string& client,
                                     const std::function<Status()>& check_signature) {
  const Hash& txid = tx.txid;
  {
    std::lock_guard lock(mu_);
    if (auto refused = refuse_locked(txid, client)) return *refused;
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
  if (auto refused = refuse_locked(txid, client)) return *refused;
  waiting_.emplace(txid, client);
  ++per_client_[client];
  return Decision{};
}

void Admission::release(const Hash& txid) {
  std::lock_guard lock(mu_);
  auto it = waiting_.find(txid);
  if (it == waiting_.end()) return;
  auto c = per_client_.find(it->second);
  if (c != per_client_.end() && --c->second == 0) per_client_.erase(c);
  waiting_.erase(it);
}

size_t Admission::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

bool Admission::is_waiting(const Hash& txid) const {
  std::lock_guard lock(mu_);
  return waiting_.count(txid) > 0;
}

size_t Admission::waiting_from(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client);
  return it == per_client_.end() ? 0 : it->second;
}

}  // namespace chipledger
