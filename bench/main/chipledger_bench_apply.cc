// chipledger-bench-apply: the cost of the node's serial stage alone
// (Ledger::apply_block on RocksDB, in process; bench/apply_stage.h).
//   chipledger-bench-apply [--serials N] [--block B] [--rounds R] [--out FILE]
// Each round starts from a fresh dev consortium (`chipledger-node init`, the
// binary beside this one) and a fresh store in a temp folder. Exit code 0
// when every round ran and every transaction was accepted, 1 otherwise, 2
// on bad arguments.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/apply_stage.h"
#include "bench/node_runner.h"
#include "bench/stats.h"

namespace {

using namespace chipledger;
using namespace chipledger::bench;
using nlohmann::json;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int run(const ApplyStageOptions& base, unsigned rounds, const std::string& node_bin,
        const std::string& out_file) {
  json out{{"tool", "chipledger-bench-apply"},
           {"format", 1},
           {"started_unix_ms", unix_ms()},
           {"load_average_start", load_average()},
           {"rounds", json::array()}};
  for (unsigned r = 0; r < rounds; ++r) {
    auto runner = NodeRunner::init(node_bin.empty() ? default_node_bin() : node_bin, false);
    if (!runner) {
      std::cerr << "chipledger-bench-apply: " << runner.reason() << "\n";
      return 1;
    }
    auto members = load_members((*runner)->dir());
    if (!members) {
      std::cerr << "chipledger-bench-apply: " << members.reason() << "\n";
      return 1;
    }
    ApplyStageOptions o = base;
    o.store_dir = (*runner)->dir() + "/apply-store";
    o.tag = "A" + std::to_string(r);
    o.prep_threads = cpu_count();
    auto s = run_apply_stage(*members, o);
    if (!s) {
      std::cerr << "chipledger-bench-apply: " << s.reason() << "\n";
      return 1;
    }
    std::cout << "round " << r + 1 << ": " << o.serials << " serials, blocks of " << o.block
              << ": transfers " << fixed((*s)["transfers"]["cpu_us_per_tx"], 1) << " us CPU/tx ("
              << fixed((*s)["transfers"]["wall_us_per_tx"], 1) << " wall), accepts "
              << fixed((*s)["accepts"]["cpu_us_per_tx"], 1) << " us CPU/tx ("
              << fixed((*s)["accepts"]["wall_us_per_tx"], 1) << " wall), register "
              << fixed((*s)["register"]["us_per_serial"], 2) << " us CPU/serial\n"
              << std::flush;
    out["rounds"].push_back(std::move(*s));
  }
  out["load_average_end"] = load_average();
  out["finished_unix_ms"] = unix_ms();
  if (!out_file.empty()) {
    std::ofstream f(out_file, std::ios::trunc);
    f << out.dump(2) << "\n";
    f.close();
    if (!f) {
      std::cerr << "chipledger-bench-apply: cannot write " << out_file << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chipledger-bench-apply: CPU per transaction of the node's apply step alone"};
  ApplyStageOptions o;
  unsigned rounds = 1;
  std::string node_bin, out;
  app.add_option("--serials", o.serials, "serials registered, transferred and accepted (100000)")
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  app.add_option("--block", o.block, "transactions per block (500)")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  app.add_option("--rounds", rounds, "runs, each on a fresh store (1)")
      ->check(CLI::Range(1u, 100u));
  app.add_option("--node-bin", node_bin, "chipledger-node for `init` (default: beside this one)");
  app.add_option("--out", out, "write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  return run(o, rounds, node_bin, out);
}
