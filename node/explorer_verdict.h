// GET /v1/chips/SERIAL/verdict (docs/explorer.md): the verifier of verify/
// run by this node on its own evidence at the checkpoint it serves: the same
// checks and the same report as `chipledger verify --json` (the governance
// followed from the trust file, every signature, inclusion and state proof,
// the custody rules replayed), with the checkpoint note it judged against.
// It is this node's word to whoever reads it (the web explorer says so and
// checks in the browser what it can); `chipledger verify` is the verdict
// that holds against a lying node. At most kConcurrent run at once (each
// checks every signature of a history): beyond, 503 with Retry-After.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "ledger/ledger.h"
#include "node/http_types.h"

namespace chipledger {

class ExplorerVerdicts {
 public:
  static constexpr int kConcurrent = 2;
  explicit ExplorerVerdicts(const Ledger& ledger) : ledger_(ledger) {}
  // `note` and `size`: the checkpoint the node serves; `now_ms`: its clock.
  HttpResponse verdict(const std::string& serial, const std::string& note, uint64_t size,
                       uint64_t now_ms);

 private:
  const Ledger& ledger_;
  std::atomic<int> running_{0};
};

}  // namespace chipledger
