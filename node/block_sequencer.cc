#include "node/block_sequencer.h"

#include <memory>

#include "node/thread_name.h"

namespace chipledger {
namespace {

// Why a submission was not queued.
Status closed(bool failed) {
  return Status::unavailable(failed ? "the node stopped accepting writes after a storage failure"
                                    : "the node is shutting down");
}

}  // namespace

BlockSequencer::BlockSequencer(Ledger& ledger, Clock clock, Options options,
                               std::function<void()> after_block)
    : BlockSequencer(
          [&ledger](std::vector<PendingTx> txs, uint64_t time_ms) {
            return ready(ledger.apply_block(std::move(txs), time_ms));
          },
          std::move(clock), options, std::move(after_block)) {
  stop_on_sink_error_ = true;
}

BlockSequencer::BlockSequencer(BlockSink sink, Clock clock, Options options,
                               std::function<void()> after_block)
    : sink_(std::move(sink)),
      clock_(std::move(clock)),
      options_(options),
      after_block_(std::move(after_block)) {
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
}

BlockSequencer::~BlockSequencer() { stop(); }

BlockSequencer::PendingBlock BlockSequencer::ready(BlockOutcomes outcomes) {
  auto shared = std::make_shared<BlockOutcomes>(std::move(outcomes));
  return [shared] { return std::move(*shared); };
}

void BlockSequencer::start() {
  answerer_ = std::thread([this] {
    name_this_thread("seq-answerer");
    answer();
  });
  gatherer_ = std::thread([this] {
    name_this_thread("seq-gatherer");
    gather();
  });
}

void BlockSequencer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (gatherer_.joinable()) {
    gatherer_.join();  // everything queued is proposed
    answerer_.join();  // and answered
    return;
  }
  // Never started: nothing will apply what is queued, so say so.
  std::deque<Item> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (auto& item : left) item.done(Status::unavailable("the node is shutting down"));
}

bool BlockSequencer::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void BlockSequencer::submit(PendingTx tx, Callback done) {
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    failed = failed_;
    if (!stopping_ && !failed_) {
      queue_.push_back(Item{std::move(tx), std::move(done)});
      if (queue_.size() == 1 || queue_.size() >= options_.max_transactions) cv_.notify_all();
      return;
    }
  }
  done(closed(failed));
}

void BlockSequencer::submit_many(std::vector<PendingTx> txs, IndexedCallback done) {
  auto shared = std::make_shared<IndexedCallback>(std::move(done));
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    failed = failed_;
    if (!stopping_ && !failed_) {
      bool was_empty = queue_.empty();
      for (size_t i = 0; i < txs.size(); ++i) {
        queue_.push_back(Item{std::move(txs[i]),
                              [shared, i](Result<TxOutcome> r) { (*shared)(i, std::move(r)); }});
      }
      if (was_empty || queue_.size() >= options_.max_transactions) cv_.notify_all();
      return;
    }
  }
  for (size_t i = 0; i < txs.size(); ++i) (*shared)(i, closed(failed));
}

void BlockSequencer::gather() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] {
      return (stopping_ && queue_.empty()) ||
             (!queue_.empty() && in_flight_ < options_.max_in_flight);
    });
    if (queue_.empty()) break;  // stopping with nothing left
    // Gather: close the block after max_wait or when it is full.
    auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
    cv_.wait_until(lock, deadline,
                   [&] { return stopping_ || queue_.size() >= options_.max_transactions; });
    Proposed block;
    size_t n = std::min(queue_.size(), options_.max_transactions);
    block.items.insert(block.items.end(), std::make_move_iterator(queue_.begin()),
                       std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    ++in_flight_;
    lock.unlock();
    std::vector<PendingTx> txs;
    txs.reserve(block.items.size());
    for (auto& item : block.items) txs.push_back(std::move(item.tx));
    block.outcomes = sink_(std::move(txs), clock_());
    lock.lock();
    proposed_.push_back(std::move(block));
    cv_.notify_all();
  }
  gathered_all_ = true;
  cv_.notify_all();
}

void BlockSequencer::answer() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return gathered_all_ || !proposed_.empty(); });
    if (proposed_.empty()) return;  // the gatherer stopped and all is answered
    Proposed block = std::move(proposed_.front());
    proposed_.pop_front();
    lock.unlock();
    answer_block(std::move(block));
    lock.lock();
    --in_flight_;
    cv_.notify_all();
  }
}

void BlockSequencer::answer_block(Proposed block) {
  auto outcomes = block.outcomes();
  if (!outcomes) {
    if (stop_on_sink_error_) {
      std::lock_guard lock(mu_);
      failed_ = true;
    }
    for (auto& item : block.items) item.done(outcomes.status());
    return;
  }
  if (after_block_) after_block_();
  for (size_t i = 0; i < block.items.size(); ++i) block.items[i].done((*outcomes)[i]);
}

}  // namespace chipledger
