// Every verdict of docs/verdicts.md produced from real evidence: a Ledger
// over MemoryStore applies each custody event as the node would (one block
// each, the ledger's rules deciding), the history JSON is built as the API
// builds it, the checkpoint is signed by the node key, and verify_custody
// judges it at a chosen clock (`now`). One test per finding, plus `ok` for
// a chip attested through its server and for a licensed export.
#include <catch2/catch.hpp>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/client/evidence.h"
#include "tests/client/story.h"
#include "verify/custody_verifier.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;

// A copy of `c` with another policy: the trust file a stricter verifier holds.
Consortium with_policy(const Consortium& c, const json& policy) {
  json j = json::parse(c.to_json());
  j["policy"] = policy;
  return must(Consortium::from_json(j.dump()));
}

// The report names exactly these findings, most severe first; its verdict
// and exit code are the first one's, in words and in JSON.
void require_findings(const VerifyReport& r, const std::vector<std::string>& expected,
                      int exit_code) {
  INFO(describe(r));
  REQUIRE(finding_names(r) == expected);
  REQUIRE(r.exit_code() == exit_code);
  json j = r.to_json();
  REQUIRE(j["verdict"] == (expected.empty() ? "ok" : expected.front()));
  REQUIRE(j["exit_code"] == exit_code);
  REQUIRE(j["findings"].size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(j["findings"][i]["finding"] == expected[i]);
    REQUIRE(j["findings"][i]["reason"].get<std::string>().size() > 0);
    REQUIRE(j["findings"][i]["meaning"] == std::string(finding_meaning(r.findings[i].first)));
  }
}

TEST_CASE("findings: names, exit codes and plain words as documented", "[verifier][verdict]") {
  const std::vector<std::pair<std::string, int>> documented = {
      {"proof-failure", 10},     {"split-view", 22},        {"stale-checkpoint", 21},
      {"revoked-key", 23},       {"not-registered", 11},    {"flagged", 13},
      {"reported", 14},          {"unlicensed-export", 16}, {"restricted-destination", 15},
      {"location-mismatch", 25}, {"decommissioned", 20},    {"in-transit", 12},
      {"not-installed", 17},     {"never-attested", 19},    {"stale-attestation", 18},
      {"location-unproven", 24}};
  REQUIRE(std::size(kAllFindings) == documented.size());
  for (size_t i = 0; i < documented.size(); ++i) {
    Finding f = kAllFindings[i];
    CHECK(finding_name(f) == documented[i].first);
    CHECK(finding_exit_code(f) == documented[i].second);
    CHECK_FALSE(finding_meaning(f).empty());
    if (i > 0) CHECK(kAllFindings[i - 1] < f);  // listed most severe first
  }
}

TEST_CASE("ok: registered, handed over with both signatures, installed, freshly attested",
          "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  uint64_t attested = s.t - kSecond;
  VerifyReport r = s.verify("GPU-1", attested + kHour);
  require_findings(r, {}, 0);
  CHECK(r.verdict() == "ok");
  CHECK(r.holder == "op");
  CHECK(r.location == "US");
  CHECK(r.site == "site-1");
  CHECK(r.last_attest_ms == attested);
  REQUIRE(r.chain.size() == 7);
  CHECK_THAT(r.chain[6].event, Catch::Contains("chip attests at site-1"));
}

TEST_CASE("ok: chips packed into a server, the server shipped, installed and attested",
          "[verifier][verdict][unit]") {
  Story s;
  std::vector<std::string> chips = {"GPU-1", "GPU-2", "GPU-3", "GPU-4"};
  s.register_chips(chips);
  for (const auto& c : chips) s.hand_over("maker", c, "dist", "NL");
  Transaction pack = s.tx("dist", TxType::pack);
  pack.unit = "SRV-1";
  pack.model = "HGX-4GPU";
  for (const auto& c : chips) pack.refs.push_back({c, s.last(c)});
  s.ok(pack);
  s.hand_over("dist", "SRV-1", "op", "US");
  s.install("SRV-1");
  s.attest("SRV-1");
  uint64_t now = s.t + kHour;

  for (const auto& c : chips) {
    VerifyReport r = s.verify(c, now);
    require_findings(r, {}, 0);
    CHECK(r.unit == "SRV-1");
    CHECK(r.holder == "op");
    CHECK(r.site == "site-1");
  }
  VerifyReport chip = s.verify("GPU-2", now);
  REQUIRE(chip.chain.size() == 8);  // register, transfer, accept, pack, then 4 via the unit
  CHECK(chip.chain[3].event == "pack into SRV-1");
  CHECK(chip.chain[4].event.rfind("via SRV-1: transfer -> op", 0) == 0);
  CHECK(chip.chain[7].event.rfind("via SRV-1: chip attests at site-1", 0) == 0);

  // The server itself verifies too: declared by its packer, attested by its chips.
  VerifyReport unit = s.verify("SRV-1", now);
  require_findings(unit, {}, 0);
  CHECK(unit.children == chips);
  CHECK(unit.model == "HGX-4GPU");

  // Unpacked, a chip is on its own again: still installed and attested.
  s.ok(s.on("op", TxType::unpack, "SRV-1"));
  VerifyReport loose = s.verify("GPU-1", now);
  require_findings(loose, {}, 0);
  CHECK(loose.unit.empty());
  CHECK(s.verify("SRV-1", now).children.empty());
}

