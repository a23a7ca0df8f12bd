// BlockSequencer: concurrent submitters are all answered exactly once, each
// accepted transaction gets its own log index, transactions arriving together
// share blocks, after_block (the checkpoint refresh) runs before anyone is
// answered, stop() answers what is queued, and a later submit is refused.
//
// Callbacks and after_block run on the sequencer thread, so they only record
// what they see; every Catch2 assertion runs on the test's main thread.
#include "node/block_sequencer.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/checkpoint.h"
#include "node/checkpoint_publisher.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;

// A door after_block passes through; closed, it holds the sequencer thread.
class Gate {
 public:
  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  // Waits until `n` passes have begun.
  bool wait_arrived(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return arrived_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int arrived_ = 0;
};

// One answer as the callback saw it.
struct Answer {
  int tag = 0;
  bool ok = false;               // the Result was ok
  std::string error;             // its reason otherwise
  TxOutcome outcome;             // when ok
  int blocks_done = 0;           // after_block calls completed when answered
  uint64_t checkpoint_size = 0;  // the publisher's latest size when answered
  std::string checkpoint_note;
};

// A sequencer over an in-memory ledger with a controllable clock; records
// the ledger size after each block and every answer.
class Harness {
 public:
  explicit Harness(BlockSequencer::Options options = {1ms, 2000},
                   std::unique_ptr<KvStore> store = std::make_unique<MemoryStore>())
      : tc_(make_consortium()),
        ledger_(must(Ledger::open(std::move(store), tc_->consortium))),
        cps_(*ledger_, tc_->node_id(), tc_->node_key()) {
    must_ok(cps_.refresh());
    seq_ = std::make_unique<BlockSequencer>(
        *ledger_, [this] { return now_ms.load(); }, options, [this] { after_block(); });
  }
  ~Harness() { seq_->stop(); }

  const TestConsortium& tc() const { return *tc_; }
  Ledger& ledger() { return *ledger_; }
  BlockSequencer& seq() { return *seq_; }
  const CheckpointPublisher& cps() const { return cps_; }

  BlockSequencer::Callback callback(int tag) {
    return [this, tag](Result<TxOutcome> r) {
      Answer a;
      a.tag = tag;
      a.ok = r.is_ok();
      if (a.ok) a.outcome = *r;
      a.error = r.reason();
      a.blocks_done = blocks_done_.load();
      a.checkpoint_size = cps_.latest_size();
      a.checkpoint_note = cps_.latest();
      std::lock_guard lock(mu_);
      answers_.push_back(std::move(a));
      cv_.notify_all();
    };
  }
  void submit(const SignedTransaction& stx, int tag, bool checked = true) {
    seq_->submit(PendingTx{stx, checked}, callback(tag));
  }

  bool wait_answers(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return answers_.size() >= n; });
  }
  std::vector<Answer> answers() {
    std::lock_guard lock(mu_);
    return answers_;
  }
  std::vector<uint64_t> block_sizes() {
    std::lock_guard lock(mu_);
    return block_sizes_;
  }

  Gate gate;
  std::atomic<uint64_t> now_ms{kT0};
  std::atomic<int> after_block_sleep_ms{0};
  std::atomic<int> refresh_failures{0};

 private:
  void after_block() {
    gate.pass();
    if (int ms = after_block_sleep_ms.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (!cps_.refresh().is_ok()) refresh_failures.fetch_add(1);
    {
      std::lock_guard lock(mu_);
      block_sizes_.push_back(ledger_->size());
    }
    blocks_done_.fetch_add(1);
  }

  std::unique_ptr<TestConsortium> tc_;
  std::unique_ptr<Ledger> ledger_;
  CheckpointPublisher cps_;
  std::unique_ptr<BlockSequencer> seq_;
  std::atomic<int> blocks_done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Answer> answers_;
  std::vector<uint64_t> block_sizes_;
};

