// Gathers submitted transactions into blocks and applies each block to the
// ledger: a block closes after max_wait or max_transactions, is applied in
// one synced write, then after_block runs (the checkpoint is re-signed) and
// only then is each submitter answered, so an acknowledged transaction is
// durable and covered by the latest checkpoint.
// The clock is passed in (Unix milliseconds) so tests can drive time.
// Where a block goes is a BlockSink: the ledger directly, or replication
// (node/raft_replicator.h), which answers once the block's Raft entry is
// committed and applied on this node.
// Two threads: the gatherer closes blocks and proposes them to the sink in
// queue order; the answerer waits for each proposed block's outcomes, in
// the same order, runs after_block and answers. Up to max_in_flight blocks
// are proposed and not yet answered, so the next block's replication can
// overlap the apply of the one before it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "ledger/ledger.h"

namespace chipledger {

class BlockSequencer {
 public:
  using Clock = std::function<uint64_t()>;
  using Callback = std::function<void(Result<TxOutcome>)>;
  // One outcome per transaction of a block, in order; a failed Result fails
  // every transaction of the block with its reason.
  using BlockOutcomes = Result<std::vector<TxOutcome>>;
  // A proposed block: returns its outcomes, waiting for them if need be
  // (called once, on the answerer's thread).
  using PendingBlock = std::function<BlockOutcomes()>;
  // Proposes one block (called on the gatherer's thread, blocks in queue
  // order) and says how to wait for its outcomes.
  using BlockSink = std::function<PendingBlock(std::vector<PendingTx> txs, uint64_t block_time_ms)>;
  // The pending block of a sink that applied it already.
  static PendingBlock ready(BlockOutcomes outcomes);

  struct Options {
    std::chrono::milliseconds max_wait{2};
    size_t max_transactions = 2000;
    // Blocks proposed and not yet answered; 1: each block is answered
    // before the next one is gathered.
    size_t max_in_flight = 1;
  };

  // Applies blocks to the ledger directly; a failed write stops the
  // sequencer (failed()).
  BlockSequencer(Ledger& ledger, Clock clock, Options options, std::function<void()> after_block);
  // Applies blocks through `sink`; a failed block is answered with the
  // sink's reason and the sequencer goes on (the sink's owner reports and
  // handles fatal failures, e.g. Replicator::failed()).
  BlockSequencer(BlockSink sink, Clock clock, Options options, std::function<void()> after_block);
  ~BlockSequencer();  // stop()
  BlockSequencer(const BlockSequencer&) = delete;
  BlockSequencer& operator=(const BlockSequencer&) = delete;

  void start();
  // Applies what is queued, answers it, then joins the threads.
  void stop();
  void submit(PendingTx tx, Callback done);
  // Queues several transactions at once (one lock, one wake-up), in order;
  // done(i, outcome) runs once for each txs[i], like submit's callback.
  using IndexedCallback = std::function<void(size_t i, Result<TxOutcome>)>;
  void submit_many(std::vector<PendingTx> txs, IndexedCallback done);
  bool failed() const;

 private:
  struct Item {
    PendingTx tx;
    Callback done;
  };
  // A block between its proposal and its answers.
  struct Proposed {
    std::deque<Item> items;
    PendingBlock outcomes;
  };
  void gather();
  void answer();
  void answer_block(Proposed block);

  BlockSink sink_;
  bool stop_on_sink_error_ = false;
  Clock clock_;
  Options options_;
  std::function<void()> after_block_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::deque<Proposed> proposed_;  // handed from the gatherer to the answerer
  size_t in_flight_ = 0;           // blocks taken from the queue and not yet answered
  bool stopping_ = false;
  bool gathered_all_ = false;  // the gatherer stopped: nothing more will be proposed
  bool failed_ = false;
  std::thread gatherer_;
  std::thread answerer_;
};

}  // namespace chipledger
