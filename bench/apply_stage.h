// The node's serial stage alone: Ledger::apply_block on a real RocksDB store
// in this process, fed blocks of single-serial transfers and then their
// accepts, whose signatures were checked beforehand (as a node's HTTP threads
// check them before a block is proposed). Timed on this thread's CPU clock
// and the wall clock, per transaction. No HTTP, no Raft, no other thread
// competing: the figure moves only with what the apply step itself costs,
// so changes to it can be compared on a noisy machine (docs/performance.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/scenarios.h"
#include "crypto/result.h"

namespace chipledger::bench {

struct ApplyStageOptions {
  size_t serials = 100000;  // registered, then each transferred once and accepted once
  size_t block = 500;       // transactions per apply_block (a loaded node's blocks: 300-600)
  std::string store_dir;    // a folder that does not exist yet: the RocksDB store
  std::string tag;          // serial names' prefix
  unsigned prep_threads = 1;
};

// {"transfers": {...}, "accepts": {...}, "register": {...}}, each with
// transactions, blocks, wall and CPU seconds and microseconds per transaction.
Result<nlohmann::json> run_apply_stage(const Members& members, const ApplyStageOptions& o);

}  // namespace chipledger::bench