std::vector<SignedTransaction> registrations(const TestConsortium& tc, const std::string& prefix,
                                             int n) {
  std::vector<SignedTransaction> out;
  for (int i = 0; i < n; ++i) out.push_back(register_tx(tc, {prefix + std::to_string(i)}));
  return out;
}

// Every accepted answer has its own index, and together they are 0..n-1.
void check_distinct_indices(const std::vector<Answer>& answers, uint64_t accepted) {
  std::set<uint64_t> indices;
  for (const auto& a : answers) {
    if (a.ok && a.outcome.accepted) {
      INFO("tag " << a.tag << " index " << a.outcome.index);
      REQUIRE(indices.insert(a.outcome.index).second);
    }
  }
  REQUIRE(indices.size() == accepted);
  if (accepted > 0) {
    REQUIRE(*indices.begin() == 0);
    REQUIRE(*indices.rbegin() == accepted - 1);
  }
}

TEST_CASE("concurrent submitters arriving together: all answered, distinct indices, few blocks",
          "[sequencer]") {
  Harness h;
  h.seq().start();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<SignedTransaction>> txs;
  for (int t = 0; t < kThreads; ++t) {
    txs.push_back(registrations(h.tc(), "T" + std::to_string(t) + "-", kPerThread));
  }

  // Hold the sequencer inside the first block's after_block so every other
  // submission is queued before the next block closes.
  h.gate.close();
  auto warmup = register_tx(h.tc(), {"WARMUP"});
  h.submit(warmup, -1);
  REQUIRE(h.gate.wait_arrived(1));

  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) h.submit(txs[t][i], t * 1000 + i);
      h.submit(txs[t][0], t * 1000 + 999);  // a replay of its own first transaction
    });
  }
  for (auto& th : threads) th.join();
  h.gate.open();

  constexpr size_t kTotal = 1 + kThreads * (kPerThread + 1);
  REQUIRE(h.wait_answers(kTotal));
  auto answers = h.answers();
  REQUIRE(answers.size() == kTotal);

  std::set<int> tags;
  size_t accepted = 0;
  for (const auto& a : answers) {
    INFO("tag " << a.tag << ": " << a.error << a.outcome.reason);
    REQUIRE(tags.insert(a.tag).second);  // each submitter answered once
    REQUIRE(a.ok);
    if (a.tag >= 0 && a.tag % 1000 == 999) {
      REQUIRE_FALSE(a.outcome.accepted);
      REQUIRE_THAT(a.outcome.reason, Catch::Contains("replay"));
      REQUIRE(a.outcome.txid == txs[a.tag / 1000][0].txid);
    } else {
      REQUIRE(a.outcome.accepted);
      const auto& stx = a.tag < 0 ? warmup : txs[a.tag / 1000][a.tag % 1000];
      REQUIRE(a.outcome.txid == stx.txid);
      // The index really holds this transaction.
      REQUIRE(must(h.ledger().event(a.outcome.index)) == stx.wire());
      ++accepted;
    }
  }
  REQUIRE(accepted == 1 + kThreads * kPerThread);
  check_distinct_indices(answers, accepted);
  REQUIRE(h.ledger().size() == accepted);
  // The warm-up block, then one block for everything that queued behind it.
  auto blocks = h.block_sizes();
  REQUIRE(blocks.size() < kTotal);
  REQUIRE(blocks == std::vector<uint64_t>{1, accepted});
  REQUIRE(h.refresh_failures.load() == 0);
}

