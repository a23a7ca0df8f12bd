// Honest under faults, with three real chipledger-node processes:
// - a randomised schedule of faults (kill -9 of the leader, kill -9 of two
//   nodes at once, SIGSTOP pauses of any node) while writers submit through
//   the client library the CLI uses (client/submission.h): no acknowledged
//   write is lost, every "unknown" met on the way is resolved to what the
//   ledger holds, no transaction reported refused is in the ledger, and
//   every node ends with the same log. The seed is printed;
//   CHIPLEDGER_FAULT_SEED=N replays a schedule.
// - the real CLI against a cluster whose leader is paused: a submission and
//   a read finish within --timeout, through another node.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/node_client.h"
#include "client/submission.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/tx_builder.h"

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;
using K = SubmitOutcome::Kind;

uint64_t fault_seed() {
  if (const char* env = std::getenv("CHIPLEDGER_FAULT_SEED"); env && *env) {
    return std::strtoull(env, nullptr, 10);
  }
  return std::random_device{}();
}

std::vector<std::string> urls_of(const LocalCluster& c) {
  std::vector<std::string> urls;
  for (size_t i = 0; i < c.size(); ++i) urls.push_back(c.url(i));
  return urls;
}

// One writer's record of one transaction.
struct Record {
  std::string txid;
  SubmitOutcome outcome;
};

struct Records {
  std::mutex mu;
  std::vector<Record> all;
  std::vector<std::string> problems;  // writer failures (checked on the main thread)
  std::atomic<bool> stop{false};
  std::atomic<size_t> accepted{0};
};

// What node i says about a transaction: its index, or nullopt (not there).
std::optional<uint64_t> index_on(const LocalCluster& c, size_t i, const std::string& txid) {
  auto j = c.get_json(i, "/v1/transactions/" + txid);
  if (!j || (*j)["outcome"] != "accepted") return std::nullopt;
  return (*j)["index"].get<uint64_t>();
}

// Waits until the writers acknowledged `more` transactions after now.
bool wait_progress(const Records& r, size_t more, std::chrono::seconds limit) {
  const size_t target = r.accepted.load() + more;
  const auto deadline = Clock::now() + limit;
  while (r.accepted.load() < target) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace

TEST_CASE(
    "faults: kill -9 and SIGSTOP on a schedule: nothing acknowledged lost, every outcome true",
    "[integration][cluster][fault]") {
  const uint64_t seed = fault_seed();
  std::cout << "fault test seed " << seed << " (CHIPLEDGER_FAULT_SEED=" << seed
            << " replays this schedule)" << std::endl;
  std::mt19937_64 rng(seed);
  LocalCluster c(3);
  c.start_all();
  auto trust = Consortium::load_file(c.trust_file());
  REQUIRE(trust);
  c.wait_leader();
  const Author maker("maker", c.key_file("maker"));
  const std::string ledger = c.ledger_id();

  Records records;
  constexpr int kWriters = 3;
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      try {
        auto node = NodeClient::connect_to(urls_of(c), node_client_options(c.dir(), 2s));
        if (!node) throw std::runtime_error(node.reason());
        (void)(*node)->switch_to(c.url(static_cast<size_t>(t) % c.size()));
        for (int n = 0; !records.stop; ++n) {
          const std::string serial = "FAULT-" + std::to_string(t) + "-" + std::to_string(n);
          auto stx = sign(register_tx(ledger, maker, {serial}), maker);
          SubmitOutcome o =
              submit_and_resolve(**node, stx, Clock::now() + 40s * kSanitizerSlowdown, 2s);
          if (o.kind == K::accepted) records.accepted.fetch_add(1);
          std::lock_guard lock(records.mu);
          records.all.push_back({hex_encode(stx.txid), std::move(o)});
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(records.mu);
        records.problems.push_back(std::string("writer ") + std::to_string(t) + ": " + e.what());
      }
    });
  }
  auto stop_writers = [&] {
    records.stop = true;
    for (auto& w : writers) w.join();
    writers.clear();
  };
  // A fixture failure (no leader in time, a node that does not start)
  // throws: the writers are stopped before the exception leaves the test.
  struct StopWriters {
    std::function<void()> stop;
    ~StopWriters() { stop(); }
  } stop_on_exit{stop_writers};

  // The schedule: each fault, then the cluster must make progress again
  // before the next one.
  const int faults = kSanitizerSlowdown > 1 ? 4 : 12;
  std::vector<std::string> schedule;
  bool progressed = wait_progress(records, 20, 120s);
  for (int f = 0; f < faults && progressed; ++f) {
    const size_t leader = c.wait_leader(60s);
    const int kind = static_cast<int>(rng() % 3);
    const auto pause = std::chrono::milliseconds(300 + rng() % 1700);
    std::string what;
    if (kind == 0) {
      what = "kill -9 the leader node-" + std::to_string(leader + 1);
      c.kill9(leader);
      std::this_thread::sleep_for(pause);
      c.start(leader);
    } else if (kind == 1) {
      const size_t a = rng() % c.size();
      const size_t b = (a + 1 + rng() % (c.size() - 1)) % c.size();
      what = "kill -9 node-" + std::to_string(a + 1) + " and node-" + std::to_string(b + 1);
      c.kill9(a);
      c.kill9(b);
      std::this_thread::sleep_for(pause);
      c.start(a);
      c.start(b);
    } else {
      const size_t a = rng() % c.size();
      what = "SIGSTOP node-" + std::to_string(a + 1) + (a == leader ? " (the leader)" : "");
      ::kill(c.pid(a), SIGSTOP);
      std::this_thread::sleep_for(pause + 1s);
      ::kill(c.pid(a), SIGCONT);
    }
    schedule.push_back(what + " for " + std::to_string(pause.count()) + " ms");
    progressed = wait_progress(records, 20, 120s);
  }
  stop_writers();
  for (const auto& s : schedule) std::cout << "  fault: " << s << std::endl;
  INFO("seed " << seed);
  REQUIRE(records.problems.empty());
  REQUIRE(progressed);

  // Every node ends with the same log; then each record is checked
  // against what every node holds.
  const auto [size, root] = wait_agreed(c, *trust, 120s);
  size_t acknowledged = 0, refused = 0, not_submitted = 0, unknown_landed = 0,
         unknown_not_landed = 0, resolved_by_lookup = 0, resolved_on_the_way = 0, lost = 0,
         refused_but_landed = 0, disagreements = 0;
  std::vector<std::string> examples;
  for (const auto& r : records.all) {
    std::optional<uint64_t> first = index_on(c, 0, r.txid);
    for (size_t i = 1; i < c.size(); ++i) {
      if (index_on(c, i, r.txid) != first) ++disagreements;
    }
    switch (r.outcome.kind) {
      case K::accepted:
        ++acknowledged;
        if (r.outcome.was_unknown) ++resolved_on_the_way;
        if (r.outcome.was_unknown && r.outcome.duplicate) ++resolved_by_lookup;
        if (first != r.outcome.index) {
          ++lost;
          if (examples.size() < 5) examples.push_back("lost: " + r.txid);
        }
        break;
      case K::refused:
        ++refused;
        if (first) {
          ++refused_but_landed;
          if (examples.size() < 5) examples.push_back("refused but landed: " + r.txid);
        }
        break;
      case K::not_submitted:
        ++not_submitted;
        if (first) {
          ++refused_but_landed;
          if (examples.size() < 5) examples.push_back("not submitted but landed: " + r.txid);
        }
        break;
      case K::unknown:
        ++(first ? unknown_landed : unknown_not_landed);
        break;
    }
  }
  std::cout << "fault run (seed " << seed << "): " << records.all.size() << " transactions, "
            << acknowledged << " acknowledged (" << resolved_on_the_way
            << " after an unknown outcome on the way, " << resolved_by_lookup
            << " of them found in the ledger), " << refused << " refused, " << not_submitted
            << " not submitted, " << (unknown_landed + unknown_not_landed)
            << " still unknown at their deadline (" << unknown_landed << " landed, "
            << unknown_not_landed << " did not), lost " << lost << "; log size " << size
            << std::endl;
  INFO((examples.empty() ? std::string() : examples.front()));
  CHECK(lost == 0);
  CHECK(refused_but_landed == 0);
  CHECK(disagreements == 0);
  // Every register of a fresh serial is acceptable: a refusal would be a lie.
  CHECK(refused == 0);
  CHECK(acknowledged > 20 * static_cast<size_t>(faults));
}

