#include "bench/apply_stage.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iterator>
#include <vector>

#include "bench/stats.h"
#include "bench/workload.h"
#include "ledger/ledger.h"
#include "ledger/rocks_store.h"

namespace chipledger::bench {
namespace {

using nlohmann::json;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Checked as the node checks an arriving transaction; the apply step then
// does not check it again.
Result<std::vector<PendingTx>> checked(const Ledger& ledger, std::vector<SignedTransaction> txs) {
  std::vector<PendingTx> out;
  out.reserve(txs.size());
  for (auto& tx : txs) {
    if (Status st = ledger.check_arrival(tx); !st) return st.context("checking a signature");
    out.push_back(PendingTx{std::move(tx), true});
  }
  return out;
}

// Applies `txs` in blocks of `block`; every one must be accepted.
Result<json> apply_all(Ledger& ledger, std::vector<PendingTx> txs, size_t block) {
  double cpu = 0, wall = 0;
  size_t blocks = 0;
  for (size_t i = 0; i < txs.size(); i += block) {
    size_t end = std::min(txs.size(), i + block);
    std::vector<PendingTx> part(std::make_move_iterator(txs.begin() + i),
                                std::make_move_iterator(txs.begin() + end));
    uint64_t time_ms = unix_ms();
    double cpu_start = thread_cpu_seconds();
    auto start = SteadyClock::now();
    auto outcomes = ledger.apply_block(std::move(part), time_ms);
    wall += seconds_since(start);
    cpu += thread_cpu_seconds() - cpu_start;
    ++blocks;
    if (!outcomes) return outcomes.status().context("applying a block");
    for (const auto& out : *outcomes) {
      if (!out.accepted) return Status::error("a transaction was refused: " + out.reason);
    }
  }
  double n = static_cast<double>(txs.size());
  return json{{"transactions", txs.size()},
              {"blocks", blocks},
              {"wall_seconds", wall},
              {"cpu_seconds", cpu},
              {"wall_us_per_tx", n > 0 ? wall * 1e6 / n : 0},
              {"cpu_us_per_tx", n > 0 ? cpu * 1e6 / n : 0}};
}

// Serial i's moves of `type`, each naming prev(i).
Result<std::vector<SignedTransaction>> moves(const Members& m, TxType type,
                                             const ApplyStageOptions& o,
                                             const std::function<Hash(size_t)>& prev) {
  std::vector<SignedTransaction> out(o.serials);
  uint64_t now = unix_ms();
  CL_TRY(parallel_for(o.serials, o.prep_threads, [&](size_t i) -> Status {
    auto stx = single_move(m, type, o.tag, i, prev(i), now);
    if (!stx) return stx.status();
    out[i] = std::move(*stx);
    return Status::ok();
  }));
  return out;
}

// Registrations and moves through functions of their own, so that a
// profiler can be told to count the moves only (valgrind --tool=callgrind
// --toggle-collect='*apply_moves*').
[[gnu::noinline]] Result<json> apply_registrations(Ledger& ledger, std::vector<PendingTx> txs) {
  return apply_all(ledger, std::move(txs), 1);
}

[[gnu::noinline]] Result<json> apply_moves(Ledger& ledger, std::vector<PendingTx> txs,
                                           size_t block) {
  return apply_all(ledger, std::move(txs), block);
}

}  // namespace

Result<json> run_apply_stage(const Members& m, const ApplyStageOptions& o) {
  if (o.serials == 0 || o.block == 0) return Status::error("serials and block must be at least 1");
  if (std::filesystem::exists(o.store_dir)) {
    return Status::error(o.store_dir + " already exists: the store must be fresh");
  }
  auto store = RocksStore::open(o.store_dir);
  if (!store) return store.status().context("opening the store");
  auto opened = Ledger::open(std::move(*store), m.consortium);
  if (!opened) return opened.status().context("opening the ledger");
  Ledger& ledger = **opened;

  const size_t batch = 10000;
  size_t n_regs = (o.serials + batch - 1) / batch;
  std::vector<SignedTransaction> regs(n_regs);
  uint64_t now = unix_ms();
  for (size_t t = 0; t < n_regs; ++t) {
    auto stx = registration(m, o.tag, o.serials, batch, t, now);
    if (!stx) return stx.status();
    regs[t] = std::move(*stx);
  }
  std::vector<Hash> reg_ids;
  for (const auto& r : regs) reg_ids.push_back(r.txid);
  auto transfers = moves(m, TxType::transfer, o, [&](size_t i) { return reg_ids[i / batch]; });
  if (!transfers) return transfers.status();
  std::vector<Hash> transfer_ids;
  for (const auto& t : *transfers) transfer_ids.push_back(t.txid);
  auto accepts = moves(m, TxType::accept, o, [&](size_t i) { return transfer_ids[i]; });
  if (!accepts) return accepts.status();

  json out{{"serials", o.serials}, {"block", o.block}};
  auto reg_txs = checked(ledger, std::move(regs));
  if (!reg_txs) return reg_txs.status();
  auto reg = apply_registrations(ledger, std::move(*reg_txs));
  if (!reg) return reg.status().context("registering");
  out["register"] = *reg;
  out["register"]["us_per_serial"] =
      (*reg)["cpu_seconds"].get<double>() * 1e6 / static_cast<double>(o.serials);
  for (auto [name, txs] : {std::pair{"transfers", &*transfers}, std::pair{"accepts", &*accepts}}) {
    auto pending = checked(ledger, std::move(*txs));
    if (!pending) return pending.status();
    auto r = apply_moves(ledger, std::move(*pending), o.block);
    if (!r) return r.status().context(name);
    out[name] = *r;
  }
  return out;
}

}  // namespace chipledger::bench
