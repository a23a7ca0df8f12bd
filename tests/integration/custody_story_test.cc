// Issue 3's commands through the real binaries: simulated chips with device
// keys registered in bulk, a server packed, shipped, installed and attested
// by its chips, an export refused without a license and shipped with one, a
// flag, and a batch verify with its summary and exit status. The nodes run
// the demo consortium (config/demo-consortium.json) unless noted.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using json = nlohmann::json;
constexpr int kRefused = 2;

struct Story {
  NodeProcess node;
  std::string chips;  // the simulated chips' key folder

  explicit Story(const std::string& tmpl = kDemoTemplate)
      : node(tmpl), chips(node.dir() + "/chips") {
    node.start();
  }

  Argv as(const std::string& member) const {
    return {"--as", member, "--key", node.key_file(member)};
  }
  ProcessResult ok(const Argv& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  }
  // The ledger refuses: exit 2 and its reason on stderr.
  void refused(const Argv& args, const std::string& reason) {
    uint64_t size = node.log_size();
    auto r = node.cli(args);
    INFO(r.describe());
    CHECK(r.exit_code == kRefused);
    CHECK(r.err.find("refused: ") != std::string::npos);
    CHECK(r.err.find(reason) != std::string::npos);
    CHECK(node.log_size() == size);
  }
  json verify(const std::string& serial, int expected_exit) {
    auto r = node.cli({"verify", serial, "--trust", node.trust_file(), "--json"});
    INFO(r.describe());
    REQUIRE(r.exit_code == expected_exit);
    return json::parse(r.out);
  }
  // `count` chips PREFIX0001.. with device keys, registered by maker as H100-SXM5.
  void make_chips(const std::string& prefix, int count) {
    ok({"devkeys", "--count", std::to_string(count), "--prefix", prefix, "--out", chips});
    ok(Argv{"register"} + as("maker") +
       Argv{"--csv", chips + "/devices.csv", "--model", "H100-SXM5", "--eccn", "3A090",
            "--fab-site", "Fab 18", "--country", "TW"});
  }
  Argv serials(const std::string& prefix, int first, int last) const {
    Argv out;
    char buf[64];
    for (int i = first; i <= last; ++i) {
      std::snprintf(buf, sizeof buf, "%s%04d", prefix.c_str(), i);
      out.insert(out.end(), {"--serial", buf});
    }
    return out;
  }
  void hand_over(const std::string& from, const std::string& to, const std::string& ship_to,
                 const Argv& serials, const Argv& extra = {}) {
    ok(Argv{"transfer"} + as(from) + Argv{"--to", to, "--ship-to", ship_to} + extra + serials);
    ok(Argv{"accept"} + as(to) + serials);
  }
};

