// The custody rules: a pure, deterministic function from (consortium, the
// current state, one signed transaction, the block's time) to either the
// effects of the transaction or a refusal with a reason a person
// understands. No I/O, clocks or threads: every node replays it identically.
// Signatures are checked by check_signature, separately, so a node verifies
// each transaction's signature exactly once. Rules: docs/rules.md.
// Each serial's new record is decided by the custody engine (apply_event,
// ledger/custody_engine.h), the same function a verifier replays; here are
// only the checks that need the whole ledger state: replay, the signed time
// against the block's time, a license's id being new and its quantity left,
// the attested (or located) checkpoint being the ledger's own and recent, a
// landmark's nonce never recorded before, an
// attestation's chip signatures all covered, and the chips already in a
// unit not flagged when more are packed into it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/consortium.h"
#include "ledger/custody_engine.h"
#include "ledger/license_record.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

// A checkpoint the ledger published: its root and the time of its block.
struct CheckpointRef {
  Hash root{};
  uint64_t time_ms = 0;
};

// What the rules read.
class StateView {
 public:
  virtual ~StateView() = default;
  virtual Result<std::optional<SerialRecord>> serial(std::string_view serial) const = 0;
  // The log index of an applied transaction with this id, if any.
  virtual Result<std::optional<uint64_t>> find_txid(const Hash& txid) const = 0;
  virtual Result<std::optional<LicenseRecord>> license(std::string_view id) const = 0;
  // The checkpoint at a log size that ended a committed block, if any.
  virtual Result<std::optional<CheckpointRef>> checkpoint(uint64_t size) const = 0;
  // Whether a locate recorded a statement of `landmark` with this nonce.
  virtual Result<bool> location_nonce_used(std::string_view landmark, const Hash& nonce) const = 0;
};

// What an accepted transaction changes.
struct Effects {
  // The new record of every serial it affects (named, or packed in a named unit).
  std::vector<std::pair<std::string, SerialRecord>> serials;
  std::vector<LicenseRecord> licenses;  // new or updated licenses
  // Earlier events to list in a serial's history as well: (serial, log index)
  // of the license a transfer used.
  std::vector<std::pair<std::string, uint64_t>> related;
  // The (landmark, nonce) of each statement a locate recorded: never again.
  std::vector<std::pair<std::string, Hash>> location_nonces;
};

// Where a recorded (landmark, nonce) is kept (Column::txids, beside the
// transaction ids: longer than their 32-byte keys, so never one of them).
std::string location_nonce_key(std::string_view landmark, const Hash& nonce);

// The author and key, without the signature: ok when the author is a
// member of the consortium, not suspended, and holds the key that signed.
Status check_author(const Consortium& consortium, const Transaction& tx);

// The author, key and signature: ok when `tx` is signed by a key of its
// author listed in the consortium, for this ledger.
Status check_signature(const Consortium& consortium, const SignedTransaction& tx);

// The checks every transaction passes before its own rules, custody or
// governance: its author is a member, not suspended, and still holds the
// key that signed (the consortium may have changed since the signature was
// checked at the door); it is not a replay; its signed time is within the
// policy's skew of the block's time.
Status check_common_rules(const Consortium& consortium, const StateView& state,
                          const SignedTransaction& tx, uint64_t block_time_ms);

// Applies every rule; the transaction is all-or-nothing. `log_index` is the
// index the transaction will get if accepted.
Result<Effects> apply_rules(const Consortium& consortium, const StateView& state,
                            const SignedTransaction& tx, uint64_t block_time_ms,
                            uint64_t log_index);

}  // namespace chipledger
