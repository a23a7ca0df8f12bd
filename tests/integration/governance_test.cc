// Governance on a real 3-node cluster driven by the real CLI
// (docs/governance.md): a member added by vote exists on no node until the
// threshold's vote, then on every node from the same log index, and can
// take custody right away; a second approval by the same admin is refused
// with its reason; `verify` follows the governance (the new member's
// events check), and after the member rotates its key names the key of
// each event, the old one refused from the rotation on; `trust --out`
// writes the consortium in force with its proof, which `trust --check`
// checks and a forged copy fails.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/node_process.h"

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
  auto cli = [&](const Argv& args) { return c.cli(args, nodes); };
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

  // verify follows the governance from the genesis trust file: newdist's
  // acceptance checks by the consortium in force at its index.
  auto verify = [&] {
    ProcessResult v = cli(Argv{"verify", "--json", "GOV-1"});
    INFO(v.describe());
    auto j = nlohmann::json::parse(v.out, nullptr, false);
    REQUIRE(j.is_object());
    return j;
  };
  auto report = verify();
  INFO(report.dump(2));
  CHECK(report["verdict"] == "not-installed");
  CHECK(report["holder"] == "newdist");
  CHECK(report["governance"]["events"] == 3);
  CHECK(report["governance"]["changes"] == 1);
  REQUIRE(report["chain"].size() == 3);
  CHECK(report["chain"][2]["member"] == "newdist");
  const std::string first_key = report["chain"][2]["key"];

  // newdist rotates its key (no vote): the old key signs nothing from then
  // on, the new one does, and verify names the key of each event.
  ProcessResult keygen2 = cli(Argv{"keygen", "--out", c.dir() + "/newdist-2.pem"});
  REQUIRE(keygen2.exit_code == 0);
  ProcessResult rotate =
      cli(Argv{"rotate-key"} + as("newdist") + Argv{"--new-key", c.dir() + "/newdist-2.pem"});
  INFO(rotate.describe());
  REQUIRE(rotate.exit_code == 0);
  ProcessResult stale = cli(Argv{"transfer"} + as("newdist") +
                            Argv{"--serial", "GOV-1", "--to", "datacenter", "--ship-to", "US"});
  CHECK(stale.exit_code == 2);
  CHECK_THAT(stale.err, Catch::Contains("is not a key of member newdist"));
  ProcessResult fresh = cli(Argv{"transfer", "--as", "newdist", "--key", c.dir() + "/newdist-2.pem",
                                 "--serial", "GOV-1", "--to", "datacenter", "--ship-to", "US"});
  INFO(fresh.describe());
  REQUIRE(fresh.exit_code == 0);
  report = verify();
  CHECK(report["governance"]["events"] == 4);
  CHECK(report["governance"]["changes"] == 2);
  REQUIRE(report["chain"].size() == 4);
  CHECK(report["chain"][2]["key"] == first_key);  // the acceptance, before the rotation
  CHECK(report["chain"][3]["member"] == "newdist");
  CHECK(report["chain"][3]["key"] != first_key);
  CHECK(report["verdict"] != "proof-failure");
  ProcessResult text = cli(Argv{"verify", "GOV-1"});
  CHECK_THAT(text.out, Catch::Contains("governance: 4 transaction(s) followed"));
  CHECK_THAT(text.out, Catch::Contains(first_key.substr(0, 12)));

  // The consortium in force, written with its proof from the genesis file.
  const std::string derived = c.dir() + "/consortium-now.json";
  ProcessResult out = cli(Argv{"trust", "--out", derived});
  INFO(out.describe());
  REQUIRE(out.exit_code == 0);
  CHECK_THAT(out.out, Catch::Contains("through 4 governance transaction(s), 2 change(s)"));
  auto now = nlohmann::json::parse(read_text_file(derived));
  bool listed = false;
  for (const auto& m : now["members"]) listed = listed || m["id"] == "newdist";
  CHECK(listed);
  ProcessResult check = cli(Argv{"trust", "--check", derived});
  INFO(check.describe());
  CHECK(check.exit_code == 0);
  // A file that says anything else does not check.
  for (auto& m : now["members"]) {
    if (m["id"] == "newdist") m["country"] = "SG";
  }
  write_text_file(c.dir() + "/forged.json", now.dump());
  ProcessResult forged = cli(Argv{"trust", "--check", c.dir() + "/forged.json"});
  CHECK(forged.exit_code == 10);
  CHECK_THAT(forged.err, Catch::Contains("is not the one the governance history gives"));
  // The CLI takes it as its trust file (the genesis it carries, its
  // checkpoint an anchor), here by a client with no memory: the same verdict.
  ProcessResult as_trust =
      run_process(Argv{kCliBin, "--node", nodes, "--state", c.dir() + "/new-client.json", "verify",
                       "--json", "GOV-1", "--trust", derived},
                  60s);
  INFO(as_trust.describe());
  ProcessResult with_genesis = cli(Argv{"verify", "--json", "GOV-1"});
  REQUIRE(as_trust.exit_code == with_genesis.exit_code);
  auto from_derived = nlohmann::json::parse(as_trust.out);
  CHECK(from_derived["verdict"] == report["verdict"]);
  CHECK(from_derived["governance"]["events"] == 4);
  // A node does not start from it: it is not a genesis.
  auto refused = Consortium::from_json(read_text_file(derived));
  CHECK_FALSE(refused);
  CHECK_THAT(refused.reason(), Catch::Contains("this is a derived trust file"));
}