TEST_CASE("story: devkeys simulates chips, register --csv carries their device keys",
          "[integration][story]") {
  Story s("");  // the default dev consortium
  auto dk = s.ok({"devkeys", "--count", "5", "--prefix", "T-", "--start", "7", "--out", s.chips,
                  "--algorithm", "ecdsa-p384"});
  CHECK(dk.out.find("simulated 5 chips T-0007 .. T-0011 with ecdsa-p384 device keys") !=
        std::string::npos);
  struct stat st {};
  REQUIRE(stat((s.chips + "/T-0007.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::string csv = read_text_file(s.chips + "/devices.csv");
  std::istringstream lines(csv);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  CHECK(header == "serial,device_public_key_hex_der");
  REQUIRE(first.rfind("T-0007,", 0) == 0);
  std::string key_hex = first.substr(7);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);

  auto reg = s.ok(Argv{"register"} + s.as("maker") +
                  Argv{"--csv", s.chips + "/devices.csv", "--model", "AX-100", "--fab-site",
                       "fab-1", "--country", "TW"});
  CHECK(reg.out.find("registered 5 serials, 5 with a device key") != std::string::npos);
  auto chip = s.node.get_json("/v1/chips/T-0007");
  CHECK(chip["has_device_key"] == true);
  auto history = s.node.get_json("/v1/chips/T-0007/history");
  CHECK(history["events"][0]["event"]["device_keys"]["T-0007"] == key_hex);
  auto status = s.ok({"status", "T-0011"});
  CHECK(status.out.find("device key   yes") != std::string::npos);

  // A key column that is not a public key is caught before anything is sent.
  const std::string bad = s.node.dir() + "/bad.csv";
  std::ofstream(bad) << "serial,device_key\nT-0100,3059aa\n";
  auto r =
      s.node.cli(Argv{"register"} + s.as("maker") +
                 Argv{"--csv", bad, "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.csv line 2: device key") != std::string::npos);
  CHECK(s.node.log_size() == 1);
}

TEST_CASE("story: chips packed into a server, shipped, installed and attested: ok",
          "[integration][story]") {
  Story s;
  s.make_chips("GPU-", 8);
  Argv chips = s.serials("GPU-", 1, 8);
  s.hand_over("maker", "integrator", "US", chips);

  // A new unit needs its model; then it is declared with the chips in it.
  auto r = s.node.cli(Argv{"pack"} + s.as("integrator") + Argv{"--unit", "SRV-1"} + chips);
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("declare it with --unit-model MODEL") != std::string::npos);
  auto pack = s.ok(Argv{"pack"} + s.as("integrator") +
                   Argv{"--unit", "SRV-1", "--unit-model", "HGX-H100-8GPU"} + chips);
  CHECK(pack.out.find("declared unit SRV-1 and packed 8 serials into SRV-1") != std::string::npos);
  auto unit = s.node.get_json("/v1/chips/SRV-1");
  CHECK(unit["children"].size() == 8);
  CHECK(unit["holder"] == "integrator");
  CHECK(s.node.get_json("/v1/chips/GPU-0003")["parent"] == "SRV-1");
  // A packed chip does not move on its own.
  s.refused(Argv{"transfer"} + s.as("integrator") +
                Argv{"--to", "datacenter", "--ship-to", "US", "--serial", "GPU-0003"},
            "is packed in unit SRV-1");

  s.hand_over("integrator", "datacenter", "US", {"--serial", "SRV-1"});
  s.ok(Argv{"install"} + s.as("datacenter") +
       Argv{"--site", "ashburn-1", "--country", "US", "--serial", "SRV-1"});
  auto before = s.verify("GPU-0005", 19);
  CHECK(before["verdict"] == "never-attested");

  // Chips whose keys are not the registered ones: the ledger refuses.
  const std::string impostors = s.node.dir() + "/impostors";
  s.ok({"devkeys", "--count", "8", "--prefix", "GPU-", "--out", impostors});
  s.refused(Argv{"attest"} + s.as("datacenter") +
                Argv{"--site", "ashburn-1", "--chip-keys", impostors, "--trust",
                     s.node.trust_file(), "--serial", "SRV-1"},
            "does not verify with its device key");

  auto attest = s.ok(Argv{"attest"} + s.as("datacenter") +
                     Argv{"--site", "ashburn-1", "--chip-keys", s.chips, "--trust",
                          s.node.trust_file(), "--serial", "SRV-1"});
  CHECK(attest.out.find("checkpoint verified: log size") != std::string::npos);
  CHECK(attest.out.find("8 chips signed checkpoint") != std::string::npos);

  for (const std::string serial : {"GPU-0001", "GPU-0008", "SRV-1"}) {
    auto report = s.verify(serial, 0);
    INFO(report.dump(2));
    CHECK(report["verdict"] == "ok");
    CHECK(report["holder"] == "datacenter");
    CHECK(report["site"] == "ashburn-1");
    CHECK(report["location"] == "US");
  }
  auto chip = s.verify("GPU-0004", 0);
  CHECK(chip["unit"] == "SRV-1");
  auto chain = chip["chain"];
  REQUIRE(chain.size() == 8);
  CHECK(chain[3]["event"] == "pack into SRV-1");
  CHECK(chain[7]["event"].get<std::string>().find("via SRV-1: chip attests at ashburn-1") == 0);

  auto text = s.ok({"verify", "GPU-0004", "--trust", s.node.trust_file()});
  CHECK(text.out.find("verdict: ok") != std::string::npos);
  CHECK(text.out.find("packed in SRV-1") != std::string::npos);
  auto status = s.ok({"status", "SRV-1"});
  CHECK(status.out.find("unit of      8 chips: GPU-0001") != std::string::npos);
  CHECK(status.out.find("installed    yes, at site ashburn-1") != std::string::npos);
}

TEST_CASE("story: an export to a restricted destination is refused, then licensed",
          "[integration][story]") {
  Story s;
  s.make_chips("GPU-", 4);
  Argv chips = s.serials("GPU-", 1, 4);
  s.hand_over("maker", "distributor", "SG", chips);
  Argv to_ae =
      Argv{"transfer"} + s.as("distributor") + Argv{"--to", "cloud-east", "--ship-to", "AE"};
  s.refused(to_ae + chips,
            "a transfer of controlled chip GPU-0001 (H100-SXM5, 3A090) to AE, a restricted "
            "destination, needs an export license; none was named");

  Argv lic = Argv{"license",     "--id",          "EXP-1",   "--exporter", "distributor",
                  "--recipient", "cloud-east",    "--model", "H100-SXM5",  "--quantity",
                  "4",           "--destination", "AE"};
  s.refused(lic + s.as("distributor") + Argv{"--expires-in-days", "30"},
            "only a regulator may issue export licenses");
  s.refused(lic + s.as("regulator") + Argv{"--expires", "2020-01-01"}, "expires in the past");
  auto issued = s.ok(lic + s.as("regulator") + Argv{"--expires-in-days", "30"});
  CHECK(issued.out.find("license EXP-1: distributor may ship 4 x H100-SXM5 to cloud-east in AE") !=
        std::string::npos);
  CHECK(s.node.get_json("/v1/licenses/EXP-1")["remaining"] == 4);

  s.ok(to_ae + Argv{"--license", "EXP-1"} + chips);
  auto used = json::parse(s.ok({"--json", "license-status", "EXP-1"}).out);
  CHECK(used["used"] == 4);
  CHECK(used["remaining"] == 0);
  CHECK(used["issuer"] == "regulator");
  auto missing = s.node.cli({"license-status", "NO-SUCH"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("license NO-SUCH is not on the ledger") != std::string::npos);
  auto status = s.ok({"status", "GPU-0002"});
  CHECK(status.out.find("in transit   to cloud-east, ship to AE (re-export, license EXP-1)") !=
        std::string::npos);

  s.ok(Argv{"accept"} + s.as("cloud-east") + chips);
  s.ok(Argv{"install"} + s.as("cloud-east") + Argv{"--site", "auh-1", "--country", "AE"} + chips);
  s.ok(Argv{"attest"} + s.as("cloud-east") +
       Argv{"--site", "auh-1", "--chip-keys", s.chips, "--trust", s.node.trust_file()} + chips);
  auto report = s.verify("GPU-0003", 0);
  CHECK(report["verdict"] == "ok");
  CHECK(report["location"] == "AE");
  CHECK(report["licenses"] == json::array({"EXP-1"}));
  bool license_listed = false;
  for (const auto& row : report["chain"]) {
    license_listed |= row["event"].get<std::string>().rfind("license EXP-1", 0) == 0;
  }
  CHECK(license_listed);
}

TEST_CASE("story: a lot the regulator flags (verify exits 13, the lot cannot move), verify --csv",
          "[integration][story]") {
  Story s;
  s.make_chips("GPU-", 6);
  s.hand_over("maker", "distributor", "SG", s.serials("GPU-", 1, 6));
  s.hand_over("distributor", "broker", "MY", s.serials("GPU-", 3, 4));
  s.hand_over("distributor", "datacenter", "US", s.serials("GPU-", 5, 6));
  s.ok(Argv{"install"} + s.as("datacenter") + Argv{"--site", "dc-1", "--country", "US"} +
       s.serials("GPU-", 5, 6));
  s.ok(Argv{"attest"} + s.as("datacenter") +
       Argv{"--site", "dc-1", "--chip-keys", s.chips, "--trust", s.node.trust_file()} +
       s.serials("GPU-", 5, 6));

  s.refused(Argv{"flag"} + s.as("auditor") + Argv{"--reason", "x", "--serial", "GPU-0003"},
            "only a regulator may flag serials");
  s.ok(Argv{"flag"} + s.as("regulator") +
       Argv{"--reason", "no onward shipment: suspected diversion"} + s.serials("GPU-", 3, 4));
  auto report = s.verify("GPU-0003", 13);
  CHECK(report["verdict"] == "flagged");
  CHECK(report["findings"][0]["reason"] ==
        "flagged by the regulator: no onward shipment: suspected diversion");
  auto text = s.node.cli({"verify", "GPU-0003", "--trust", s.node.trust_file()});
  CHECK(text.exit_code == 13);
  CHECK(text.out.find("finding flagged (exit 13): flagged by the regulator") != std::string::npos);
  CHECK(text.out.find("verdict: flagged") != std::string::npos);
  s.refused(Argv{"transfer"} + s.as("broker") +
                Argv{"--to", "distributor", "--ship-to", "SG", "--serial", "GPU-0004"},
            "is flagged by the regulator (no onward shipment: suspected diversion)");

  // The batch: 2 ok, 2 flagged, 2 not installed.
  const std::string csv = s.node.dir() + "/sample.csv";
  std::ofstream(csv) << "serial\nGPU-0001\nGPU-0002\nGPU-0003\nGPU-0004\nGPU-0005\nGPU-0006\n";
  auto batch = s.node.cli({"verify", "--csv", csv, "--trust", s.node.trust_file()});
  INFO(batch.describe());
  CHECK(batch.exit_code == 13);  // the most severe finding across the batch
  CHECK(batch.out.find("verified 6 serials against checkpoint") != std::string::npos);
  CHECK(batch.out.find("flagged                 2       13    GPU-0003 GPU-0004") !=
        std::string::npos);
  CHECK(batch.out.find("not-installed           2       17    GPU-0001 GPU-0002") !=
        std::string::npos);
  CHECK(batch.out.find("ok                      2       0") != std::string::npos);
  CHECK(batch.out.find("exit status 13 (flagged)") != std::string::npos);

  auto js = s.node.cli({"verify", "--csv", csv, "--trust", s.node.trust_file(), "--json"});
  INFO(js.describe());
  CHECK(js.exit_code == 13);
  auto j = json::parse(js.out);
  CHECK(j["total"] == 6);
  CHECK(j["verdict"] == "flagged");
  CHECK(j["counts"] == json{{"ok", 2}, {"flagged", 2}, {"not-installed", 2}});
  REQUIRE(j["results"].size() == 6);
  CHECK(j["results"][2]["serial"] == "GPU-0003");
  CHECK(j["results"][2]["verdict"] == "flagged");
  CHECK(j["results"][4]["verdict"] == "ok");
  CHECK(j["checkpoint"]["signers"] == json::array({"node-maker"}));

  // A serial nobody registered is the most severe of all here (11); an
  // all-ok batch exits 0.
  auto with_unknown =
      s.node.cli({"verify", "GPU-0003", "GPU-0404", "GPU-0005", "--trust", s.node.trust_file()});
  CHECK(with_unknown.exit_code == 11);
  auto all_ok = s.node.cli({"verify", "GPU-0005", "GPU-0006", "--trust", s.node.trust_file()});
  INFO(all_ok.describe());
  CHECK(all_ok.exit_code == 0);
  CHECK(all_ok.out.find("exit status 0 (all ok)") != std::string::npos);
}

}  // namespace
}  // namespace chipledger::integ
