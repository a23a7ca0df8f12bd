// Governance on a real 3-node cluster driven by the real CLI
// (docs/governance.md): a member added by vote exists on no node until the
// threshold's vote, then on every node from the same log index, and can
// take custody right away; a second approval by the same admin is refused
// with its reason.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "tests/integration/cluster_process.h"

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;

// The proposal `id` as node i reports it (every status), or null.
nlohmann::json proposal_on(const LocalCluster& c, size_t i, const std::string& id) {
  auto answer = c.get_json(i, "/v1/governance/proposals?all=1");
  if (!answer) return nullptr;
  for (const auto& p : (*answer)["proposals"]) {
    if (p["id"] == id) return p;
  }
  return nullptr;
}

bool has_member(const LocalCluster& c, size_t i, const std::string& member) {
  auto answer = c.get_json(i, "/v1/governance");
  if (!answer) return false;
  for (const auto& m : (*answer)["consortium"]["members"]) {
    if (m["id"] == member) return true;
  }
  return false;
}

// The 64-hex proposal id the CLI prints ("proposal id X").
std::string proposal_id(const std::string& out) {
  auto at = out.find("proposal id ");
  REQUIRE(at != std::string::npos);
  return out.substr(at + 12, 64);
}

}  // namespace

TEST_CASE("governance: a member added by vote exists on every node from the same index",
          "[integration][cluster]") {
  LocalCluster c(3);
  c.start_all();
  c.wait_leader();
  std::string nodes = c.url(0) + "," + c.url(1) + "," + c.url(2);
  auto cli = [&](const Argv& args) {
    return run_process(Argv{kCliBin, "--node", nodes, "--trust", c.trust_file(), "--state",
                            c.dir() + "/client-state.json"} +
                           args,
                       120s);
  };
  auto as = [&](const std::string& member) {
    return Argv{"--as", member, "--key",
                member == "newdist" ? c.dir() + "/newdist.pem" : c.key_file(member)};
  };
  ProcessResult keygen = cli(Argv{"keygen", "--out", c.dir() + "/newdist.pem"});
  REQUIRE(keygen.exit_code == 0);

  // init's default rule: all five members are admins, three must approve.
  ProcessResult propose =
      cli(Argv{"propose"} + as("maker") +
          Argv{"--add-member", "newdist", "--name", "New Distribution", "--roles", "distributor",
               "--member-country", "MY", "--member-key", c.dir() + "/newdist.pem"});
  INFO(propose.describe());
  REQUIRE(propose.exit_code == 0);
  CHECK_THAT(propose.out, Catch::Contains("propose accepted at log index"));
  CHECK_THAT(propose.out, Catch::Contains("1 of the 3 needed"));
  const std::string id = proposal_id(propose.out);

  ProcessResult second = cli(Argv{"vote"} + as("regulator") + Argv{id});
  INFO(second.describe());
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("2 of the 3 needed"));
  ProcessResult again = cli(Argv{"vote"} + as("regulator") + Argv{id});
  INFO(again.describe());
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("regulator approved proposal"));
  // Two of three: no node knows the member; a transfer to it is refused.
  ProcessResult reg =
      cli(Argv{"register"} + as("maker") +
          Argv{"--serial", "GOV-1", "--model", "L4", "--fab-site", "f1", "--country", "TW"});
  REQUIRE(reg.exit_code == 0);
  ProcessResult early = cli(Argv{"transfer"} + as("maker") +
                            Argv{"--serial", "GOV-1", "--to", "newdist", "--ship-to", "MY"});
  CHECK(early.exit_code == 2);
  CHECK_THAT(early.err, Catch::Contains("unknown recipient 'newdist'"));
  for (size_t i = 0; i < 3; ++i) CHECK_FALSE(has_member(c, i, "newdist"));

  ProcessResult third = cli(Argv{"vote"} + as("datacenter") + Argv{id});
  INFO(third.describe());
  REQUIRE(third.exit_code == 0);
  CHECK_THAT(third.out, Catch::Contains("applied at log index"));

  // Every node applies it at the same index (each once it has the entry).
  std::optional<uint64_t> applied_at;
  for (size_t i = 0; i < 3; ++i) {
    auto deadline = Clock::now() + 30s * kSanitizerSlowdown;
    nlohmann::json p;
    while (Clock::now() < deadline) {
      p = proposal_on(c, i, id);
      if (!p.is_null() && p["status"] == "applied") break;
      std::this_thread::sleep_for(20ms);
    }
    INFO("node " << i << ": " << p.dump());
    REQUIRE(p["status"] == "applied");
    if (!applied_at) applied_at = p["applied_index"].get<uint64_t>();
    CHECK(p["applied_index"].get<uint64_t>() == *applied_at);
    CHECK(p["approvals"] == nlohmann::json::array({"datacenter", "maker", "regulator"}));
    CHECK(has_member(c, i, "newdist"));
  }
  std::cout << "governance: newdist added by the third approval, at log index " << *applied_at
            << " on all 3 nodes" << std::endl;

  // The new distributor can take custody right after.
  ProcessResult transfer = cli(Argv{"transfer"} + as("maker") +
                               Argv{"--serial", "GOV-1", "--to", "newdist", "--ship-to", "MY"});
  INFO(transfer.describe());
  REQUIRE(transfer.exit_code == 0);
  ProcessResult accept = cli(Argv{"accept"} + as("newdist") + Argv{"--serial", "GOV-1"});
  INFO(accept.describe());
  REQUIRE(accept.exit_code == 0);
  ProcessResult status = cli(Argv{"status", "GOV-1"});
  CHECK_THAT(status.out, Catch::Contains("newdist"));
  ProcessResult open = cli(Argv{"proposals"});
  CHECK(open.exit_code == 0);
  CHECK_THAT(open.out, Catch::Contains("no open proposals"));
}

}  // namespace chipledger::integ
