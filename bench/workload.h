// The transactions the benchmarks submit or apply, built the same way for
// every scenario: serial names, register transactions of many serials, and
// single-serial transfers (maker -> distributor) and accepts, each signed
// with the dev consortium's keys (`chipledger-node init`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "bench/scenarios.h"
#include "crypto/result.h"
#include "ledger/transaction.h"

namespace chipledger::bench {

// Runs fn(i) for i in [0, n) on `threads` threads; the first failure wins.
Status parallel_for(size_t n, unsigned threads, const std::function<Status(size_t)>& fn);

// Serial i of a run tagged `tag` ("TAG-0000000042").
std::string serial_name(const std::string& tag, size_t i);

// The t-th register transaction of `batch` serials (of serials [0, count)
// of `tag`), by the maker, signed at time_ms.
Result<SignedTransaction> registration(const Members& m, const std::string& tag, size_t count,
                                       size_t batch, size_t t, uint64_t time_ms);

// Serial i's transfer (TxType::transfer, maker -> distributor, shipped to
// SG) or accept (TxType::accept, by the distributor), naming `prev` as the
// serial's latest event, signed at time_ms.
Result<SignedTransaction> single_move(const Members& m, TxType type, const std::string& tag,
                                      size_t i, const Hash& prev, uint64_t time_ms);

}  // namespace chipledger::bench
