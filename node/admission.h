// The door of the submission path (docs/api.md, "Admission"): a signed
// transaction goes on to consensus only if it is not in the ledger already
// (a replay), not waiting already (admitted and not yet answered: a
// duplicate), carries a valid signature, and there is room (at most
// `capacity` transactions wait at once). The cheap checks come first, so a
// flood of replays of a public transaction costs a hash lookup each and
// never reaches the Raft log or a signature check. One client address may
// hold at most `per_client_capacity` of the waiting places, so a flood from
// one address leaves room for the others. Every admitted transaction must be
// released exactly once, when its outcome is answered. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "ledger/ledger.h"

namespace chipledger {

class Admission {
 public:
  enum class Verdict {
    admitted,       // reserved: submit it, then release() it
    in_ledger,      // a replay: committed at `index`
    waiting,        // the same transaction is already on its way
    bad_signature,  // the signature check failed (`reason`)
    full,           // `capacity` transactions wait already: retry shortly
    client_full,    // this client address holds its share already: retry shortly
    unavailable,    // the ledger could not be read (`reason`)
  };
  struct Decision {
    Verdict verdict = Verdict::admitted;
    uint64_t index = 0;  // in_ledger: the committed transaction's log index
    std::string reason;  // for a person: what was refused and why
  };

  static constexpr size_t kDefaultCapacity = 20000;
  // per_client_capacity 0: a quarter of `capacity` (at least 1).
  Admission(const Ledger& ledger, size_t capacity = kDefaultCapacity,
            size_t per_client_capacity = 0);

  // Decides about `tx` from `client` (its address); `check_signature` runs
  // only when the cheap checks pass. On `admitted` the transaction counts
  // as waiting (and as the client's) until release().
  Decision admit(const SignedTransaction& tx, const std::string& client,
                 const std::function<Status()>& check_signature);
  void release(const Hash& txid);

  size_t waiting() const;
  // Whether `txid` is on its way through this node (admitted, not released).
  bool is_waiting(const Hash& txid) const;
  size_t waiting_from(const std::string& client) const;
  size_t capacity() const { return capacity_; }
  size_t per_client_capacity() const { return per_client_capacity_; }

 private:
  std::optional<Decision> refuse_locked(const Hash& txid, const std::string& client) const;

  const Ledger& ledger_;
  const size_t capacity_;
  const size_t per_client_capacity_;
  mutable std::mutex mu_;
  std::map<Hash, std::string> waiting_;                 // txid -> client
  std::unordered_map<std::string, size_t> per_client_;  // client -> waiting
};

}  // namespace chipledger
