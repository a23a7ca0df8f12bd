// libFuzzer target: committed Raft entries as a follower applies them
// (node/raft_entry.h apply_entry: the entry framing, the block decoder and
// the ledger's apply step through the custody rules), over an in-memory
// ledger of the fuzz world (tests/fuzz/fuzz_world.h). The input is a
// sequence of entries, each cut where its own length field says (so a
// seed of several blocks replays a story), applied at entries 1, 2, ...
// Nothing crashes, leaks or hits UB; an entry that decodes re-frames and
// re-encodes to its own bytes; a refused entry changes nothing; an entry
// applied again (a replay after a restart) is skipped; and the ledger's
// root is the RFC 9162 root of the leaves it accepted.
#include <cstdlib>

#include "crypto/merkle.h"
#include "node/raft_entry.h"
#include "tests/fuzz/fuzz_world.h"

namespace {

using namespace chipledger;

size_t entry_length(const uint8_t* data, size_t left) {
  if (left < 8) return left;
  uint64_t n = 0;
  for (size_t i = 0; i < 8; ++i) n = n << 8 | data[i];
  if (n > left) return left;
  uint64_t padded = (8 + n + 7) / 8 * 8;
  return padded > left ? left : static_cast<size_t>(padded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ledger = fuzz::fresh_ledger();
  std::vector<Hash> leaves;
  uint64_t index = 0;
  for (size_t at = 0; at < size && index < 16;) {
    size_t n = entry_length(data + at, size - at);
    ByteView entry(data + at, n);
    at += n;
    ++index;

    if (auto block = unframe_entry(entry)) {
      if (frame_entry(*block) != Bytes(entry.begin(), entry.end())) std::abort();
      if (auto decoded = decode_block(*block)) {
        if (encode_block(*decoded) != Bytes(block->begin(), block->end())) std::abort();
      }
    }
    const uint64_t size_before = ledger->size();
    const Hash root_before = *ledger->root_at(size_before);
    auto applied = apply_entry(*ledger, index, entry, nullptr);
    if (!applied) {
      // Refused whole: the node stops applying; the ledger is as it was.
      if (ledger->size() != size_before || *ledger->root_at(size_before) != root_before) {
        std::abort();
      }
      break;
    }
    if (!applied->has_value()) std::abort();  // a new entry is applied, not skipped
    if (ledger->applied_entry() != index) std::abort();
    for (const auto& outcome : **applied) {
      if (!outcome.accepted) continue;
      if (outcome.index != leaves.size()) std::abort();
      auto wire = ledger->event(outcome.index);
      if (!wire) std::abort();
      leaves.push_back(merkle::leaf_hash(*wire));
    }
    if (ledger->size() != leaves.size()) std::abort();
    if (*ledger->root_at(ledger->size()) != merkle::root_from_leaf_hashes(leaves)) std::abort();
    // Entry `index` again, as after a restart: skipped.
    auto again = apply_entry(*ledger, index, entry, nullptr);
    if (!again || again->has_value() || ledger->size() != leaves.size()) std::abort();
  }
  return 0;
}
