// Issue 11's replay flood against a real node: a public signed transaction
// POSTed again and again through /v1/transactions/batch is refused at the
// door (docs/api.md, "Admission"), so the Raft log does not grow and an
// honest register stays fast. Before the door, 549,000 replays in 60 s grew
// data/raft by 105 MB (about 190 bytes each) and made a register 25x slower.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/integration/node_process.h"
#include "tests/integration/tx_builder.h"

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t folder_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

TEST_CASE("replay flood: refused at the door, the Raft log does not grow, registers stay fast",
          "[integration][flood]") {
  NodeProcess node;
  node.start();
  const std::string ledger_id = node.ledger_id();
  const Author maker("maker", node.key_file("maker"));
  const SignedTransaction replayed = sign(register_tx(ledger_id, maker, {"FLOOD-0000"}), maker);
  REQUIRE(submit(node.http(), replayed).accepted());

  // The median latency of `n` honest registers (each its own serial).
  int next = 1;
  auto register_median_ms = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto tx =
          sign(register_tx(ledger_id, maker, {"FLOOD-" + std::to_string(1000 + next++)}), maker);
      auto t0 = Clock::now();
      auto r = submit(node.http(), tx);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      INFO(r.raw);
      REQUIRE(r.accepted());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  const uint64_t raft_before = folder_bytes(node.dir() + "/data/raft");
  auto raft_applied = [&] {
    return node.get_json("/v1/health")["raft"]["last_applied"].get<uint64_t>();
  };
  // The Raft entries 15 honest registers make when nothing else runs.
  const uint64_t applied_idle = raft_applied();
  const double idle_ms = register_median_ms(15);
  const uint64_t idle_entries = raft_applied() - applied_idle;
  const uint64_t applied_before = raft_applied();
  const uint64_t size_before = node.log_size();

  // The flood: batches of 1,000 copies of the accepted transaction, as fast
  // as one connection sends them, for at least 2 s and kBatches batches: a
  // million replays (20,000 in the sanitizer build, which refuses about 30
  // times fewer a second).
  const uint64_t kBatches = kSanitizerSlowdown > 1 ? 20 : 1000;
  nlohmann::json batch{{"txs", nlohmann::json::array()}};
  for (int i = 0; i < 1000; ++i) batch["txs"].push_back(base64_encode(replayed.wire()));
  const std::string body = batch.dump();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> refused{0}, other{0}, batches{0};
  std::thread flooder([&] {
    auto http = node.new_http();
    while (!stop.load()) {
      auto r = http->post("/v1/transactions/batch", body);
      if (!r || r->status != 200) {
        other.fetch_add(1000);
        continue;
      }
      const auto answer = nlohmann::json::parse(r->body);
      for (const auto& item : answer["results"]) {
        bool at_door = item.value("status", 0) == 200 && item.value("duplicate", "") == "in-ledger";
        (at_door ? refused : other).fetch_add(1);
      }
      batches.fetch_add(1);
    }
  });
  const auto flood_start = Clock::now();
  const auto wait_for = [&](uint64_t n) {
    while (batches.load() < n && Clock::now() - flood_start < std::chrono::seconds(120)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  wait_for(5);  // the flood is running
  const double flood_ms = register_median_ms(15);
  wait_for(kBatches);
  while (Clock::now() - flood_start < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  flooder.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - flood_start).count();
  const uint64_t raft_after = folder_bytes(node.dir() + "/data/raft");
  // Idle again, after the flood: the baseline is the slower of the two idle
  // medians, so a neighbour's load (ctest runs tests side by side) that
  // lasts through the flood is not taken for the flood's cost.
  const double idle_after_ms = register_median_ms(15);
  const double baseline_ms = std::max(idle_ms, idle_after_ms);

  const uint64_t entries = raft_applied() - applied_before;
  std::cout << "replay flood: " << refused.load() << " replays refused at the door in " << seconds
            << " s (" << static_cast<uint64_t>(refused.load() / seconds) << "/s); data/raft "
            << raft_before << " -> " << raft_after << " bytes; register median " << idle_ms
            << " ms idle before, " << idle_after_ms << " ms after, " << flood_ms
            << " ms during the flood; " << entries << " Raft entries (" << idle_entries
            << " for 15 registers when idle)\n";
  CHECK(other.load() == 0);
  REQUIRE(refused.load() >= kBatches * 1000);
  // Only the 15 + 15 honest registers reached the log; before the door the
  // replays alone would have grown data/raft by about 190 bytes each.
  CHECK(node.log_size() == size_before + 30);
  // About the honest registers' entries (their count varies a little from
  // run to run); without the door each batch of replays would have been a
  // block, an entry, of its own.
  CHECK(entries <= 2 * idle_entries + 50);
  CHECK(raft_after - raft_before < (1u << 20));
  // Honest registers stay within 2x of their idle latency (plus 5 ms for a
  // scheduler's tick on a 2-core machine shared with the flooder).
  CHECK(flood_ms <= 2 * baseline_ms + 5);
}

}  // namespace
}  // namespace chipledger::integ