TEST_CASE("free-running concurrent submitters share blocks", "[sequencer]") {
  Harness h(BlockSequencer::Options{20ms, 2000});
  h.seq().start();
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::vector<std::vector<SignedTransaction>> txs;
  for (int t = 0; t < kThreads; ++t) {
    txs.push_back(registrations(h.tc(), "F" + std::to_string(t) + "-", kPerThread));
  }
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) h.submit(txs[t][i], t * 1000 + i);
    });
  }
  for (auto& th : threads) th.join();
  constexpr size_t kTotal = kThreads * kPerThread;
  REQUIRE(h.wait_answers(kTotal));
  auto answers = h.answers();
  REQUIRE(answers.size() == kTotal);
  for (const auto& a : answers) {
    INFO(a.error << a.outcome.reason);
    REQUIRE(a.ok);
    REQUIRE(a.outcome.accepted);
  }
  check_distinct_indices(answers, kTotal);
  auto blocks = h.block_sizes();
  REQUIRE(blocks.size() < kTotal);
  REQUIRE(blocks.back() == kTotal);
  // Each thread's own transactions keep their submission order in the log.
  for (int t = 0; t < kThreads; ++t) {
    uint64_t last = 0;
    bool first = true;
    for (int i = 0; i < kPerThread; ++i) {
      for (const auto& a : answers) {
        if (a.tag != t * 1000 + i) continue;
        if (!first) REQUIRE(a.outcome.index > last);
        last = a.outcome.index;
        first = false;
      }
    }
  }
}

TEST_CASE("a block closes when it holds max_transactions", "[sequencer]") {
  Harness h(BlockSequencer::Options{1ms, 10});
  h.seq().start();
  auto txs = registrations(h.tc(), "M", 45);
  h.gate.close();
  h.submit(register_tx(h.tc(), {"WARMUP"}), -1);
  REQUIRE(h.gate.wait_arrived(1));
  for (int i = 0; i < 45; ++i) h.submit(txs[i], i);
  h.gate.open();
  REQUIRE(h.wait_answers(46));
  // Sizes after each block: warm-up, then blocks of at most 10.
  REQUIRE(h.block_sizes() == std::vector<uint64_t>{1, 11, 21, 31, 41, 46});
  check_distinct_indices(h.answers(), 46);
  // Queue order is log order.
  for (const auto& a : h.answers()) {
    if (a.tag >= 0) REQUIRE(a.outcome.index == static_cast<uint64_t>(a.tag) + 1);
  }
}