TEST_CASE("ok: a licensed export to a restricted destination", "[verifier][verdict][license]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.hand_over("maker", "GPU-1", "dist", "NL");
  // Without a license the ledger refuses the shipment to AE, with the reason.
  s.refused(s.transfer("dist", "GPU-1", "op", "AE"),
            "to AE, a restricted destination, needs an export license; none was named");
  s.license("LIC-AE-1", 1);
  s.ok(s.transfer("dist", "GPU-1", "op", "AE", "LIC-AE-1"));

  // In transit under the license: not installed yet, but not a restricted-destination.
  VerifyReport transit = s.verify("GPU-1", s.t + kHour);
  require_findings(transit, {"not-installed"}, 17);
  CHECK(transit.status == "in-transit");

  s.ok(s.on("op", TxType::accept, "GPU-1"));
  s.install("GPU-1", "AE");
  s.attest("GPU-1");
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  require_findings(r, {}, 0);
  CHECK(r.location == "AE");
  CHECK(r.licenses == std::vector<std::string>{"LIC-AE-1"});
  bool license_in_chain = false;
  for (const auto& row : r.chain) license_in_chain |= row.event.rfind("license LIC-AE-1", 0) == 0;
  CHECK(license_in_chain);

  // The license is used up: a second chip cannot go under it.
  s.register_chips({"GPU-2"});
  s.hand_over("maker", "GPU-2", "dist", "NL");
  s.refused(s.transfer("dist", "GPU-2", "op", "AE", "LIC-AE-1"),
            "license LIC-AE-1 has 0 chip(s) left; the transfer needs 1");
}

TEST_CASE("a license's expiry is judged on the transfer's signed time by ledger and verifier alike",
          "[verifier][verdict][license][time]") {
  // Once the ledger judged expiry on its block's time and the verifier on
  // the signed time, so a shipment signed after the expiry but in an
  // earlier block was accepted and then reported unlicensed-export. Both now
  // run the one engine on the signed time, which the inclusion proof covers.
  Story s;
  s.register_chips({"GPU-1", "GPU-2"});
  s.hand_over("maker", "GPU-1", "dist", "NL");
  s.hand_over("maker", "GPU-2", "dist", "NL");
  Transaction lic = s.tx("reg", TxType::license);
  lic.license = {"LIC-AE-1", "dist", "op", "H100", "", 2, "AE", s.t + 60 * kSecond};
  s.ok(lic);
  const uint64_t expiry = s.t - kSecond + 60 * kSecond;

  // Signed a second before the expiry, in a block four minutes after it.
  Transaction in_time = s.transfer("dist", "GPU-1", "op", "AE", "LIC-AE-1");
  in_time.time_ms = expiry - kSecond;
  auto out = must(
      s.ledger->apply_block({PendingTx{sign(*s.tc, in_time), false}}, expiry + 4 * 60 * kSecond));
  REQUIRE(out[0].accepted);
  CHECK(s.record("GPU-1").transit_since_ms == expiry - kSecond);
  s.t = expiry + 5 * 60 * kSecond;
  s.ok(s.on("op", TxType::accept, "GPU-1"));
  s.install("GPU-1", "AE");
  s.attest("GPU-1");
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  require_findings(r, {}, 0);
  CHECK(r.licenses == std::vector<std::string>{"LIC-AE-1"});

  // Signed a second after the expiry, in a block before it: refused.
  Transaction late = s.transfer("dist", "GPU-2", "op", "AE", "LIC-AE-1");
  late.time_ms = expiry + kSecond;
  out = must(s.ledger->apply_block({PendingTx{sign(*s.tc, late), false}}, expiry - 60 * kSecond));
  REQUIRE_FALSE(out[0].accepted);
  CHECK_THAT(out[0].reason, Catch::Contains("license LIC-AE-1 has expired"));
}

