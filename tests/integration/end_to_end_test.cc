// One serial's whole custody walk through the real CLI and node:
// maker registers, ships to distributor, who accepts and ships to
// datacenter, who accepts; `verify` proves the five-event chain.
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

TEST_CASE("end to end: maker -> distributor -> datacenter, verified", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string serial = "AX100-E2E-000001";
  auto as = [&](const std::string& m) {
    return std::vector<std::string>{"--as", m, "--key", node.key_file(m), "--serial", serial};
  };
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  auto reg = cli_ok(node, with(with({"register"}, as("maker")),
                               {"--model", "AX-100", "--fab-site", "fab-hsinchu-12", "--country",
                                "TW", "--eccn", "3A090"}));
  CHECK(reg.out.find("register accepted at log index 0") != std::string::npos);
  cli_ok(node, with(with({"transfer"}, as("maker")), {"--to", "distributor", "--ship-to", "SG"}));

  // In transit: verify says so with its own exit code.
  auto transit = node.cli({"verify", serial, "--trust", node.trust_file()});
  INFO(transit.describe());
  CHECK(transit.exit_code == 12);

  cli_ok(node, with({"accept"}, as("distributor")));
  cli_ok(node,
         with(with({"transfer"}, as("distributor")), {"--to", "datacenter", "--ship-to", "US"}));
  auto last = cli_ok(node, with({"accept"}, as("datacenter")));
  CHECK(last.out.find("accept accepted at log index 4") != std::string::npos);

  auto verify = cli_ok(node, {"verify", serial, "--trust", node.trust_file(), "--json"});
  auto report = nlohmann::json::parse(verify.out);
  INFO(report.dump(2));
  CHECK(report["verdict"] == "ok");
  CHECK(report["findings"].empty());
  CHECK(report["holder"] == "datacenter");
  CHECK(report["status"] == "held");
  REQUIRE(report["chain"].size() == 5);
  const std::vector<std::string> members = {"maker", "maker", "distributor", "distributor",
                                            "datacenter"};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(report["chain"][i]["index"] == i);
    CHECK(report["chain"][i]["member"] == members[i]);
  }
  CHECK(report["chain"][0]["event"].get<std::string>().find("register") == 0);
  CHECK(report["chain"][1]["event"].get<std::string>().find("distributor") != std::string::npos);
  CHECK(report["chain"][3]["event"].get<std::string>().find("datacenter") != std::string::npos);

  // The text verdict too.
  auto text = cli_ok(node, {"verify", serial, "--trust", node.trust_file()});
  CHECK(text.out.find("verdict: ok") != std::string::npos);
  CHECK(text.out.find("held by datacenter") != std::string::npos);

  auto status = cli_ok(node, {"status", serial});
  CHECK(status.out.find("holder       datacenter") != std::string::npos);
  CHECK(status.out.find("status       held") != std::string::npos);
  auto status_json = nlohmann::json::parse(cli_ok(node, {"--json", "status", serial}).out);
  CHECK(status_json["holder"] == "datacenter");
  CHECK(status_json["status"] == "held");
  CHECK(status_json["pending_to"].is_null());
  CHECK(status_json["manufacturer"] == "maker");
  CHECK(status_json["events"] == 5);

  auto history = cli_ok(node, {"history", serial});
  CHECK(history.out.find("accept") != std::string::npos);
  CHECK(node.log_size() == 5);
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