TEST_CASE("after_block runs before the submitters are answered", "[sequencer]") {
  Harness h;
  h.after_block_sleep_ms = 20;  // a slow checkpoint refresh widens any race
  h.seq().start();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<SignedTransaction>> txs;
  for (int t = 0; t < kThreads; ++t) {
    txs.push_back(registrations(h.tc(), "A" + std::to_string(t) + "-", kPerThread));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        h.submit(txs[t][i], t * 1000 + i);
        std::this_thread::sleep_for(std::chrono::milliseconds(i % 3));
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(h.wait_answers(kThreads * kPerThread));
  for (const auto& a : h.answers()) {
    REQUIRE(a.ok);
    REQUIRE(a.outcome.accepted);
    INFO("index " << a.outcome.index << " answered with checkpoint size " << a.checkpoint_size);
    REQUIRE(a.blocks_done >= 1);
    // The checkpoint current when the submitter hears back covers its entry.
    REQUIRE(a.checkpoint_size > a.outcome.index);
    auto cp = verify_checkpoint(h.tc().consortium, a.checkpoint_note);
    INFO(cp.reason());
    REQUIRE(cp.is_ok());
    REQUIRE(cp->checkpoint.size > a.outcome.index);
  }
}

TEST_CASE("stop() answers everything queued, then refuses new submissions", "[sequencer]") {
  SECTION("queued behind a block in progress") {
    Harness h;
    h.seq().start();
    auto txs = registrations(h.tc(), "S", 30);
    h.gate.close();
    h.submit(register_tx(h.tc(), {"WARMUP"}), -1);
    REQUIRE(h.gate.wait_arrived(1));
    for (int i = 0; i < 30; ++i) h.submit(txs[i], i);
    std::thread stopper([&] { h.seq().stop(); });
    std::this_thread::sleep_for(20ms);  // let stop() begin waiting
    h.gate.open();
    stopper.join();
    // No waiting: everything was answered before stop() returned.
    auto answers = h.answers();
    REQUIRE(answers.size() == 31);
    for (const auto& a : answers) {
      INFO(a.error << a.outcome.reason);
      REQUIRE(a.ok);
      REQUIRE(a.outcome.accepted);
    }
    check_distinct_indices(answers, 31);
    REQUIRE(h.ledger().size() == 31);
  }
  SECTION("stop() right after submitting") {
    Harness h(BlockSequencer::Options{50ms, 2000});
    h.seq().start();
    auto txs = registrations(h.tc(), "S", 50);
    for (int i = 0; i < 50; ++i) h.submit(txs[i], i);
    h.seq().stop();
    auto answers = h.answers();
    REQUIRE(answers.size() == 50);
    check_distinct_indices(answers, 50);
    REQUIRE(h.ledger().size() == 50);
  }
  SECTION("a submit after stop gets an error at once") {
    Harness h;
    h.seq().start();
    h.submit(register_tx(h.tc(), {"FIRST"}), 0);
    REQUIRE(h.wait_answers(1));
    h.seq().stop();
    h.submit(register_tx(h.tc(), {"LATE"}), 1);
    auto answers = h.answers();  // answered synchronously
    REQUIRE(answers.size() == 2);
    REQUIRE_FALSE(answers[1].ok);
    REQUIRE_THAT(answers[1].error, Catch::Contains("shutting down"));
    REQUIRE(h.ledger().size() == 1);
    REQUIRE_FALSE(h.seq().failed());
    h.seq().stop();  // idempotent
  }
}

TEST_CASE("submit_many queues in order, answers each once, refuses all after stop", "[sequencer]") {
  Harness h(BlockSequencer::Options{1ms, 10});
  h.seq().start();
  auto txs = registrations(h.tc(), "MANY", 25);
  std::vector<PendingTx> pending;
  for (const auto& t : txs) pending.push_back(PendingTx{t, true});
  // Indices as the callback saw them: one answer per position, in log order.
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(25);
  auto done = [&h, seen](size_t i, Result<TxOutcome> r) {
    (*seen)[i].fetch_add(1);
    h.callback(static_cast<int>(i))(std::move(r));
  };
  h.seq().submit_many(std::move(pending), done);
  REQUIRE(h.wait_answers(25));
  for (const auto& a : h.answers()) {
    REQUIRE(a.ok);
    REQUIRE(a.outcome.accepted);
    REQUIRE(a.outcome.index == static_cast<uint64_t>(a.tag));  // queue order is log order
  }
  for (auto& n : *seen) REQUIRE(n.load() == 1);
  REQUIRE(h.block_sizes().size() >= 3);  // max_transactions still closes blocks

  h.seq().stop();
  std::vector<PendingTx> late{PendingTx{register_tx(h.tc(), {"LATE1"}), true},
                              PendingTx{register_tx(h.tc(), {"LATE2"}), true}};
  h.seq().submit_many(std::move(late), [&h](size_t i, Result<TxOutcome> r) {
    h.callback(100 + static_cast<int>(i))(std::move(r));
  });
  auto answers = h.answers();  // answered synchronously
  REQUIRE(answers.size() == 27);
  for (size_t k = 25; k < 27; ++k) {
    REQUIRE_FALSE(answers[k].ok);
    REQUIRE_THAT(answers[k].error, Catch::Contains("shutting down"));
  }
  REQUIRE(h.ledger().size() == 25);
}

TEST_CASE("the block's time is the sequencer's clock", "[sequencer]") {
  Harness h;
  h.seq().start();
  auto tx = register_tx(h.tc(), {"CLK"}, kT0);
  h.now_ms = kT0 + 3600 * 1000;
  h.submit(tx, 0);
  REQUIRE(h.wait_answers(1));
  auto a = h.answers()[0];
  REQUIRE(a.ok);
  REQUIRE_FALSE(a.outcome.accepted);
  REQUIRE_THAT(a.outcome.reason, Catch::Contains("at most 600 s is allowed"));
  h.now_ms = kT0 + 1000;
  h.submit(tx, 1);
  REQUIRE(h.wait_answers(2));
  REQUIRE(h.answers()[1].outcome.accepted);
}

TEST_CASE("an unchecked transaction with a bad signature is refused in the block", "[sequencer]") {
  Harness h;
  h.seq().start();
  auto good = register_tx(h.tc(), {"G"});
  auto bad = register_tx(h.tc(), {"B"});
  bad.signature.back() ^= 1;
  h.submit(bad, 0, /*checked=*/false);
  h.submit(good, 1, /*checked=*/false);
  REQUIRE(h.wait_answers(2));
  for (const auto& a : h.answers()) {
    REQUIRE(a.ok);
    if (a.tag == 0) {
      REQUIRE_FALSE(a.outcome.accepted);
      REQUIRE_THAT(a.outcome.reason, Catch::Contains("signature"));
    } else {
      REQUIRE(a.outcome.accepted);
      REQUIRE(a.outcome.index == 0);
    }
  }
}

// A sink whose blocks complete when the test says: records each proposal
// and hands out its outcomes (all accepted, indices in proposal order) only
// once released.
class HeldSink {
 public:
  BlockSequencer::PendingBlock propose(std::vector<PendingTx> txs) {
    std::unique_lock lock(mu_);
    size_t block = proposed_.size();
    proposed_.push_back(txs.size());
    std::vector<TxOutcome> outcomes;
    for (auto& p : txs) {
      TxOutcome o;
      o.txid = p.tx.txid;
      o.accepted = true;
      o.index = next_index_++;
      outcomes.push_back(o);
    }
    cv_.notify_all();
    return [this, block, outcomes]() -> BlockSequencer::BlockOutcomes {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return released_ > block; });
      return outcomes;
    };
  }
  void release_one() {
    std::lock_guard lock(mu_);
    ++released_;
    cv_.notify_all();
  }
  bool wait_proposed(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return proposed_.size() >= n; });
  }
  std::vector<size_t> proposed() {
    std::lock_guard lock(mu_);
    return proposed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<size_t> proposed_;  // each block's transaction count
  size_t released_ = 0;
  uint64_t next_index_ = 0;
};