TEST_CASE("not-registered (11): the node has no event for the serial", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  REQUIRE_FALSE(history_json(*s.ledger, "GPU-404", s.ledger->size())->contains("events"));
  VerifyReport r = s.verify("GPU-404", s.t);
  require_findings(r, {"not-registered"}, 11);
  CHECK(r.chain.empty());
}

TEST_CASE("in-transit (12): shipped and not accepted for longer than max_transit_hours",
          "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.ok(s.transfer("maker", "GPU-1", "dist", "NL"));
  uint64_t shipped = s.t - kSecond;
  // Within the 336 h: only its duration is reported (and it is not installed).
  VerifyReport early = s.verify("GPU-1", shipped + 300 * kHour);
  require_findings(early, {"not-installed"}, 17);
  CHECK(early.in_transit_for_ms == 300 * kHour);
  VerifyReport late = s.verify("GPU-1", shipped + 337 * kHour);
  require_findings(late, {"in-transit", "not-installed"}, 12);
  CHECK(late.in_transit_for_ms == 337 * kHour);
  CHECK_THAT(late.findings[0].second,
             Catch::Contains("in transit from maker to dist for 337 h, over the policy's 336 h"));
}

TEST_CASE("flagged (13): the regulator flagged it, it cannot move", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  Transaction flag = s.on("reg", TxType::flag, "GPU-1");
  flag.reason = "suspected diversion";
  s.ok(flag);
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  require_findings(r, {"flagged"}, 13);
  CHECK_THAT(r.findings[0].second, Catch::Contains("suspected diversion"));
  s.refused(s.transfer("op", "GPU-1", "dist", "NL"), "is flagged by the regulator");

  // Cleared by the regulator: ok again.
  Transaction clear = s.on("reg", TxType::clear, "GPU-1");
  clear.reason = "inspected on site";
  s.ok(clear);
  require_findings(s.verify("GPU-1", s.t + kHour), {}, 0);
}

TEST_CASE("flagged (13): a flag on a server flags every chip packed in it",
          "[verifier][verdict][unit]") {
  Story s;
  s.register_chips({"GPU-1", "GPU-2"});
  Transaction pack = s.tx("maker", TxType::pack);
  pack.unit = "SRV-1";
  pack.model = "HGX-2GPU";
  pack.refs = {{"GPU-1", s.last("GPU-1")}, {"GPU-2", s.last("GPU-2")}};
  s.ok(pack);
  Transaction flag = s.on("reg", TxType::flag, "SRV-1");
  flag.reason = "tampered seal";
  s.ok(flag);
  CHECK(s.record("GPU-2").flagged);
  VerifyReport r = s.verify("GPU-2", s.t);
  require_findings(r, {"flagged", "not-installed"}, 13);
  CHECK(r.chain.back().event == "via SRV-1: flag: tampered seal");
}

TEST_CASE("reported (14): a member reported it stolen, open until cleared", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  Transaction report = s.on("dist", TxType::report, "GPU-1");
  report.kind = "stolen";
  report.reason = "seen for sale on a marketplace";
  s.ok(report);
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  require_findings(r, {"reported"}, 14);
  CHECK_THAT(r.findings[0].second, Catch::Contains("1 open report(s), latest: stolen"));
}

TEST_CASE("restricted-destination (15): installed in a restricted country without a license",
          "[verifier][verdict][license]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.hand_over("maker", "GPU-1", "op", "US");
  // The operator records the install at a site in AE: no shipment named AE,
  // so no license was ever asked for, but the controlled chip is there.
  s.install("GPU-1", "AE");
  s.attest("GPU-1");
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  require_findings(r, {"restricted-destination", "not-installed"}, 15);
  CHECK_THAT(r.findings[0].second, Catch::Contains("located in AE without a license"));
  CHECK_THAT(r.findings[1].second, Catch::Contains("installed in AE, not a permitted country"));
}

TEST_CASE("restricted-destination applies to controlled chips only", "[verifier][verdict]") {
  Story s;
  s.register_chips({"L4-1"}, "L4");  // not a controlled model or ECCN
  s.hand_over("maker", "L4-1", "op", "AE");
  s.install("L4-1", "AE");
  s.attest("L4-1");
  require_findings(s.verify("L4-1", s.t + kHour), {}, 0);
}

