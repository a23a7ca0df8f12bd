#include "ledger/block.h"

#include <string>

#include "ledger/codec.h"

namespace chipledger {

Bytes encode_block(const Block& block) {
  Writer w;
  w.u8(kBlockVersion).u8(kBlockKind).u64(block.time_ms);
  w.u32(static_cast<uint32_t>(block.txs.size()));
  for (const auto& tx : block.txs) w.bytes(tx.wire());
  return w.take();
}

Result<Block> decode_block(ByteView bytes) {
  Reader r(bytes);
  auto version = r.u8("block version");
  if (!version) return version.status();
  if (*version != kBlockVersion) {
    return Result<Block>::error("unknown block version " + std::to_string(*version));
  }
  auto kind = r.u8("block kind");
  if (!kind) return kind.status();
  if (*kind != kBlockKind) {
    return Result<Block>::error("unknown block kind " + std::to_string(*kind));
  }
  Block block;
  auto time = r.u64("block time");
  if (!time) return time.status();
  block.time_ms = *time;
  auto n = r.count("block transactions", kMaxBlockTransactions);
  if (!n) return n.status();
  block.txs.reserve(std::min<uint32_t>(*n, 4096));
  for (uint32_t i = 0; i < *n; ++i) {
    auto wire = r.bytes("block transaction", r.remaining());
    if (!wire) return wire.status().context("transaction " + std::to_string(i) + " of the block");
    auto tx = SignedTransaction::decode(*wire);
    if (!tx) return tx.status().context("transaction " + std::to_string(i) + " of the block");
    block.txs.push_back(std::move(*tx));
  }
  CL_TRY(r.expect_end("the block"));
  return block;
}

}  // namespace chipledger
