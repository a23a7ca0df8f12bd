// `chipledger export --epcis` through the real CLI and node: a custody
// story (registration, a pack into a server, shipments, a licensed export,
// an install, a flag) exported as GS1 EPCIS 2.0 and validated against GS1's
// published JSON schema (tests/epcis/) with a real JSON Schema validator;
// the events carry the ledger's proof references; a lying node that
// withholds an event gets no export.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/lying_node.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using json = nlohmann::json;

const std::string kSchema = CHIPLEDGER_SOURCE_DIR "/tests/epcis/EPCIS-JSON-Schema.json";
const std::string kValidator = CHIPLEDGER_SOURCE_DIR "/tests/integration/tools/validate_epcis.py";

ProcessResult validate(const std::string& file) {
  return run_process({"/usr/bin/python3", kValidator, file, kSchema}, std::chrono::seconds(120));
}

json read_json(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in);
  return json::parse(in);
}

// The events of `doc` of this EPCIS type and bizStep.
std::vector<json> events(const json& doc, const std::string& type, const std::string& step) {
  std::vector<json> out;
  for (const auto& e : doc["epcisBody"]["eventList"]) {
    if (e["type"] == type && e["bizStep"] == step) out.push_back(e);
  }
  return out;
}

TEST_CASE("epcis: a custody story exports as EPCIS 2.0 that GS1's schema accepts",
          "[integration]") {
  NodeProcess node(kDemoTemplate);
  node.start();
  auto ok = [&](const Argv& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  auto as = [&](const std::string& m) { return Argv{"--as", m, "--key", node.key_file(m)}; };
  const Argv pair = {"--serial", "GPU-0001", "--serial", "GPU-0002"};
  const Argv single = {"--serial", "GPU-0003"};
  ok(Argv{"register"} + as("maker") +
     Argv{"--model", "H100-SXM5", "--eccn", "3A090", "--fab-site", "Fab 18", "--country", "TW"} +
     pair + single);
  // Two chips: packed into a server, shipped, installed.
  ok(Argv{"transfer"} + as("maker") + Argv{"--to", "integrator", "--ship-to", "US"} + pair);
  ok(Argv{"accept"} + as("integrator") + pair);
  ok(Argv{"pack"} + as("integrator") + Argv{"--unit", "SRV-1", "--unit-model", "HGX-H100"} + pair);
  ok(Argv{"transfer"} + as("integrator") +
     Argv{"--to", "datacenter", "--ship-to", "US", "--serial", "SRV-1"});
  ok(Argv{"accept"} + as("datacenter") + Argv{"--serial", "SRV-1"});
  ok(Argv{"install"} + as("datacenter") +
     Argv{"--site", "ashburn-1", "--country", "US", "--serial", "SRV-1"});
  ok(Argv{"unpack"} + as("datacenter") + Argv{"--serial", "SRV-1"});
  // One chip: exported to a restricted destination under a license, then flagged.
  ok(Argv{"transfer"} + as("maker") + Argv{"--to", "distributor", "--ship-to", "SG"} + single);
  ok(Argv{"accept"} + as("distributor") + single);
  ok(Argv{"license"} + as("regulator") +
     Argv{"--id", "EXP 7/2026", "--exporter", "distributor", "--recipient", "cloud-east", "--model",
          "H100-SXM5", "--quantity", "1", "--destination", "AE", "--expires-in-days", "30"});
  ok(Argv{"transfer"} + as("distributor") +
     Argv{"--to", "cloud-east", "--ship-to", "AE", "--license", "EXP 7/2026"} + single);
  ok(Argv{"flag"} + as("regulator") + single + Argv{"--reason", "audit"});

  const std::string file = node.dir() + "/export.json";
  auto exported =
      ok({"export", "--epcis", "GPU-0001", "GPU-0002", "GPU-0003", "SRV-1", "--out", file});
  CHECK(exported.err.find("wrote 4 serials as EPCIS 2.0 to " + file) != std::string::npos);
  auto valid = validate(file);
  INFO(valid.describe());
  REQUIRE(valid.exit_code == 0);
  const json doc = read_json(file);
  const std::string ledger = doc["chipledger:ledger"];
  REQUIRE_FALSE(ledger.empty());
  CHECK(doc["type"] == "EPCISDocument");
  CHECK(doc["schemaVersion"] == "2.0");
  CHECK(doc["chipledger:checkpoint"]["size"] == node.log_size());
  auto epc = [&](const std::string& serial) {
    std::string enc;
    for (char c : ledger) enc += c == '/' ? std::string("%2F") : std::string(1, c);
    return "urn:chipledger:serial:" + enc + ":" + serial;
  };

  // One registration naming the three chips.
  auto commissioning = events(doc, "ObjectEvent", "commissioning");
  REQUIRE(commissioning.size() == 1);
  CHECK(commissioning[0]["action"] == "ADD");
  CHECK(commissioning[0]["epcList"] ==
        json::array({epc("GPU-0001"), epc("GPU-0002"), epc("GPU-0003")}));
  auto packing = events(doc, "AggregationEvent", "packing");
  REQUIRE(packing.size() == 1);
  CHECK(packing[0]["parentID"] == epc("SRV-1"));
  CHECK(packing[0]["childEPCs"] == json::array({epc("GPU-0001"), epc("GPU-0002")}));
  auto unpacking = events(doc, "AggregationEvent", "unpacking");
  REQUIRE(unpacking.size() == 1);
  CHECK(unpacking[0]["action"] == "DELETE");
  CHECK(unpacking[0]["parentID"] == epc("SRV-1"));
  CHECK(unpacking[0]["childEPCs"] == json::array({epc("GPU-0001"), epc("GPU-0002")}));
  auto installing = events(doc, "ObjectEvent", "installing");
  REQUIRE(installing.size() == 1);
  CHECK(installing[0]["bizLocation"]["id"].get<std::string>().find(":ashburn-1") !=
        std::string::npos);
  auto licensed = events(doc, "TransactionEvent", "shipping");
  REQUIRE(licensed.size() == 1);
  CHECK(licensed[0]["bizTransactionList"][0]["bizTransaction"].get<std::string>().find(
            ":EXP%207%2F2026") != std::string::npos);
  CHECK(licensed[0]["destinationList"][1]["destination"] == "urn:chipledger:country:AE");
  CHECK(events(doc, "ObjectEvent", "shipping").size() == 3);  // unlicensed: 2 chips, 1, the unit
  CHECK(events(doc, "ObjectEvent", "receiving").size() == 3);
  CHECK(events(doc, "ObjectEvent", "holding").size() == 1);

  // Every event is a ledger transaction a verify of its serial shows, at
  // the same index.
  std::map<std::string, uint64_t> chain_index;  // txid -> index
  for (const std::string serial : {"GPU-0001", "GPU-0003", "SRV-1"}) {
    auto v = node.cli({"verify", serial, "--json"});
    INFO(v.describe());
    REQUIRE(v.out.find("\"chain\"") != std::string::npos);
    const json report = json::parse(v.out);
    for (const auto& row : report["chain"]) {
      chain_index[row["txid"].get<std::string>()] = row["index"].get<uint64_t>();
    }
  }
  for (const auto& e : doc["epcisBody"]["eventList"]) {
    const std::string txid = e["chipledger:txid"];
    INFO(e.dump());
    CHECK(e["eventID"] == "urn:chipledger:tx:" + txid);
    REQUIRE(chain_index.count(txid) == 1);
    CHECK(e["chipledger:logIndex"] == chain_index[txid]);
  }
  CHECK(doc["epcisBody"]["eventList"].size() == 12);  // all but the license's own event

  // --since: only what was signed since; a future time leaves a valid, empty list.
  const std::string later = node.dir() + "/later.json";
  ok({"export", "--epcis", "GPU-0003", "--since", "2099-01-01", "--out", later});
  REQUIRE(validate(later).exit_code == 0);
  CHECK(read_json(later)["epcisBody"]["eventList"].empty());
  auto bad_since = node.cli({"export", "--epcis", "GPU-0003", "--since", "yesterday"});
  CHECK(bad_since.exit_code == 1);
  CHECK(bad_since.err.find("--since: 'yesterday' is not a UTC time") != std::string::npos);

  // The validator itself refuses what breaks the schema.
  json broken = doc;
  broken["epcisBody"]["eventList"][0]["bizStep"] = "teleporting";
  broken["epcisBody"]["eventList"][1].erase("eventTime");
  const std::string broken_file = node.dir() + "/broken.json";
  std::ofstream(broken_file) << broken.dump();
  auto refused = validate(broken_file);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("bizStep") != std::string::npos);
  CHECK(refused.err.find("'eventTime' is a required property") != std::string::npos);
}

TEST_CASE("epcis: a node that withholds an event gets no export", "[integration][lying]") {
  lying::LyingNode t;
  t.register_and_flag();
  t.proxy->after([](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
    if (!lying::path_is(req, "/v1/histories") || reply.status != 200) return std::nullopt;
    auto j = json::parse(reply.body);
    auto& list = j["histories"]["GPU-0001"];
    if (list.is_array() && !list.empty()) list.erase(list.end() - 1);  // the flag
    return json_response(200, j.dump());
  });
  const std::string file = t.node.dir() + "/export.json";
  auto r = t.cli({"export", "--epcis", "GPU-0001", "GPU-0002", "--out", file});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == lying::kProofFailure);
  CHECK(r.err.find("serial GPU-0001: proof-failure: ") != std::string::npos);
  CHECK(r.err.find("(nothing exported)") != std::string::npos);
  CHECK_FALSE(std::ifstream(file).good());
}

}  // namespace
}  // namespace chipledger::integ