TEST_CASE("unlicensed-export (16): a verifier's stricter policy finds an unlicensed shipment",
          "[verifier][verdict][license]") {
  // The ledger's consortium restricts nothing, so it accepted the shipment
  // to AE; an agency verifying with a trust file that restricts AE finds it.
  Policy lax;
  lax.controlled_models = {"H100"};
  Story s(lax);
  s.register_chips({"GPU-1"});
  s.hand_over("maker", "GPU-1", "dist", "NL");
  s.hand_over("dist", "GPU-1", "op", "AE");
  s.install("GPU-1", "AE");
  s.attest("GPU-1");
  uint64_t now = s.t + kHour;
  require_findings(s.verify("GPU-1", now), {}, 0);  // by the ledger's own policy

  Consortium strict = with_policy(
      s.tc->consortium, json{{"controlled_models", {"H100"}}, {"restricted_destinations", {"AE"}}});
  VerifyReport r = s.verify("GPU-1", now, &strict);
  require_findings(r, {"unlicensed-export", "restricted-destination", "not-installed"}, 16);
  CHECK_THAT(r.findings[0].second,
             Catch::Contains("shipped by dist to op in AE without a license"));
}

TEST_CASE("not-installed (17): held by a distributor", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.hand_over("maker", "GPU-1", "dist", "NL");
  VerifyReport r = s.verify("GPU-1", s.t);
  require_findings(r, {"not-installed"}, 17);
  CHECK_THAT(r.findings[0].second, Catch::Contains("held by dist, not installed"));
}

TEST_CASE("never-attested (19): installed, but the chip never signed", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.hand_over("maker", "GPU-1", "op", "US");
  s.install("GPU-1");
  VerifyReport r = s.verify("GPU-1", s.t);
  require_findings(r, {"never-attested"}, 19);
  CHECK(r.last_attest_ms == 0);
}

TEST_CASE("stale-attestation (18): the latest attestation is older than the policy allows",
          "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  uint64_t attested = s.t - kSecond;
  require_findings(s.verify("GPU-1", attested + 167 * kHour), {}, 0);
  VerifyReport r = s.verify("GPU-1", attested + 169 * kHour);
  require_findings(r, {"stale-attestation"}, 18);
  CHECK_THAT(r.findings[0].second, Catch::Contains("169 h old, over the policy's 168 h"));

  // A fresh attestation (over a fresh checkpoint: any new block) makes it ok again.
  s.t = attested + 169 * kHour;
  s.register_chips({"GPU-2"});
  s.attest("GPU-1");
  require_findings(s.verify("GPU-1", s.t + kHour), {}, 0);
}

TEST_CASE("decommissioned (20): destroyed, nothing may follow", "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  Transaction d = s.on("op", TxType::decommission, "GPU-1");
  d.kind = "destroyed";
  d.reason = "end of life, shredded";
  s.ok(d);
  VerifyReport r = s.verify("GPU-1", s.t);
  require_findings(r, {"decommissioned"}, 20);
  CHECK(r.status == "decommissioned");
  CHECK_THAT(r.chain.back().event, Catch::Contains("decommission (destroyed)"));
  s.refused(s.transfer("op", "GPU-1", "dist", "NL"), "was decommissioned; nothing may follow");
}

TEST_CASE("proof-failure (10): evidence that does not check against the trust file",
          "[verifier][verdict]") {
  Story s;
  s.register_chips({"GPU-1"});
  s.deliver_installed_attested("GPU-1");
  uint64_t now = s.t + kHour;

  SECTION("the trust file of another consortium (other node keys)") {
    auto other = make_consortium("verdict-ledger", 1, 1, export_policy());
    VerifyReport r = s.verify("GPU-1", now, &other->consortium);
    REQUIRE(r.findings.size() == 1);
    require_findings(r, {"proof-failure"}, 10);
  }
  SECTION("an event (the install) dropped from the history") {
    uint64_t size = s.ledger->size();
    Checkpoint cp = checkpoint_of(*s.ledger, size);
    json h = *history_json(*s.ledger, "GPU-1", size);
    json events = h["events"];
    events.erase(events.size() - 2);  // the install: the attestation's prev no longer links
    h["events"] = events;
    VerifyReport r = verify_custody(
        s.tc->consortium, "GPU-1", note_for(cp, {{s.tc->node_id(), &s.tc->node_key()}}, now / 1000),
        history_evidence("GPU-1", h), now);
    require_findings(r, {"proof-failure"}, 10);
    CHECK_THAT(r.findings[0].second, Catch::Contains("prev chain"));
  }
}

}  // namespace
}  // namespace chipledger
