// A block: the unit of replication, one Raft log entry. The leader gathers
// signed transactions for a few milliseconds and stamps the block with its
// clock; every node applies the same block with the same time, so the pure
// custody rules give every node the same result. Canonical encoding
// (docs/encoding.md, "Blocks"): one encoding per block, and decode_block
// refuses anything else (truncation, trailing bytes, unknown version or
// kind, a malformed transaction inside).
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "ledger/transaction.h"

namespace chipledger {

inline constexpr uint8_t kBlockVersion = 1;
inline constexpr uint8_t kBlockKind = 1;  // a block of transactions (other kinds may follow)
inline constexpr uint32_t kMaxBlockTransactions = 100000;

struct Block {
  uint64_t time_ms = 0;  // the leader's clock when the block closed, Unix milliseconds
  std::vector<SignedTransaction> txs;
};

Bytes encode_block(const Block& block);
// Refuses malformed input with a reason; a decoded block re-encodes to the
// same bytes.
Result<Block> decode_block(ByteView bytes);

}  // namespace chipledger
