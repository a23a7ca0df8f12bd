// Gathers submitted transactions into blocks and applies each block to the
// ledger on one thread: a block closes after max_wait or max_transactions,
// is applied in one synced write, then after_block runs (the checkpoint is
// re-signed) and only then is each submitter answered, so an acknowledged
// transaction is durable and covered by the latest checkpoint.
// The clock is passed in (Unix milliseconds) so tests can drive time.
// Where a block goes is a BlockSink: the ledger directly, or replication
// (node/raft_replicator.h), which answers once the block's Raft entry is
// committed and applied on this node.
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
  // Applies one block synchronously (called on the sequencer's thread) and
  // returns one outcome per transaction, in order; a failed Result fails
  // every transaction of the block with its reason.
  using BlockSink = std::function<Result<std::vector<TxOutcome>>(std::vector<PendingTx> txs,
                                                                 uint64_t block_time_ms)>;

  struct Options {
    std::chrono::milliseconds max_wait{2};
    size_t max_transactions = 2000;
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
  // Applies what is queued, answers it, then joins the thread.
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
  void run();
  void apply(std::deque<Item> items);

  BlockSink sink_;
  bool stop_on_sink_error_ = false;
  Clock clock_;
  Options options_;
  std::function<void()> after_block_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::thread thread_;
};

}  // namespace chipledger
