// The fixture itself against the real node: start, CLI capture, restart on
// the same data (new port), SIGKILL, clean SIGTERM exit.
#include <catch2/catch.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

TEST_CASE("node fixture: start, CLI, restart and kill on the same data", "[integration]") {
  NodeProcess node;
  node.start();
  REQUIRE(node.port() != 0);
  auto health = node.get_json("/v1/health");
  CHECK(health["status"] == "ok");
  CHECK(health["node_id"] == "node-maker");
  CHECK(health["size"] == 0);

  // The CLI helper: exit code, stdout and stderr apart.
  auto missing = node.cli({"status", "NEVER-REGISTERED"});
  INFO(missing.describe());
  CHECK(missing.exit_code == 11);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("is not registered") != std::string::npos);

  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                       "FIX-0001", "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  CHECK(reg.out.find("register accepted at log index 0") != std::string::npos);

  // A clean restart keeps the data; the port is read again.
  node.restart();
  CHECK(node.log_size() == 1);
  auto status = node.cli({"status", "FIX-0001"});
  INFO(status.describe());
  CHECK(status.exit_code == 0);

  // SIGKILL, then start on the same folder.
  node.kill9();
  CHECK_FALSE(node.running());
  node.start();
  CHECK(node.log_size() == 1);
  CHECK(node.get_json("/v1/chips/FIX-0001")["holder"] == "maker");

  CHECK(node.stop() == 0);
  CHECK(node.output().find("stopping on signal 15") != std::string::npos);
}

}  // namespace
}  // namespace chipledger::integ
