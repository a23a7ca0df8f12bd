// Location rounds end to end (docs/location.md, sections 5 and 6): a real
// chipledger-landmark process, a real node whose trust file lists the
// landmark, and the real CLI's `locate` playing the chips with their device
// keys. A chip that answers at once on loopback is bounded near the
// landmark, and verify proves it near its site; one that answers 30 ms
// later cannot be placed within 1,000 km, and verify says
// location-unproven; a landmark the trust file does not list is refused.
#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/location.h"
#include "tests/integration/child_process.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using json = nlohmann::json;
constexpr const char* kLandmarkBin = CHIPLEDGER_LANDMARK_BIN;

// A chipledger-landmark process with its own key, listening on a free port.
struct LandmarkProcess {
  std::string id;
  std::string dir;
  std::string public_pem;
  std::string url;
  ChildProcess child;

  LandmarkProcess(std::string landmark_id, const std::string& folder)
      : id(std::move(landmark_id)), dir(folder) {
    auto keygen = run_process({kLandmarkBin, "keygen", "--out", dir + "/" + id + ".pem"});
    if (keygen.exit_code != 0) throw std::runtime_error(keygen.describe());
    auto at = keygen.out.find("-----BEGIN PUBLIC KEY-----");
    if (at == std::string::npos) throw std::runtime_error("no public key in: " + keygen.out);
    public_pem = keygen.out.substr(at);
    write_text_file(dir + "/" + id + ".toml",
                    "id = \"" + id + "\"\nkey = \"" + id + ".pem\"\nlisten = \"127.0.0.1:0\"\n");
  }
  void start() {
    child.spawn({kLandmarkBin, "--config", dir + "/" + id + ".toml"});
    auto line = child.wait_for_line("listening on ", std::chrono::steady_clock::now() + 30s);
    if (!line) throw std::runtime_error("the landmark did not start:\n" + child.output());
    url = line->substr(std::string("listening on ").size());
  }
  ~LandmarkProcess() {
    child.signal(SIGTERM);
    child.wait_exit(10s);
  }
};

