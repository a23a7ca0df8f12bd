// One serial's whole custody walk through the real CLI and node: a chip
// with its own device key is registered, shipped maker -> distributor ->
// datacenter, installed and attested; `verify` names what is missing at
// each stage and says ok only at the end.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

ProcessResult cli_ok(const NodeProcess& node, const std::vector<std::string>& args) {
  auto r = node.cli(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return r;
}

TEST_CASE("end to end: maker -> distributor -> datacenter, installed, attested, verified",
          "[integration]") {
  NodeProcess node;
  node.start();
  const std::string serial = "AX100-E2E-000001";
  const std::string chips = node.dir() + "/chips";
  auto as = [&](const std::string& m) {
    return std::vector<std::string>{"--as", m, "--key", node.key_file(m), "--serial", serial};
  };
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  // The verdict at this stage: its exit code and JSON report.
  auto verify = [&](int exit_code) {
    auto r = node.cli({"verify", serial, "--trust", node.trust_file(), "--json"});
    INFO(r.describe());
    REQUIRE(r.exit_code == exit_code);
    return nlohmann::json::parse(r.out);
  };

  cli_ok(node,
         {"devkeys", "--count", "1", "--prefix", "AX100-E2E-", "--digits", "6", "--out", chips});
  auto reg = cli_ok(node, {"register", "--as", "maker", "--key", node.key_file("maker"), "--csv",
                           chips + "/devices.csv", "--model", "AX-100", "--fab-site",
                           "fab-hsinchu-12", "--country", "TW", "--eccn", "3A090"});
  CHECK(reg.out.find("register accepted at log index 0") != std::string::npos);
  CHECK(verify(17)["verdict"] == "not-installed");
  cli_ok(node, with(with({"transfer"}, as("maker")), {"--to", "distributor", "--ship-to", "SG"}));

  // In transit (well within the policy's limit): not a finding of its own,
  // the duration is reported; the chip is not installed.
  auto transit = verify(17);
  CHECK(transit["status"] == "in-transit");
  CHECK(transit["verdict"] == "not-installed");
  CHECK(transit["findings"][0]["reason"].get<std::string>().find("in transit to distributor") !=
        std::string::npos);
  CHECK(transit["in_transit_for_ms"].is_number());

  cli_ok(node, with({"accept"}, as("distributor")));
  cli_ok(node,
         with(with({"transfer"}, as("distributor")), {"--to", "datacenter", "--ship-to", "US"}));
  auto last = cli_ok(node, with({"accept"}, as("datacenter")));
  CHECK(last.out.find("accept accepted at log index 4") != std::string::npos);
  auto held = verify(17);
  CHECK(held["holder"] == "datacenter");
  CHECK(held["findings"][0]["reason"] == "held by datacenter, not installed");

  // Only the holding operator installs.
  auto wrong =
      node.cli(with(with({"install"}, as("distributor")), {"--site", "x", "--country", "US"}));
  CHECK(wrong.exit_code == 2);
  cli_ok(node, with(with({"install"}, as("datacenter")), {"--site", "iad-7", "--country", "US"}));
  CHECK(verify(19)["verdict"] == "never-attested");
  auto attest =
      cli_ok(node, with(with({"attest"}, as("datacenter")),
                        {"--site", "iad-7", "--chip-keys", chips, "--trust", node.trust_file()}));
  CHECK(attest.out.find("1 chip signed checkpoint 6 at site iad-7") != std::string::npos);

  auto report = verify(0);
  INFO(report.dump(2));
  CHECK(report["verdict"] == "ok");
  CHECK(report["exit_code"] == 0);
  CHECK(report["findings"].empty());
  CHECK(report["holder"] == "datacenter");
  CHECK(report["status"] == "held");
  CHECK(report["location"] == "US");
  CHECK(report["site"] == "iad-7");
  CHECK(report["last_attest_ms"].get<uint64_t>() > 0);
  REQUIRE(report["chain"].size() == 7);
  const std::vector<std::string> members = {
      "maker", "maker", "distributor", "distributor", "datacenter", "datacenter", "datacenter"};
  for (size_t i = 0; i < 7; ++i) {
    CHECK(report["chain"][i]["index"] == i);
    CHECK(report["chain"][i]["member"] == members[i]);
  }
  CHECK(report["chain"][0]["event"].get<std::string>().find("register") == 0);
  CHECK(report["chain"][1]["event"].get<std::string>().find("distributor") != std::string::npos);
  CHECK(report["chain"][3]["event"].get<std::string>().find("datacenter") != std::string::npos);
  CHECK(report["chain"][5]["event"] == "install at iad-7 (US)");
  CHECK(report["chain"][6]["event"] == "chip attests at iad-7 (checkpoint 6)");

  // The text verdict too.
  auto text = cli_ok(node, {"verify", serial, "--trust", node.trust_file()});
  CHECK(text.out.find("verdict: ok") != std::string::npos);
  CHECK(text.out.find("held by datacenter") != std::string::npos);
  CHECK(text.out.find("checkpoint: log size 7, signed by node-maker") != std::string::npos);

  auto status = cli_ok(node, {"status", serial});
  CHECK(status.out.find("holder       datacenter") != std::string::npos);
  CHECK(status.out.find("status       held") != std::string::npos);
  CHECK(status.out.find("installed    yes, at site iad-7") != std::string::npos);
  auto status_json = nlohmann::json::parse(cli_ok(node, {"--json", "status", serial}).out);
  CHECK(status_json["holder"] == "datacenter");
  CHECK(status_json["status"] == "held");
  CHECK(status_json["pending_to"].is_null());
  CHECK(status_json["manufacturer"] == "maker");
  CHECK(status_json["installed"] == true);
  CHECK(status_json["events"] == 7);

  auto history = cli_ok(node, {"history", serial});
  CHECK(history.out.find("accept") != std::string::npos);
  CHECK(history.out.find("attest") != std::string::npos);
  CHECK(node.log_size() == 7);

  // Decommissioned: terminal, and its own verdict.
  cli_ok(node, with(with({"decommission"}, as("datacenter")),
                    {"--kind", "recycled", "--reason", "end of life"}));
  CHECK(verify(20)["verdict"] == "decommissioned");
  auto after =
      node.cli(with(with({"transfer"}, as("datacenter")), {"--to", "maker", "--ship-to", "TW"}));
  CHECK(after.exit_code == 2);
  CHECK(after.err.find("was decommissioned; nothing may follow") != std::string::npos);
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
