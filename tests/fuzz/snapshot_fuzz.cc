// libFuzzer target: a snapshot as a follower receives it in an
// InstallSnapshot from a peer (node/raft_replicator.cc fsm_restore:
// unframe_entry, then Ledger::restore: decode, the tree and root checks,
// the replay of its log through the rules in memory, the comparison of its
// derived state), over an in-memory ledger of the fuzz world
// (tests/fuzz/fuzz_world.h). The input is the framed snapshot, as libraft
// hands it over. Nothing crashes, leaks or hits UB; a refused snapshot
// leaves the ledger as it was; an installed one is a state the rules
// derive: the ledger's snapshot is then the input's bytes (the round
// trip), and installing it again is a no-op.
#include <cstdlib>

#include "node/raft_entry.h"
#include "tests/fuzz/fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  auto state = unframe_entry(ByteView(data, size));
  if (!state) return 0;
  // A follower with none of the story, and one with its first block (the
  // snapshot must extend its log).
  for (size_t blocks : {0, 1}) {
    auto ledger = fuzz::story_ledger(blocks);
    const uint64_t size_before = ledger->size();
    const Hash root_before = *ledger->root_at(size_before);
    auto restored = ledger->restore(*state);
    if (!restored || !*restored) {
      if (ledger->size() != size_before || *ledger->root_at(size_before) != root_before) {
        std::abort();
      }
      continue;
    }
    auto again = ledger->snapshot();
    if (!again || *again != Bytes(state->begin(), state->end())) std::abort();
    auto twice = ledger->restore(*state);
    if (!twice || *twice) std::abort();
  }
  return 0;
}
