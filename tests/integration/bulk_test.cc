// `register --csv` with 2,500 serials: three transactions of at most 1,000
// serials each, all in the log, and any one of them verifies.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

std::string bulk_serial(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "AX100-BULK-%06d", i);
  return buf;
}

TEST_CASE("bulk: register --csv with 2500 serials", "[integration]") {
  NodeProcess node;
  node.start();
  constexpr int kSerials = 2500;
  const std::string csv = node.dir() + "/serials.csv";
  {
    std::ofstream out(csv);
    out << "serial,lot,note\r\n";  // header, and CRLF line ends as spreadsheets write them
    for (int i = 1; i <= kSerials; ++i) out << bulk_serial(i) << ",lot-" << (i % 7) << ",ok\r\n";
    REQUIRE(out.good());
  }

  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--csv", csv,
                       "--model", "AX-100", "--fab-site", "fab-hsinchu-12", "--country", "TW",
                       "--eccn", "3A090"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  CHECK(reg.out.find("registered 2500 serials") != std::string::npos);
  CHECK(node.log_size() == 3);  // 1000 + 1000 + 500

  for (int i : {1, 1000, 1001, 2000, 2001, 2500}) {
    auto chip = node.get_json("/v1/chips/" + bulk_serial(i));
    CHECK(chip["holder"] == "maker");
    CHECK(chip["last_index"] == static_cast<uint64_t>((i - 1) / 1000));
  }

  auto verify = node.cli({"verify", bulk_serial(1234), "--trust", node.trust_file(), "--json"});
  INFO(verify.describe());
  REQUIRE(verify.exit_code == 17);  // the evidence checks; held by its maker, not installed
  auto report = nlohmann::json::parse(verify.out);
  CHECK(report["verdict"] == "not-installed");
  CHECK(report["findings"].size() == 1);
  CHECK(report["holder"] == "maker");
  REQUIRE(report["chain"].size() == 1);
  CHECK(report["chain"][0]["index"] == 1);

  // Registering the same file again is refused at the first batch: nothing changes.
  auto again = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--csv", csv,
                         "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(again.describe());
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("is already registered") != std::string::npos);
  CHECK(node.log_size() == 3);
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