TEST_CASE("with two blocks in flight the next is proposed before the first is answered",
          "[sequencer]") {
  auto tc = make_consortium();
  HeldSink sink;
  std::mutex mu;
  std::vector<uint64_t> answered;  // indices, in answer order
  std::atomic<int> after_blocks{0};
  BlockSequencer seq(
      [&](std::vector<PendingTx> txs, uint64_t) { return sink.propose(std::move(txs)); },
      [] { return kT0; }, BlockSequencer::Options{1ms, 2000, 2}, [&] { after_blocks++; });
  seq.start();
  auto record = [&](Result<TxOutcome> r) {
    std::lock_guard lock(mu);
    answered.push_back(r.is_ok() ? r->index : 999);
  };
  auto answered_now = [&] {
    std::lock_guard lock(mu);
    return answered;
  };
  auto txs = registrations(*tc, "P", 5);
  seq.submit(PendingTx{txs[0], true}, record);
  REQUIRE(sink.wait_proposed(1));
  seq.submit(PendingTx{txs[1], true}, record);
  seq.submit(PendingTx{txs[2], true}, record);
  // The second block goes out while the first still waits for its outcomes.
  REQUIRE(sink.wait_proposed(2));
  REQUIRE(answered_now().empty());
  // A third block waits for a free slot: nothing more is proposed.
  seq.submit(PendingTx{txs[3], true}, record);
  seq.submit(PendingTx{txs[4], true}, record);
  std::this_thread::sleep_for(20ms);  // room for a wrong third proposal
  REQUIRE(sink.proposed().size() == 2);
  sink.release_one();  // the first block's outcomes
  REQUIRE(sink.wait_proposed(3));
  sink.release_one();
  sink.release_one();
  seq.stop();
  REQUIRE(sink.proposed() == std::vector<size_t>{1, 2, 2});
  // Answered in log order, each block after its after_block.
  REQUIRE(answered_now() == std::vector<uint64_t>{0, 1, 2, 3, 4});
  REQUIRE(after_blocks.load() == 3);
}