TEST_CASE(
    "governance: a stolen key revoked from a log index: later use refused, verify names the "
    "events it signed",
    "[integration][governance]") {
  NodeProcess node(kDemoTemplate);  // admins maker, regulator, datacenter: 2 of 3
  node.start();
  auto as = [&](const std::string& member, const std::string& key = "") {
    return Argv{"--as", member, "--key", key.empty() ? node.key_file(member) : key};
  };
  auto ok = [&](const Argv& args) {
    ProcessResult r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  auto index_of = [](const ProcessResult& r) {
    auto at = r.out.find("accepted at log index ");
    REQUIRE(at != std::string::npos);
    return std::stoull(r.out.substr(at + 22));
  };
  ok(Argv{"register"} + as("maker") +
     Argv{"--serial", "GPU-R1", "--model", "L4", "--fab-site", "f1", "--country", "TW"});
  ok(Argv{"transfer"} + as("maker") +
     Argv{"--serial", "GPU-R1", "--to", "distributor", "--ship-to", "SG"});
  // Someone holding the distributor's key accepts the shipment and sends it
  // on to the broker: the ledger cannot tell them from the distributor.
  const uint64_t stolen_from =
      index_of(ok(Argv{"accept"} + as("distributor") + Argv{"--serial", "GPU-R1"}));
  const uint64_t diverted =
      index_of(ok(Argv{"transfer"} + as("distributor") +
                  Argv{"--serial", "GPU-R1", "--to", "broker", "--ship-to", "MY"}));

  // The distributor notices: the admins vote in its new key and revoke the
  // stolen one from the index of its first use by the thief.
  const std::string fresh = node.dir() + "/distributor-new.pem";
  ok(Argv{"keygen", "--out", fresh});
  PrivateKey stolen = *PrivateKey::load_file(node.key_file("distributor"));
  PrivateKey replacement = *PrivateKey::load_file(fresh);
  nlohmann::json changes = nlohmann::json::array(
      {{{"change", "add-key"}, {"member", "distributor"}, {"key", replacement.public_key().pem()}},
       {{"change", "revoke-key"},
        {"member", "distributor"},
        {"key_id", hex_encode(stolen.public_key().key_id())},
        {"from_index", stolen_from}}});
  write_text_file(node.dir() + "/revoke.json", changes.dump());
  ProcessResult proposed =
      ok(Argv{"propose"} + as("regulator") + Argv{"--changes", node.dir() + "/revoke.json"});
  auto at = proposed.out.find("proposal id ");
  REQUIRE(at != std::string::npos);
  ok(Argv{"vote"} + as("datacenter") + Argv{proposed.out.substr(at + 12, 64)});

  // The broker refuses the chip and sends it back; the stolen key can no
  // longer move it, the new one can (at the end).
  ok(Argv{"reject"} + as("broker") + Argv{"--serial", "GPU-R1", "--reason", "not ordered"});
  ProcessResult late = node.cli(Argv{"transfer"} + as("distributor") +
                                Argv{"--serial", "GPU-R1", "--to", "broker", "--ship-to", "MY"});
  CHECK(late.exit_code == 2);
  CHECK_THAT(late.err, Catch::Contains("is not a key of member distributor"));

  ProcessResult v = node.cli(Argv{"verify", "--json", "GPU-R1"});
  INFO(v.describe());
  CHECK(v.exit_code == 23);
  auto report = nlohmann::json::parse(v.out);
  CHECK(report["verdict"] == "revoked-key");
  size_t revoked_findings = 0;
  for (const auto& f : report["findings"]) {
    if (f["finding"] != "revoked-key") continue;
    ++revoked_findings;
    CHECK_THAT(f["reason"].get<std::string>(),
               Catch::Contains("revoked from index " + std::to_string(stolen_from)));
  }
  CHECK(revoked_findings == 2);  // the accept and the diversion
  const std::string stolen_id = hex_encode(stolen.public_key().key_id());
  for (const auto& row : report["chain"]) {
    const uint64_t i = row["index"];
    INFO("chain row " << row.dump());
    if (i == stolen_from || i == diverted) {
      CHECK(row["key"] == stolen_id);
      CHECK_THAT(row["key_status"].get<std::string>(), Catch::StartsWith("revoked from index"));
    } else {
      CHECK(row["key_status"] == "valid");  // before the theft, or another member's
    }
  }
  ProcessResult text = node.cli(Argv{"verify", "GPU-R1"});
  CHECK_THAT(text.out, Catch::Contains("finding revoked-key (exit 23)"));
  // The new key signs for the distributor.
  ok(Argv{"transfer"} + as("distributor", fresh) +
     Argv{"--serial", "GPU-R1", "--to", "datacenter", "--ship-to", "US"});
}

// A fourth chipledger-node process joins a running 3-node cluster by a
// governance vote, driven by the chipledger CLI: before the vote it is not
// in Raft and its signatures count for nothing; after it the leader adds it
// as a voter, it catches up, its checkpoint signature counts, and verify
// (which judges the checkpoint by the nodes in force at its size) passes
// through it. Then a vote removes another node: out of Raft, not counted.
TEST_CASE(
    "governance: a node added by vote joins, catches up and signs, and a node removed by vote "
    "leaves",
    "[integration][cluster]") {
  LocalCluster c(4);
  // The genesis: the first three nodes (quorum 2); node 4 waits to join.
  nlohmann::json fourth = c.hold_back_last_node(2);
  const std::string node4 = fourth["id"];
  for (size_t i = 0; i < 3; ++i) c.start(i);
  size_t leader = c.wait_leader();
  std::string nodes = c.url(0) + "," + c.url(1) + "," + c.url(2);
  auto cli = [&](const Argv& args, const std::string& via) { return c.cli(args, via); };
  auto as = [&](const std::string& m) { return c.as(m); };
  auto ok = [&](const Argv& args, const std::string& via) {
    ProcessResult r = cli(args, via);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  ok(Argv{"register"} + as("maker") +
         Argv{"--serial", "NODE-1", "--model", "L4", "--fab-site", "f1", "--country", "TW"},
     nodes);
  c.start(3);
  auto voters = [&](size_t i) {
    std::vector<uint64_t> out;
    auto h = c.get_json(i, "/v1/health");
    for (const auto& m : h ? (*h)["raft"]["members"] : nlohmann::json::array()) {
      if (m["role"] == "voter") out.push_back(m["id"]);
    }
    return out;
  };
  auto wait_for = [&](const std::function<bool()>& what, const char* name) {
    auto deadline = Clock::now() + 60s * kSanitizerSlowdown;
    while (Clock::now() < deadline && !what()) std::this_thread::sleep_for(20ms);
    INFO(name);
    REQUIRE(what());
  };
  CHECK(voters(leader) == std::vector<uint64_t>{1, 2, 3});

  // The vote: add-node (the entry init wrote for it) with the quorum raised.
  nlohmann::json add{{"change", "add-node"},
                     {"node", node4},
                     {"member", fourth["member"]},
                     {"key", fourth["key"]},
                     {"api", fourth["api"]},
                     {"raft_id", fourth["raft_id"]},
                     {"raft_address", fourth["raft_address"]}};
  write_text_file(c.dir() + "/add-node.json",
                  nlohmann::json::array({add, {{"change", "set-quorum"}, {"quorum", 3}}}).dump());
  ProcessResult proposed =
      ok(Argv{"propose"} + as("maker") + Argv{"--changes", c.dir() + "/add-node.json"}, nodes);
  const std::string id = proposal_id(proposed.out);
  ok(Argv{"vote"} + as("regulator") + Argv{id}, nodes);
  ProcessResult applied = ok(Argv{"vote"} + as("datacenter") + Argv{id}, nodes);
  CHECK_THAT(applied.out, Catch::Contains("applied at log index"));

  wait_for([&] { return voters(leader) == std::vector<uint64_t>{1, 2, 3, 4}; }, "node 4 a voter");
  // Whichever node led when the vote landed logged the change.
  CHECK_THAT(c.log(0) + c.log(1) + c.log(2),
             Catch::Contains("governance: adding Raft server 4: done"));
  auto size_of = [&](size_t i) {
    auto h = c.get_json(i, "/v1/health");
    return h ? (*h)["size"].get<uint64_t>() : 0;
  };
  wait_for([&] { return size_of(3) == size_of(leader); }, "node 4 caught up");
  // verify through node 4 alone: the checkpoint is judged by the four nodes
  // in force (quorum 3), node 4's signature among them.
  ok(Argv{"register"} + as("maker") +
         Argv{"--serial", "NODE-2", "--model", "L4", "--fab-site", "f1", "--country", "TW"},
     nodes);
  nlohmann::json report;
  wait_for(
      [&] {
        ProcessResult v = cli(Argv{"verify", "--json", "NODE-2"}, c.url(3));
        report = nlohmann::json::parse(v.out, nullptr, false);
        if (!report.is_object() || !report.contains("checkpoint")) return false;
        for (const auto& s : report["checkpoint"]["signers"]) {
          if (s == node4) return report["verdict"] == "not-installed";
        }
        return false;
      },
      "verify through node 4 counts its signature");
  INFO(report.dump(2));
  CHECK(report["governance"]["changes"] == 1);

  // A vote removes the first follower (quorum back to 2 of 3).
  leader = c.wait_leader();           // leadership may have moved meanwhile
  size_t gone = leader == 0 ? 1 : 0;  // a follower of the first three
  const std::string gone_id = (*c.get_json(gone, "/v1/health"))["node_id"];
  const uint64_t gone_raft = (*c.get_json(gone, "/v1/health"))["raft"]["id"];
  ProcessResult removal =
      ok(Argv{"propose"} + as("maker") + Argv{"--remove-node", gone_id, "--quorum", "2"}, nodes);
  const std::string rid = proposal_id(removal.out);
  ok(Argv{"vote"} + as("regulator") + Argv{rid}, nodes);
  ok(Argv{"vote"} + as("datacenter") + Argv{rid}, nodes);
  wait_for(
      [&] {
        auto v = voters(leader);
        return v.size() == 3 && std::find(v.begin(), v.end(), gone_raft) == v.end();
      },
      "the removed node out of Raft");
  c.stop(gone);
  ok(Argv{"register"} + as("maker") +
         Argv{"--serial", "NODE-3", "--model", "L4", "--fab-site", "f1", "--country", "TW"},
     c.url(leader) + "," + c.url(3));
  ProcessResult last = cli(Argv{"verify", "--json", "NODE-3"}, c.url(leader));
  nlohmann::json after = nlohmann::json::parse(last.out);
  INFO(after.dump(2));
  CHECK(after["verdict"] == "not-installed");
  for (const auto& s : after["checkpoint"]["signers"]) CHECK(s != gone_id);
  std::cout << "governance: " << node4 << " added by vote (a voter, its signature counted), "
            << gone_id << " removed by vote" << std::endl;
}

// Admin groups (docs/governance.md, section 2) on a real node through the
// CLI: a vote adds a regulators' group; from then on the threshold alone
// applies nothing, `proposals` names the group still missing, and the
// regulator's vote applies the proposal; verify follows the governance
// through it.
TEST_CASE("governance: a regulators' group must approve, whatever the threshold",
          "[integration][governance]") {
  NodeProcess node(kDemoTemplate);  // admins maker, regulator, datacenter: 2 of 3
  node.start();
  auto as = [&](const std::string& member) {
    return Argv{"--as", member, "--key", node.key_file(member)};
  };
  auto ok = [&](const Argv& args) {
    ProcessResult r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  nlohmann::json groups = {
      {"change", "set-admin-groups"},
      {"groups", {{{"name", "regulators"}, {"admins", {"regulator"}}, {"min", 1}}}}};
  write_text_file(node.dir() + "/groups.json", groups.dump());
  ProcessResult g =
      ok(Argv{"propose"} + as("maker") + Argv{"--changes", node.dir() + "/groups.json"});
  ProcessResult g_vote = ok(Argv{"vote"} + as("datacenter") + Argv{proposal_id(g.out)});
  CHECK_THAT(g_vote.out, Catch::Contains("applied at log index"));
  ProcessResult rule = ok(Argv{"proposals"});
  CHECK_THAT(rule.out, Catch::Contains("at least 1 of group regulators (regulator)"));

  // maker and datacenter meet the threshold; the regulators have not approved.
  ProcessResult p = ok(Argv{"propose"} + as("maker") + Argv{"--suspend", "broker"});
  const std::string id = proposal_id(p.out);
  ProcessResult second = ok(Argv{"vote"} + as("datacenter") + Argv{id});
  CHECK_THAT(second.out,
             Catch::Contains("(2 of the 2 needed); 1 more of group regulators: regulator"));
  ProcessResult listed = ok(Argv{"proposals", "--json"});
  auto open = nlohmann::json::parse(listed.out)["proposals"];
  REQUIRE(open.size() == 1);
  CHECK(open[0]["status"] == "open");
  CHECK(open[0]["missing"] == 0);
  CHECK(
      open[0]["missing_groups"] ==
      nlohmann::json::parse(R"([{"group":"regulators","missing":1,"waiting_for":["regulator"]}])"));
  // Every proposal, a page of one at a time, and one by its id.
  auto page = [&](const std::string& query) {
    auto r = node.http().get("/v1/governance/proposals?" + query);
    REQUIRE(r);
    INFO(query << ": " << r->body);
    REQUIRE(r->status == 200);
    return nlohmann::json::parse(r->body);
  };
  auto status_of = [&](const std::string& query) {
    auto r = node.http().get("/v1/governance/proposals?" + query);
    return r ? r->status : 0;
  };
  auto first = page("all=1&limit=1");
  REQUIRE(first["proposals"].size() == 1);
  CHECK(first["proposals"][0]["id"] == proposal_id(g.out));
  REQUIRE(first["next"].is_number_unsigned());
  auto rest = page("all=1&limit=1&from=" + std::to_string(first["next"].get<uint64_t>()));
  REQUIRE(rest["proposals"].size() == 1);
  CHECK(rest["proposals"][0]["id"] == id);
  CHECK(rest["next"].is_null());
  auto by_id = page("id=" + proposal_id(g.out));
  REQUIRE(by_id["proposals"].size() == 1);
  CHECK(by_id["proposals"][0]["status"] == "applied");
  CHECK(status_of("limit=0") == 400);
  CHECK(status_of("id=zz") == 400);
  // Still open, so the broker is not suspended: it can register nothing
  // (not a manufacturer) but it can receive a transfer.
  ok(Argv{"register"} + as("maker") +
     Argv{"--serial", "GPU-G1", "--model", "L4", "--fab-site", "f1", "--country", "TW"});
  ok(Argv{"transfer"} + as("maker") +
     Argv{"--serial", "GPU-G1", "--to", "broker", "--ship-to", "MY"});

  ProcessResult third = ok(Argv{"vote"} + as("regulator") + Argv{id});
  CHECK_THAT(third.out, Catch::Contains("applied at log index"));
  ProcessResult refused = node.cli(Argv{"accept"} + as("broker") + Argv{"--serial", "GPU-G1"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("member broker is suspended by a governance vote"));
  // verify replays the governance, groups and all (the groups and the
  // suspension are its two changes): the chain checks, the chip in transit.
  ProcessResult v = node.cli(Argv{"verify", "GPU-G1"});
  INFO(v.describe());
  CHECK(v.exit_code == 17);
  CHECK_THAT(v.out, Catch::Contains("governance: 5 transaction(s) followed from the trust file, "
                                    "2 change(s)"));
  CHECK_THAT(v.out, Catch::Contains("verdict: not-installed"));
}

}  // namespace chipledger::integ
