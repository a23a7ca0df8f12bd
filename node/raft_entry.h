// One committed Raft entry and the ledger: the entry framing
// (docs/encoding.md, "Blocks") and the FSM's apply step, shared by the
// Replicator (libuv I/O, TCP) and the deterministic simulation tests
// (raft/fixture.h), so both drive the same state machine. No libraft types
// here.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "ledger/block.h"
#include "ledger/ledger.h"

namespace chipledger {

// u64 block length || block || zero bytes up to a multiple of 8: libraft
// 0.15 needs entry lengths that are multiples of 8 bytes.
Bytes frame_entry(ByteView block);
// The block inside an entry; refuses a length that does not match the
// entry's size, and non-zero padding.
Result<ByteView> unframe_entry(ByteView entry);

// A block this node proposed as leader, with the signatures it checked on
// arrival (checked[i] for block.txs[i]).
struct ProposedBlock {
  Block block;
  std::vector<bool> checked;
};

// The framed entry for a proposal.
Bytes encode_proposal(const ProposedBlock& proposal);

// Applies committed entry `index` (its framed bytes) to the ledger, storing
// the index in the block's own write. nullopt: the ledger applied it before
// (at or below applied_entry(): replayed after a restart). `own`: this
// node's proposal of this very entry, applied as it is (no decoding; its
// arrival checks stand; its transactions are moved out). A failed Result:
// the entry does not decode or the write failed; the node must stop
// applying, never skip.
// `time_ms`, when given, receives the block's proposed time.
Result<std::optional<std::vector<TxOutcome>>> apply_entry(Ledger& ledger, uint64_t index,
                                                          ByteView entry, ProposedBlock* own,
                                                          uint64_t* time_ms = nullptr);

}  // namespace chipledger
