// The CLI as a new user meets it: the shared options before or after the
// subcommand, serials that need escaping in a URL, a CSV with a UTF-8
// byte-order mark, and `--json` chain entries a program can read.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using nlohmann::json;

// The CLI with no options added: the test places them itself.
ProcessResult bare_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kCliBin};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, std::chrono::seconds(60));
}

TEST_CASE("cli: shared options work before and after the subcommand", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string state = node.dir() + "/client-state.json";
  // --as and --key before the subcommand, --node/--state/--trust after it.
  auto reg = bare_cli({"--as", "maker", "--key", node.key_file("maker"), "register", "--serial",
                       "GPU-P-1", "--model", "H1", "--fab-site", "f1", "--country", "TW", "--node",
                       node.url(), "--state", state, "--trust", node.trust_file()});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  CHECK(reg.out.find("register accepted at log index 0") != std::string::npos);

  // --json after the serial, the node before the subcommand.
  auto after = bare_cli({"--node", node.url(), "verify", "GPU-P-1", "--state", state, "--trust",
                         node.trust_file(), "--json", "--timeout", "20"});
  INFO(after.describe());
  REQUIRE(after.exit_code == 17);
  CHECK(json::parse(after.out)["verdict"] == "not-installed");
  auto before = bare_cli({"--json", "--trust", node.trust_file(), "--state", state, "status",
                          "GPU-P-1", "--node", node.url()});
  INFO(before.describe());
  REQUIRE(before.exit_code == 0);
  CHECK(json::parse(before.out).contains("checkpoint"));

  // --as given to a command that signs nothing is refused, not ignored.
  auto stray = node.cli({"--as", "maker", "verify", "GPU-P-1"});
  CHECK(stray.exit_code == 1);
  CHECK(stray.err.find("--as is for commands that sign; `verify` signs nothing") !=
        std::string::npos);
}

TEST_CASE("cli: serials travel URL-encoded and bad ones are named before sending",
          "[integration]") {
  NodeProcess node;
  node.start();
  // ':' and '/' are serial characters; in a path they must be escaped.
  const std::string serial = "LOT:7/SN-1";
  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                       serial, "--model", "H1", "--fab-site", "f1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  auto v = node.cli({"verify", serial, "--json"});
  INFO(v.describe());
  REQUIRE(v.exit_code == 17);
  CHECK(json::parse(v.out)["serial"] == serial);
  auto st = node.cli({"status", serial});
  INFO(st.describe());
  CHECK(st.exit_code == 0);
  auto h = node.cli({"history", serial});
  INFO(h.describe());
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("register") != std::string::npos);

  // A space is no serial: a clear error from the CLI, nothing sent (the
  // node never sees a raw space in a request line).
  for (const char* command : {"status", "verify", "history"}) {
    auto bad = node.cli({command, "GPU 1"});
    INFO(bad.describe());
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("serial 'GPU 1': a serial may only contain") != std::string::npos);
    CHECK(bad.err.find("HTTP") == std::string::npos);
  }
  // A license id with a space is escaped and simply not found.
  auto lic = node.cli({"license-status", "EXP 2026/1"});
  INFO(lic.describe());
  CHECK(lic.err.find("license EXP 2026/1 is not on the ledger") != std::string::npos);
}

TEST_CASE("cli: a CSV with a UTF-8 byte-order mark reads as it should", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string csv = node.dir() + "/bom.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "\xEF\xBB\xBF"
        << "serial\r\nGPU-B-1\r\nGPU-B-2\r\n";
  }
  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--csv", csv,
                       "--model", "H1", "--fab-site", "f1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  CHECK(reg.out.find("(2 serials") != std::string::npos);
  auto v = node.cli({"verify", "--csv", csv, "--json"});
  INFO(v.describe());
  REQUIRE(v.exit_code == 17);
  CHECK(v.out.find("GPU-B-1") != std::string::npos);
  CHECK(v.out.find("\xEF\xBB\xBF") == std::string::npos);
}

TEST_CASE("cli: --json chain entries carry the event as fields", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string serial = "GPU-J-1";
  auto ok = [&](std::vector<std::string> args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  ok({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial", serial, "--model",
      "H1", "--fab-site", "f1", "--country", "TW"});
  ok({"transfer", "--as", "maker", "--key", node.key_file("maker"), "--serial", serial, "--to",
      "distributor", "--ship-to", "SG"});
  auto accept = ok({"accept", "--as", "distributor", "--key", node.key_file("distributor"),
                    "--serial", serial, "--json"});
  auto v = node.cli({"verify", serial, "--json"});
  INFO(v.describe());
  REQUIRE(v.exit_code == 17);
  json chain = json::parse(v.out)["chain"];
  REQUIRE(chain.size() == 3);
  CHECK(chain[0]["type"] == "register");
  CHECK(chain[0]["from"] == "");
  CHECK(chain[1]["type"] == "transfer");
  CHECK(chain[1]["from"] == "maker");
  CHECK(chain[1]["to"] == "distributor");
  CHECK(chain[1]["ship_to"] == "SG");
  CHECK(chain[1]["license"] == "");
  CHECK(chain[2]["type"] == "accept");
  CHECK(chain[2]["from"] == "maker");
  CHECK(chain[2]["to"] == "distributor");
  for (const auto& e : chain) CHECK(e["txid"].get<std::string>().size() == 64);
  // The accept's txid is the one its receipt named.
  CHECK(accept.out.find(chain[2]["txid"].get<std::string>()) != std::string::npos);
}

}  // namespace
}  // namespace chipledger::integ