// The demo consortium with landmark `lm` in Ashburn and the install site
// iad-7 beside it, written into the node's trust file before it starts.
void add_location(NodeProcess& node, const LandmarkProcess& lm) {
  json trust = json::parse(read_text_file(node.trust_file()));
  trust["landmarks"] = {{{"id", lm.id},
                         {"member", "regulator"},
                         {"key", lm.public_pem},
                         {"latitude", 39.0438},
                         {"longitude", -77.4874},
                         {"country", "US"}}};
  trust["sites"] = {{{"id", "iad-7"},
                     {"member", "datacenter"},
                     {"latitude", 39.0469},
                     {"longitude", -77.4903},
                     {"country", "US"}}};
  // A sanitizer build answers slower (the signing, not the light): the
  // allowed distance scales with it, and so does the test's delay.
  trust["location"] = {{"max_location_km", 500 * kSanitizerSlowdown}};
  write_text_file(node.trust_file(), trust.dump(2));
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("landmark: a chip on loopback is bounded near the landmark, a delayed one is not",
          "[integration][location]") {
  NodeProcess node(kDemoTemplate);
  LandmarkProcess lm("lm-ashburn", node.dir());
  LandmarkProcess stranger("lm-elsewhere", node.dir());
  add_location(node, lm);
  node.start();
  lm.start();
  const std::string chips = node.dir() + "/chips";
  auto ok = [&](const Argv& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  ok(Argv{"devkeys", "--count", "2", "--prefix", "LX-", "--digits", "4", "--out", chips});
  ok(Argv{"register", "--as", "maker", "--key", node.key_file("maker"), "--csv",
          chips + "/devices.csv", "--model", "L4", "--fab-site", "Fab 18", "--country", "TW"});
  auto device_key = [&](const std::string& serial) {
    return PrivateKey::load_file(chips + "/" + serial + ".pem")->public_key();
  };
  const PublicKey landmark_key = *PublicKey::from_pem(lm.public_pem);

  SECTION("on loopback") {
    auto r = ok(Argv{"locate", "--serial", "LX-0001", "--serial", "LX-0002", "--landmark", lm.url,
                     "--chip-keys", chips, "--rounds", "5", "--out", node.dir() + "/near.jsonl"});
    CHECK_THAT(r.out, Catch::Contains("within"));
    auto lines = json_lines(read_text_file(node.dir() + "/near.jsonl"));
    REQUIRE(lines.size() == 2);
    for (const auto& line : lines) {
      INFO(line.dump());
      // A loopback round takes a fraction of a millisecond on a quiet host
      // (0.3 ms: 30 km); the best of 5 stays within 2 ms (200 km) on a
      // loaded one. ASan slows the signing, not the light.
      CHECK(line["rounds"] == 5);
      CHECK(line["bound_km"].get<uint64_t>() < 200u * kSanitizerSlowdown);
      auto s = LocationStatement::decode(*hex_decode(line["statement"].get<std::string>()));
      REQUIRE(s);
      CHECK(s->round_trip_us == line["round_trip_us"].get<uint64_t>());
      CHECK(s->ledger_id == node.ledger_id());
      CHECK(verify_statement_signatures(*s, landmark_key, device_key(s->serial)));
      CHECK_FALSE(verify_statement_signatures(
          *s, landmark_key, device_key(s->serial == "LX-0001" ? "LX-0002" : "LX-0001")));
    }
    CHECK(lines[0]["statement"] != lines[1]["statement"]);  // a fresh nonce each
  }
  SECTION("30 ms away") {
    auto r = ok(Argv{"locate", "--serial", "LX-0001", "--landmark", lm.url, "--chip-keys", chips,
                     "--chip-delay-ms", "30", "--json"});
    auto lines = json_lines(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["round_trip_us"].get<uint64_t>() >= 30000u);
    CHECK(lines[0]["bound_km"].get<uint64_t>() >= 3000u);  // never within 1,000 km
  }
  SECTION("recorded by the holder, shown by verify") {
    const Argv dc{"--as", "datacenter", "--key", node.key_file("datacenter")};
    const Argv serial{"--serial", "LX-0001"};
    // Only an installed chip is located: refused before, nothing recorded.
    auto early = node.cli(Argv{"locate", "--landmark", lm.url, "--chip-keys", chips} + serial +
                          Argv{"--as", "maker", "--key", node.key_file("maker")});
    INFO(early.describe());
    CHECK(early.exit_code == 2);
    CHECK_THAT(early.err, Catch::Contains("is not installed"));
    ok(Argv{"transfer", "--as", "maker", "--key", node.key_file("maker"), "--to", "datacenter",
            "--ship-to", "US"} +
       serial);
    ok(Argv{"accept"} + dc + serial);
    ok(Argv{"install", "--site", "iad-7", "--country", "US"} + dc + serial);
    ok(Argv{"attest", "--site", "iad-7", "--chip-keys", chips} + dc + serial);
    auto verify = [&] {
      auto v = node.cli(Argv{"verify", "LX-0001"});
      auto j = node.cli(Argv{"verify", "--json", "LX-0001"});
      INFO(v.describe() << j.describe());
      REQUIRE(j.exit_code == v.exit_code);
      return std::make_pair(v, json::parse(j.out));
    };
    // Installed and attested, never located: its site is the operator's word.
    auto [unlocated, unlocated_json] = verify();
    CHECK(unlocated.exit_code == 24);
    CHECK_THAT(unlocated.out, Catch::Contains("finding location-unproven (exit 24): no "
                                              "landmark's statement since its install"));

    // Answering 30 ms late (scaled with the sanitizer's slowdown, as the
    // trust file's max_location_km is): no bound near the site.
    const std::string delay = std::to_string(30 * kSanitizerSlowdown);
    auto far =
        ok(Argv{"locate", "--landmark", lm.url, "--chip-keys", chips, "--chip-delay-ms", delay} +
           serial + dc);
    CHECK_THAT(far.out, Catch::Contains("locate accepted at log index"));
    auto [delayed, delayed_json] = verify();
    CHECK(delayed.exit_code == 24);
    CHECK(delayed_json["verdict"] == "location-unproven");
    REQUIRE(delayed_json["location_proof"]["statements"].size() == 1);
    const json& slow = delayed_json["location_proof"]["statements"][0];
    CHECK(slow["bound_km"].get<uint64_t>() >= 3000u * kSanitizerSlowdown);
    CHECK(slow["kind"] == "inconclusive");
    CHECK(slow["distance_km"].get<double>() < 1.0);  // iad-7 is 0.4 km from the landmark

    // On loopback: proven near iad-7, the verdict is ok and says by what.
    ok(Argv{"locate", "--landmark", lm.url, "--chip-keys", chips, "--rounds", "5"} + serial + dc);
    auto [near, near_json] = verify();
    CHECK(near.exit_code == 0);
    CHECK(near_json["location_proof"]["verdict"] == "proven");
    CHECK_THAT(near.out, Catch::Contains("km of its site by lm-ashburn"));
    CHECK_THAT(near.out, Catch::Contains("location: proven"));
    REQUIRE(near_json["chain"].size() == 7);
    for (size_t row : {5, 6}) {
      CHECK_THAT(near_json["chain"][row]["event"].get<std::string>(),
                 Catch::StartsWith("located by lm-ashburn (round trip ") &&
                     Catch::Contains("km from the site)"));
      CHECK(near_json["chain"][row]["member"] == "datacenter");
    }
  }
  SECTION("in chunks: each its own checkpoint and locate transaction") {
    // Rounds only, then recorded: 2 chips, 1 per chunk (the second chunk
    // fetches a new checkpoint and judges the landmark by it again).
    auto shown = ok(Argv{"locate", "--csv", chips + "/devices.csv", "--landmark", lm.url,
                         "--chip-keys", chips, "--rounds", "1", "--chips-per-tx", "1", "--json"});
    auto lines = json_lines(shown.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["landmark"] == "lm-ashburn");
    CHECK(lines[1]["landmark"] == "lm-ashburn");
    CHECK(lines[0]["serial"] == "LX-0001");
    CHECK(lines[1]["serial"] == "LX-0002");
    const Argv dc{"--as", "datacenter", "--key", node.key_file("datacenter")};
    const Argv both{"--csv", chips + "/devices.csv"};
    ok(Argv{"transfer", "--as", "maker", "--key", node.key_file("maker"), "--to", "datacenter",
            "--ship-to", "US"} +
       both);
    ok(Argv{"accept"} + dc + both);
    ok(Argv{"install", "--site", "iad-7", "--country", "US"} + dc + both);
    auto recorded = ok(Argv{"locate", "--landmark", lm.url, "--chip-keys", chips, "--rounds", "1",
                            "--chips-per-tx", "1"} +
                       both + dc);
    size_t txs = 0;
    for (size_t at = 0;
         (at = recorded.out.find("locate accepted at log index", at)) != std::string::npos; ++at) {
      ++txs;
    }
    CHECK(txs == 2);
    auto bad = node.cli(Argv{"locate", "--serial", "LX-0001", "--landmark", lm.url, "--chip-keys",
                             chips, "--chips-per-tx", "0"});
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Catch::Contains("--chips-per-tx must be 1 to 1000"));
  }
  SECTION("a landmark the trust file does not list") {
    stranger.start();
    auto r = node.cli(
        Argv{"locate", "--serial", "LX-0001", "--landmark", stranger.url, "--chip-keys", chips});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err,
               Catch::Contains("is landmark 'lm-elsewhere', which the trust file does not list"));
  }
}

}  // namespace chipledger::integ
