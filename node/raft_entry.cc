#include "node/raft_entry.h"

#include <cstring>
#include <string>

namespace chipledger {
namespace {

constexpr size_t kFrameHeader = 8;

size_t padded(size_t n) { return (n + 7) / 8 * 8; }

}  // namespace

Bytes frame_entry(ByteView block) {
  Bytes out(padded(kFrameHeader + block.size()), 0);
  uint64_t n = block.size();
  for (int i = 7; i >= 0; --i, n >>= 8) out[static_cast<size_t>(i)] = static_cast<uint8_t>(n);
  if (!block.empty()) std::memcpy(out.data() + kFrameHeader, block.data(), block.size());
  return out;
}

Result<ByteView> unframe_entry(ByteView entry) {
  if (entry.size() < kFrameHeader || entry.size() % 8 != 0) {
    return Result<ByteView>::error("an entry of " + std::to_string(entry.size()) +
                                   " bytes is not a framed block");
  }
  uint64_t n = 0;
  for (size_t i = 0; i < kFrameHeader; ++i) n = n << 8 | entry[i];
  if (n > entry.size() - kFrameHeader || padded(kFrameHeader + n) != entry.size()) {
    return Result<ByteView>::error("the entry's block length " + std::to_string(n) +
                                   " does not match its " + std::to_string(entry.size()) +
                                   " bytes");
  }
  for (size_t i = kFrameHeader + n; i < entry.size(); ++i) {
    if (entry[i] != 0) return Result<ByteView>::error("the entry's padding is not zero");
  }
  return entry.subspan(kFrameHeader, n);
}

Bytes encode_proposal(const ProposedBlock& proposal) {
  return frame_entry(encode_block(proposal.block));
}

Result<std::optional<std::vector<TxOutcome>>> apply_entry(Ledger& ledger, uint64_t index,
                                                          ByteView entry, ProposedBlock* own,
                                                          uint64_t* time_out) {
  using R = Result<std::optional<std::vector<TxOutcome>>>;
  if (index <= ledger.applied_entry()) return std::optional<std::vector<TxOutcome>>();
  std::vector<PendingTx> txs;
  uint64_t time_ms = 0;
  if (own) {
    time_ms = own->block.time_ms;
    txs.reserve(own->block.txs.size());
    for (size_t i = 0; i < own->block.txs.size(); ++i) {
      txs.push_back(
          PendingTx{std::move(own->block.txs[i]), i < own->checked.size() && own->checked[i]});
    }
    own->block.txs.clear();
  } else {
    auto framed = unframe_entry(entry);
    if (!framed) {
      return R::error("entry " + std::to_string(index) + " is not a block: " + framed.reason());
    }
    auto block = decode_block(*framed);
    if (!block) {
      return R::error("entry " + std::to_string(index) +
                      " is not a block this node can read: " + block.reason());
    }
    time_ms = block->time_ms;
    txs.reserve(block->txs.size());
    for (auto& tx : block->txs) txs.push_back(PendingTx{std::move(tx), false});
  }
  if (time_out) *time_out = time_ms;
  auto outcomes = ledger.apply_block(std::move(txs), time_ms, index);
  if (!outcomes) {
    return R(outcomes.status().context("applying entry " + std::to_string(index)));
  }
  return std::optional<std::vector<TxOutcome>>(std::move(*outcomes));
}

}  // namespace chipledger
