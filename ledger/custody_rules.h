// The custody rules: a pure, deterministic function from (consortium, the
// current state, one signed transaction, the block's time) to either the new
// records of the serials it touches or a refusal with a reason a person
// understands. No I/O, clocks or threads: every node replays it identically.
// Signatures are checked by check_signature, separately, so a node verifies
// each transaction's signature exactly once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/consortium.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

// What the rules read: serial records and the set of applied transactions.
class StateView {
 public:
  virtual ~StateView() = default;
  virtual Result<std::optional<SerialRecord>> serial(std::string_view serial) const = 0;
  // The log index of an applied transaction with this id, if any.
  virtual Result<std::optional<uint64_t>> find_txid(const Hash& txid) const = 0;
};

using SerialUpdates = std::vector<std::pair<std::string, SerialRecord>>;

// The author, key and signature: ok when `tx` is signed by a key of its
// author listed in the consortium, for this ledger.
Status check_signature(const Consortium& consortium, const SignedTransaction& tx);

// Applies every rule; on success returns the new record of each serial the
// transaction touches (the transaction is all-or-nothing). `log_index` is the
// index the transaction will get if accepted.
Result<SerialUpdates> apply_rules(const Consortium& consortium, const StateView& state,
                                  const SignedTransaction& tx, uint64_t block_time_ms,
                                  uint64_t log_index);

}  // namespace chipledger