TEST_CASE("stop() with blocks in flight answers all of them", "[sequencer]") {
  auto tc = make_consortium();
  HeldSink sink;
  std::atomic<int> answers{0};
  BlockSequencer seq(
      [&](std::vector<PendingTx> txs, uint64_t) { return sink.propose(std::move(txs)); },
      [] { return kT0; }, BlockSequencer::Options{1ms, 1, 3}, nullptr);
  seq.start();
  auto txs = registrations(*tc, "Q", 6);
  for (const auto& t : txs) seq.submit(PendingTx{t, true}, [&](Result<TxOutcome>) { answers++; });
  REQUIRE(sink.wait_proposed(3));  // three blocks of one: the limit
  std::thread stopper([&] { seq.stop(); });
  for (int i = 0; i < 6; ++i) {
    REQUIRE(sink.wait_proposed(std::min<size_t>(6, 3 + static_cast<size_t>(i))));
    sink.release_one();
  }
  stopper.join();
  REQUIRE(answers.load() == 6);
  REQUIRE(sink.proposed().size() == 6);
}

// A MemoryStore whose writes can be made to fail.
class FlakyStore final : public KvStore {
 public:
  explicit FlakyStore(std::shared_ptr<std::atomic<bool>> fail) : fail_(std::move(fail)) {}
  Result<std::optional<std::string>> get(Column column, std::string_view key) const override {
    return inner_.get(column, key);
  }
  Status write(const WriteBatch& batch, bool sync) override {
    if (fail_->load()) return Status::error("injected write failure");
    return inner_.write(batch, sync);
  }
  Status scan(Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return inner_.scan(column, prefix, fn);
  }
  Result<std::unique_ptr<KvView>> view() const override { return inner_.view(); }

 private:
  MemoryStore inner_;
  std::shared_ptr<std::atomic<bool>> fail_;
};

TEST_CASE("a storage failure answers the block with an error and stops writes", "[sequencer]") {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  Harness h(BlockSequencer::Options{1ms, 2000}, std::make_unique<FlakyStore>(fail));
  h.seq().start();
  h.submit(register_tx(h.tc(), {"OK"}), 0);
  REQUIRE(h.wait_answers(1));
  REQUIRE(h.answers()[0].outcome.accepted);

  fail->store(true);
  auto txs = registrations(h.tc(), "X", 5);
  for (int i = 0; i < 5; ++i) h.submit(txs[i], 10 + i);
  REQUIRE(h.wait_answers(6));
  auto answers = h.answers();
  // The first failing block reports the write error; any later block finds
  // the ledger stopped.
  REQUIRE_FALSE(answers[1].ok);
  REQUIRE_THAT(answers[1].error, Catch::Contains("injected write failure"));
  for (size_t i = 1; i < answers.size(); ++i) {
    INFO(answers[i].error);
    REQUIRE_FALSE(answers[i].ok);
    REQUIRE((answers[i].error.find("injected write failure") != std::string::npos ||
             answers[i].error.find("storage failure") != std::string::npos));
  }
  REQUIRE(h.seq().failed());  // set before the failed block is answered
  REQUIRE(h.ledger().size() == 1);
  REQUIRE(h.block_sizes() == std::vector<uint64_t>{1});  // no after_block for the failed block

  fail->store(false);  // even when storage recovers, the node stays stopped
  h.submit(register_tx(h.tc(), {"AFTER"}), 99);
  REQUIRE(h.wait_answers(7));
  auto last = h.answers().back();
  REQUIRE(last.tag == 99);
  REQUIRE_FALSE(last.ok);
  REQUIRE_THAT(last.error, Catch::Contains("storage failure"));
  REQUIRE(h.ledger().size() == 1);
}

}  // namespace
}  // namespace chipledger