TEST_CASE("faults: a paused leader does not stall the CLI past --timeout",
          "[integration][cluster]") {
  LocalCluster c(3);
  c.start_all();
  const size_t leader = c.wait_leader();
  ::kill(c.pid(leader), SIGSTOP);
  struct Resume {
    const LocalCluster& c;
    size_t i;
    ~Resume() { ::kill(c.pid(i), SIGCONT); }
  } resume{c, leader};
  // The paused node first: the CLI must move on.
  const std::string nodes = c.url(leader) + "," + c.url((leader + 1) % 3);
  auto cli = [&](const Argv& args) {
    return run_process(
        Argv{kCliBin, "--node", nodes, "--trust", c.trust_file(), "--state",
             c.dir() + "/client-state.json", "--timeout", "6", "--receipt-timeout", "20"} +
            args,
        60s);
  };
  const auto started = Clock::now();
  ProcessResult reg =
      cli(Argv{"register", "--as", "maker", "--key", c.key_file("maker"), "--serial", "PAUSED-1",
               "--model", "H100", "--fab-site", "f1", "--country", "TW"});
  const auto register_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  INFO(reg.describe());
  CHECK(reg.exit_code == 0);
  CHECK_THAT(reg.out, Catch::Contains("accepted at log index"));
  const auto read_started = Clock::now();
  ProcessResult status = cli(Argv{"status", "PAUSED-1"});
  const auto status_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - read_started).count();
  INFO(status.describe());
  CHECK(status.exit_code == 0);
  std::cout << "paused leader: register took " << register_ms << " ms, status " << status_ms
            << " ms (--timeout 6)" << std::endl;
  // The submission within its --timeout (plus the receipt and the process),
  // the read within one timeout per node it tried.
  CHECK(register_ms < (6000 + 20000) * kSanitizerSlowdown);
  CHECK(status_ms < 2 * 6000 * kSanitizerSlowdown);
}

}  // namespace chipledger::integ
