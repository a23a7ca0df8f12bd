#include "client/epcis_export.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace chipledger {
namespace {

ChainRow row(uint64_t index, std::string type, uint64_t time_ms) {
  ChainRow r;
  r.index = index;
  r.type = std::move(type);
  r.txid = std::string(64, static_cast<char>('a' + index % 6));
  r.member = "maker";
  r.country = "TW";
  r.time_ms = time_ms;
  return r;
}

EpcisExportOptions options() {
  EpcisExportOptions o;
  o.ledger_id = "example.org/ledger 1";
  o.checkpoint_size = 9;
  o.checkpoint_root_hex = std::string(64, '0');
  o.created_ms = 1'796'000'000'000;
  return o;
}

TEST_CASE("epcis export: one event per transaction, in log order, naming its serials", "[epcis]") {
  VerifyReport a, b;
  a.serial = "GPU-1";
  b.serial = "GPU-2";
  ChainRow reg = row(0, "register", 1'796'000'000'123);
  reg.site = "fab 18";
  ChainRow ship = row(2, "transfer", 1'796'000'100'000);
  ship.from = "maker";
  ship.to = "distributor";
  ship.ship_to = "SG";
  ChainRow lic = row(1, "license", 1'796'000'050'000);
  a.chain = {reg, lic, ship};
  b.chain = {reg};
  auto doc = epcis_document({a, b}, options());
  const auto& list = doc["epcisBody"]["eventList"];
  REQUIRE(list.size() == 2);  // the license is no custody event
  CHECK(list[0]["chipledger:logIndex"] == 0);
  CHECK(list[0]["epcList"].size() == 2);
  CHECK(list[0]["epcList"][0] == "urn:chipledger:serial:example.org%2Fledger%201:GPU-1");
  CHECK(list[0]["eventTime"] == "2026-11-30T00:53:20.123Z");
  CHECK(list[0]["readPoint"]["id"] == "urn:chipledger:site:example.org%2Fledger%201:fab%2018");
  CHECK(list[1]["type"] == "ObjectEvent");
  CHECK(list[1]["bizStep"] == "shipping");
  CHECK(list[1]["epcList"].size() == 1);
  CHECK(list[1]["destinationList"][1]["destination"] == "urn:chipledger:country:SG");
  CHECK(doc["chipledger:checkpoint"]["size"] == 9);

  ship.license = "L-1";
  a.chain = {reg, ship};
  auto licensed = epcis_document({a}, options());
  CHECK(licensed["epcisBody"]["eventList"][1]["type"] == "TransactionEvent");
  CHECK(licensed["epcisBody"]["eventList"][1]["action"] == "ADD");

  auto o = options();
  o.since_ms = 1'796'000'000'124;
  auto since = epcis_document({a, b}, o);
  REQUIRE(since["epcisBody"]["eventList"].size() == 1);
  CHECK(since["epcisBody"]["eventList"][0]["chipledger:logIndex"] == 2);
}

TEST_CASE("epcis export: a pack is an aggregation of the chips under the unit", "[epcis]") {
  VerifyReport chip, unit;
  chip.serial = "GPU-1";
  unit.serial = "SRV-1";
  ChainRow pack = row(5, "pack", 1'796'000'000'000);
  pack.unit = "SRV-1";
  chip.chain = {pack};
  unit.chain = {pack};
  auto doc = epcis_document({chip, unit}, options());
  const auto& e = doc["epcisBody"]["eventList"][0];
  CHECK(e["type"] == "AggregationEvent");
  CHECK(e["parentID"] == "urn:chipledger:serial:example.org%2Fledger%201:SRV-1");
  CHECK(e["childEPCs"] ==
        nlohmann::ordered_json::array({"urn:chipledger:serial:example.org%2Fledger%201:GPU-1"}));
  CHECK_FALSE(e.contains("epcList"));

  // An unpack, exported for the unit alone or with its chip.
  ChainRow unpack = row(6, "unpack", 1'796'000'001'000);
  unpack.unit = "SRV-1";
  chip.chain = {unpack};
  unit.chain = {unpack};
  for (const auto& reports : {std::vector<VerifyReport>{unit}, {chip, unit}, {unit, chip}}) {
    auto out = epcis_document(reports, options());
    const auto& u = out["epcisBody"]["eventList"][0];
    CHECK(u["action"] == "DELETE");
    CHECK(u["parentID"] == "urn:chipledger:serial:example.org%2Fledger%201:SRV-1");
    for (const auto& c : u["childEPCs"]) CHECK(c != u["parentID"]);
  }
}

}  // namespace
}  // namespace chipledger
