// Crash safety: writer threads stream valid transactions (fresh registrations
// and some transfer/accept chains) and record every acknowledged one; the
// node is SIGKILLed mid-stream and restarted on the same folder, several
// times. Every acknowledged transaction must survive at its index, the new
// log must extend the checkpoint served before the kill (RFC 9162
// consistency proof), and `chipledger verify` must find the evidence sound on
// a sample (verdict not-installed: nothing is installed in this test).
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/merkle.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "tests/integration/node_process.h"
#include "tests/integration/tx_builder.h"

namespace chipledger::integ {
namespace {

constexpr int kRounds = 4;
constexpr int kWriters = 4;
constexpr size_t kAcksBeforeKill = 150;  // per round
constexpr auto kAckDeadline = std::chrono::seconds(60);

struct Acked {
  std::string serial;
  std::string txid;  // hex
  uint64_t index = 0;
};

// What every writer thread of one round recorded. Catch assertions are not
// thread-safe, so the threads only record; the main thread checks.
struct Round {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Acked> acked;
  std::vector<std::string> settled;   // serials nothing more was sent for after an ack
  std::vector<std::string> problems;  // refusals, exceptions
  std::atomic<bool> stop{false};

  void ack(const std::string& serial, const SignedTransaction& stx, const SubmitReply& r) {
    {
      std::lock_guard lock(mu);
      acked.push_back({serial, hex_encode(stx.txid), r.index()});
    }
    cv.notify_all();
  }
  void settle(const std::string& serial) {
    std::lock_guard lock(mu);
    settled.push_back(serial);
  }
  void problem(const std::string& what) {
    {
      std::lock_guard lock(mu);
      problems.push_back(what);
    }
    cv.notify_all();
  }
  size_t acked_count() {
    std::lock_guard lock(mu);
    return acked.size();
  }
};

// Submits until the node stops answering (it was killed) or stop is set.
void writer(Round& round, int round_no, int thread_no, const std::string& url,
            const std::string& dir, const std::string& ledger, const Author& maker,
            const Author& distributor) {
  try {
    auto client = connect_node(url, dir, std::chrono::seconds(20));
    if (!client) return round.problem(client.reason());
    HttpClient& http = **client;
    // Returns false when the stream ends (no answer, or an unexpected refusal).
    auto send = [&](const std::string& serial, const SignedTransaction& stx) {
      if (round.stop) return false;
      SubmitReply r = submit(http, stx);
      if (!r.answered) return false;  // the node is gone
      if (!r.accepted()) {
        round.problem("serial " + serial + ": HTTP " + std::to_string(r.status) + " " + r.raw);
        return false;
      }
      round.ack(serial, stx, r);
      return true;
    };
    for (int k = 0;; ++k) {
      std::string serial = "CRASH-" + std::to_string(round_no) + "-" + std::to_string(thread_no) +
                           "-" + std::to_string(k);
      auto reg = sign(register_tx(ledger, maker, {serial}), maker);
      if (!send(serial, reg)) return;
      if (k % 3 != 0) {
        round.settle(serial);
        continue;
      }
      auto transfer =
          sign(move_tx(ledger, maker, TxType::transfer, serial, reg.txid, "distributor"), maker);
      if (!send(serial, transfer)) return;
      auto accept =
          sign(move_tx(ledger, distributor, TxType::accept, serial, transfer.txid), distributor);
      if (!send(serial, accept)) return;
      round.settle(serial);
    }
  } catch (const std::exception& e) {
    round.problem(std::string("writer exception: ") + e.what());
  }
}

VerifiedCheckpoint checkpoint_of(NodeProcess& node, const Consortium& consortium) {
  auto r = node.http().get("/v1/checkpoint");
  INFO("GET /v1/checkpoint: " << r.reason());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto cp = verify_checkpoint(consortium, r->body);
  INFO("checkpoint:\n" << r->body << "\n" << cp.reason());
  REQUIRE(cp);
  // The note's body parses on its own as well.
  auto plain = Checkpoint::parse(r->body.substr(0, r->body.find("\n\n") + 1));
  REQUIRE(plain);
  CHECK(plain->size == cp->checkpoint.size);
  CHECK(plain->root == cp->checkpoint.root);
  return *cp;
}

TEST_CASE("crash: SIGKILL mid-stream loses no acknowledged transaction", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string ledger = node.ledger_id();
  auto consortium = Consortium::load_file(node.trust_file());
  REQUIRE(consortium);
  const Author maker("maker", node.key_file("maker"));
  const Author distributor("distributor", node.key_file("distributor"));

  std::vector<Acked> all_acked;
  for (int r = 0; r < kRounds; ++r) {
    INFO("round " << r << " of " << kRounds);
    Round round;
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back(writer, std::ref(round), r, t, node.url(), node.dir(), ledger,
                           std::cref(maker), std::cref(distributor));
    }
    // Wait for acknowledgements (or a problem), noting a checkpoint half-way
    // and one just before the kill.
    auto wait_acks = [&](size_t n) {
      std::unique_lock lock(round.mu);
      return round.cv.wait_for(lock, kAckDeadline,
                               [&] { return round.acked.size() >= n || !round.problems.empty(); });
    };
    bool enough = wait_acks(kAcksBeforeKill / 2);
    std::vector<VerifiedCheckpoint> before = {checkpoint_of(node, *consortium)};
    enough = wait_acks(kAcksBeforeKill) && enough;
    before.push_back(checkpoint_of(node, *consortium));
    // Kill while the writers are still submitting.
    size_t acked_at_kill = round.acked_count();
    node.kill9();
    round.stop = true;
    for (auto& th : threads) th.join();
    INFO("problems: " << (round.problems.empty() ? "none" : round.problems.front()));
    REQUIRE(round.problems.empty());
    REQUIRE(enough);
    CHECK(round.acked.size() >= acked_at_kill);
    all_acked.insert(all_acked.end(), round.acked.begin(), round.acked.end());

    node.start();
    uint64_t size = node.log_size();
    CHECK(size >= all_acked.size());
    VerifiedCheckpoint after = checkpoint_of(node, *consortium);
    CHECK(after.checkpoint.size == size);

    // The log after the restart extends the checkpoints served before the kill.
    for (const auto& old : before) {
      REQUIRE(after.checkpoint.size >= old.checkpoint.size);
      std::string target = "/v1/proofs/consistency?from=" + std::to_string(old.checkpoint.size) +
                           "&to=" + std::to_string(after.checkpoint.size);
      auto proof_json = node.get_json(target);
      CHECK(proof_json["from"] == old.checkpoint.size);
      CHECK(proof_json["to"] == after.checkpoint.size);
      std::vector<Hash> proof;
      for (const auto& h : proof_json["proof"]) {
        auto hash = hash_from_hex(h.get<std::string>());
        REQUIRE(hash);
        proof.push_back(*hash);
      }
      auto st = merkle::verify_consistency(old.checkpoint.size, after.checkpoint.size,
                                           old.checkpoint.root, after.checkpoint.root, proof);
      INFO(target << ": " << st.reason());
      CHECK(st);
    }
    // The half-way checkpoint is older, so its proof is not trivial.
    CHECK(before.front().checkpoint.size < after.checkpoint.size);

    // Every acknowledged transaction, of every round so far, is in the log at
    // the index the node acknowledged.
    std::map<std::string, std::vector<const Acked*>> by_serial;
    for (const auto& a : all_acked) by_serial[a.serial].push_back(&a);
    size_t missing = 0;
    std::string first_missing;
    for (const auto& [serial, acks] : by_serial) {
      auto chip = node.http().get("/v1/chips/" + serial);
      auto history = node.http().get("/v1/chips/" + serial + "/history");
      if (!chip || chip->status != 200 || !history || history->status != 200) {
        ++missing;
        if (first_missing.empty()) first_missing = serial + " is not on the node";
        continue;
      }
      auto events = nlohmann::json::parse(history->body)["events"];
      for (const Acked* a : acks) {
        bool found = false;
        for (const auto& e : events) {
          found |= e["index"] == a->index && e["txid"] == a->txid;
        }
        if (!found) {
          ++missing;
          if (first_missing.empty()) {
            first_missing = serial + ": acknowledged " + a->txid + " at index " +
                            std::to_string(a->index) + " is not in its history";
          }
        }
      }
    }
    INFO("first missing: " << first_missing);
    CHECK(missing == 0);

    // verify (real CLI) on a sample of this round's settled serials.
    REQUIRE(round.settled.size() >= 3);
    for (size_t i : {size_t{0}, round.settled.size() / 2, round.settled.size() - 1}) {
      // Every proof checks; the chips are held or in transit, never installed.
      auto v = node.cli({"verify", round.settled[i], "--trust", node.trust_file(), "--json"});
      INFO(v.describe());
      CHECK(v.exit_code == 17);
      if (v.exit_code == 17) CHECK(nlohmann::json::parse(v.out)["verdict"] == "not-installed");
    }
  }
  // The restarted node still takes writes.
  auto last = sign(register_tx(ledger, maker, {"CRASH-AFTER"}), maker);
  auto r = submit(node.http(), last);
  INFO(r.raw);
  CHECK(r.accepted());
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
