// The fixture of the lying-node tests (lying_node_test.cc,
// lying_history_test.cc): a real node behind a LyingProxy, the CLI run
// through the proxy with its own trust file and checkpoint memory.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/lying_proxy.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace lying {

using json = nlohmann::json;

constexpr int kProofFailure = 10;
constexpr int kFlagged = 13;

inline bool path_is(const HttpRequest& req, const std::string& prefix) {
  return req.target.rfind(prefix, 0) == 0;
}

// A node with GPU-0001 and GPU-0002 registered and GPU-0001 flagged; every
// CLI call goes through the proxy.
struct LyingNode {
  NodeProcess node{kDemoTemplate};
  std::unique_ptr<LyingProxy> proxy;
  std::string state_file;

  LyingNode() {
    node.start();
    proxy = std::make_unique<LyingProxy>(node.url(), node.dir() + "/tls", node.node_id());
    state_file = node.dir() + "/client-state.json";
  }
  Argv as(const std::string& member) const {
    return {"--as", member, "--key", node.key_file(member)};
  }
  ProcessResult cli(const Argv& args) const {
    return run_process(Argv{kCliBin, "--node", proxy->url(), "--state", state_file, "--trust",
                            node.trust_file(), "--receipt-timeout", "3"} +
                       args);
  }
  void ok(const Argv& args) const {
    auto r = cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  void register_and_flag() {
    ok(Argv{"register"} + as("maker") +
       Argv{"--serial", "GPU-0001", "--serial", "GPU-0002", "--model", "H100-SXM5", "--eccn",
            "3A090", "--fab-site", "Fab 18", "--country", "TW"});
    ok(Argv{"flag"} + as("regulator") + Argv{"--serial", "GPU-0001", "--reason", "diversion"});
  }
  ProcessResult verify(const Argv& serials) const {
    Argv args{"verify", "--trust", node.trust_file(), "--json"};
    args.insert(args.end(), serials.begin(), serials.end());
    return cli(args);
  }
};

// The reasons of a verify --json report (one serial) or batch (every result).
inline std::string reasons(const std::string& out) {
  auto j = json::parse(out, nullptr, false);
  std::string all;
  auto add = [&](const json& findings) {
    for (const auto& f : findings)
      all += f.value("finding", "") + ": " + f.value("reason", "") + "\n";
  };
  if (j.contains("findings")) add(j["findings"]);
  if (j.contains("results")) {
    for (const auto& r : j["results"]) add(r["findings"]);
  }
  return all;
}

}  // namespace lying
}  // namespace chipledger::integ
