// One in-process replicated node for the Raft tests: a RocksDB ledger, its
// Replicator (libuv I/O, TCP on loopback) and a BlockSequencer feeding it.
// Shared by raft_test.cc and raft_snapshot_test.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "ledger/rocks_store.h"
#include "node/block_sequencer.h"
#include "node/raft_replicator.h"
#include "tests/node/test_consortium.h"
#include "tests/node/test_tls.h"

namespace chipledger::testing {

struct RaftTestNode {
  uint64_t id = 0;
  std::string address;
  std::filesystem::path dir;
  std::chrono::milliseconds gather{2};           // the sequencer's block window
  std::function<void(ReplicatorOptions&)> tune;  // e.g. snapshot threshold and trailing
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<Replicator> replicator;
  std::unique_ptr<BlockSequencer> sequencer;
  std::atomic<int> after_apply_calls{0};

  Status start(const Consortium& consortium, const std::vector<RaftPeer>& cluster) {
    if (!ledger) {
      auto store = RocksStore::open((dir / "ledger").string());
      CL_TRY(store);
      auto l = Ledger::open(std::move(*store), consortium);
      CL_TRY(l);
      ledger = std::move(*l);
    }
    ReplicatorOptions o;
    o.id = id;
    o.address = address;
    o.cluster = cluster;
    o.dir = (dir / "raft").string();
    o.election_timeout_ms = 400;
    o.heartbeat_timeout_ms = 40;
    o.tls = test_identity("node-" + std::to_string(id), id);
    if (tune) tune(o);
    auto r = Replicator::start(*ledger, o, [this] { ++after_apply_calls; });
    CL_TRY(r);
    replicator = std::move(*r);
    Replicator* rep = replicator.get();
    sequencer = std::make_unique<BlockSequencer>(
        [rep](std::vector<PendingTx> txs, uint64_t t) { return rep->propose(std::move(txs), t); },
        [] { return kT0; }, BlockSequencer::Options{gather, 2000}, nullptr);
    sequencer->start();
    return Status::ok();
  }

  // Stops serving; the ledger stays open (a restart reuses it).
  void stop() {
    if (sequencer) sequencer->stop();
    if (replicator) replicator->stop();
    sequencer.reset();
    replicator.reset();
  }

  bool running() const { return replicator != nullptr; }

  // Submits one transaction and waits for its answer.
  Result<TxOutcome> submit(const SignedTransaction& tx, bool checked = true) {
    auto p = std::make_shared<std::promise<Result<TxOutcome>>>();
    auto f = p->get_future();
    sequencer->submit(PendingTx{tx, checked}, [p](Result<TxOutcome> r) { p->set_value(r); });
    if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      return Status::error("no answer within 60 s");
    }
    return f.get();
  }
};

}  // namespace chipledger::testing
