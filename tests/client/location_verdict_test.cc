// The location verdicts of docs/location.md, section 8, from real evidence:
// a Story ledger whose trust file lists landmarks and the install site
// site-1 (Ashburn, run by op), locate events recorded by the ledger's rules,
// and verify_custody judging them. Proven near the site is `ok`; no recent
// statement that proves it is location-unproven (24); a statement putting
// the chip nearer a landmark than its site could be is location-mismatch
// (25), whatever else proves.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/client/evidence.h"
#include "tests/client/story.h"
#include "verify/custody_verifier.h"
#include "verify/location_verdict.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;

constexpr uint64_t kDay = 24 * kHour;

// site-1 in Ashburn (US); lm-iad about 10 km from it, lm-nyc about 330 km,
// lm-fra in Frankfurt (about 6,500 km); lm-iad and lm-fra run by reg, lm-nyc
// by dist.
struct LocatedStory : Story {
  std::map<std::string, PrivateKey> landmark_keys;
  uint64_t nonces = 0;

  LocatedStory() {
    add_landmark("lm-iad", "reg", 39.1200, -77.5400, "US");
    add_landmark("lm-nyc", "dist", 40.7128, -74.0060, "US");
    add_landmark("lm-fra", "reg", 50.1109, 8.6821, "DE");
    must_ok(tc->consortium.add_site(Site{"site-1", "op", *geo_point(39.0438, -77.4874), "US"}));
    must_ok(tc->consortium.add_site(Site{"site-dist", "dist", *geo_point(52.37, 4.89), "NL"}));
    ledger = open_memory_ledger(tc->consortium);
  }
  void add_landmark(const std::string& id, const std::string& member, double lat, double lon,
                    const std::string& country) {
    PrivateKey key = fresh_key();
    must_ok(tc->consortium.add_landmark(
        Landmark{id, member, key.public_key(), *geo_point(lat, lon), country, ""}));
    landmark_keys.emplace(id, std::move(key));
  }
  // A statement of `landmark` timing `serial` at `round_trip_us`, answered
  // with the chip's device key over the latest checkpoint, at the clock.
  LocationStatement statement(const std::string& serial, const std::string& landmark,
                              uint64_t round_trip_us) {
    LocationStatement st;
    st.ledger_id = tc->ledger_id;
    st.landmark = landmark;
    st.serial = serial;
    const uint64_t n = ++nonces;
    for (size_t i = 0; i < 8; ++i) st.nonce[i] = static_cast<uint8_t>(n >> (8 * i));
    st.checkpoint_size = ledger->size();
    st.checkpoint_root = must(ledger->root_at(st.checkpoint_size));
    st.round_trip_us = round_trip_us;
    st.time_ms = t;
    st.chip_signature = must(chip_keys.at(serial).sign(st.chip_message()));
    return must(sign_statement(st, landmark_keys.at(landmark)));
  }
  // The holder (op) records these statements of `serial`.
  void locate(const std::string& serial,
              const std::vector<std::pair<std::string, uint64_t>>& rounds) {
    Transaction x = on("op", TxType::locate, serial);
    for (const auto& [landmark, rtt] : rounds)
      x.statements.push_back(statement(serial, landmark, rtt));
    ok(x);
  }
  // maker -> dist -> op, installed at site-1 and attested.
  void installed(const std::string& serial) {
    register_chips({serial});
    deliver_installed_attested(serial);
  }
};

std::vector<std::string> names_of(const VerifyReport& r) {
  std::vector<std::string> out;
  for (const auto& [f, why] : r.findings) out.emplace_back(finding_name(f));
  return out;
}

std::string reason_of(const VerifyReport& r, Finding f) {
  for (const auto& [finding, why] : r.findings) {
    if (finding == f) return why;
  }
  return "";
}

TEST_CASE("location: a landmark near the site proves the chip there: ok, the chain shows the bound",
          "[verifier][location]") {
  LocatedStory s;
  s.installed("GPU-1");
  s.locate("GPU-1", {{"lm-iad", 300}});  // 0.3 ms: within 30 km of lm-iad
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(r.location_verdict == LocationVerdict::proven);
  REQUIRE(r.location_proofs.size() == 1);
  const LocationProof& p = r.location_proofs[0];
  CHECK(p.landmark == "lm-iad");
  CHECK(p.round_trip_us == 300);
  CHECK(p.bound_km == 30);
  CHECK(p.distance_km > 8);
  CHECK(p.distance_km < 12);
  CHECK(p.kind == ProofKind::near);
  CHECK_THAT(r.chain.back().event,
             Catch::Equals("located by lm-iad (round trip 0.300 ms, within 30 km; 10 km from the "
                           "site)"));
  json j = r.to_json();
  CHECK(j["location_proof"]["verdict"] == "proven");
  CHECK(j["location_proof"]["statements"][0]["bound_km"] == 30);
  CHECK(j["location_proof"]["statements"][0]["kind"] == "near");

  // The bound is the policy's: at 50 km/ms a verifier recomputes 8 km from
  // the same signed round trip.
  json trust = json::parse(s.tc->consortium.to_json());
  trust["location"]["km_per_ms"] = 50;
  Consortium slow = must(Consortium::from_json(trust.dump()));
  VerifyReport again = s.verify("GPU-1", s.t + kHour, &slow);
  REQUIRE(again.location_proofs.size() == 1);
  CHECK(again.location_proofs[0].bound_km == 8);
}

TEST_CASE("location-unproven: no statement, a slow one, an old one, a site without coordinates",
          "[verifier][location]") {
  LocatedStory s;
  s.installed("GPU-1");
  // Installed, never located.
  VerifyReport none = s.verify("GPU-1", s.t + kHour);
  REQUIRE(names_of(none) == std::vector<std::string>{"location-unproven"});
  CHECK(none.exit_code() == 24);
  CHECK_THAT(reason_of(none, Finding::location_unproven),
             Catch::Contains("no landmark's statement since its install") &&
                 Catch::Contains("within 500 km of site site-1"));

  // Answering 30 ms late: within 3,000 km of lm-iad, which proves nothing
  // about a 500 km radius.
  s.locate("GPU-1", {{"lm-iad", 30'000}});
  VerifyReport slow = s.verify("GPU-1", s.t + kHour);
  REQUIRE(names_of(slow) == std::vector<std::string>{"location-unproven"});
  REQUIRE(slow.location_proofs.size() == 1);
  CHECK(slow.location_proofs[0].bound_km == 3000);
  CHECK(slow.location_proofs[0].kind == ProofKind::inconclusive);
  CHECK_THAT(reason_of(slow, Finding::location_unproven),
             Catch::Contains("bounds it to 3000 km of the landmark (30.000 ms round trip)"));

  // Proven, then older than max_location_age (7 days): unproven again, and
  // the attestation is stale too (more severe, listed first).
  s.locate("GPU-1", {{"lm-iad", 400}});
  CHECK(s.verify("GPU-1", s.t + kHour).ok());
  VerifyReport old = s.verify("GPU-1", s.t + 8 * kDay);
  REQUIRE(names_of(old) == std::vector<std::string>{"stale-attestation", "location-unproven"});
  CHECK(old.exit_code() == 18);
  REQUIRE(old.location_proofs.size() == 2);
  CHECK(old.location_proofs[1].kind == ProofKind::not_counted);
  CHECK_THAT(old.location_proofs[1].why, Catch::Contains("older than the policy's 168 h"));

  // Installed at a site the trust file does not list.
  s.register_chips({"GPU-2"});
  s.hand_over("maker", "GPU-2", "dist", "NL");
  s.hand_over("dist", "GPU-2", "op", "US");
  Transaction x = s.on("op", TxType::install, "GPU-2");
  x.site = "site-elsewhere";
  x.country = "US";
  s.ok(x);
  s.locate("GPU-2", {{"lm-iad", 300}});
  VerifyReport unlisted = s.verify("GPU-2", s.t + kHour);
  REQUIRE(names_of(unlisted) == std::vector<std::string>{"never-attested", "location-unproven"});
  CHECK_THAT(reason_of(unlisted, Finding::location_unproven),
             Catch::Contains("site-elsewhere, which the trust file does not list"));
}

TEST_CASE("location-unproven: another member's site, or a country the site is not in",
          "[verifier][location]") {
  LocatedStory s;
  s.register_chips({"GPU-1", "GPU-2"});
  for (const char* chip : {"GPU-1", "GPU-2"}) {
    s.hand_over("maker", chip, "dist", "NL");
    s.hand_over("dist", chip, "op", "US");
  }
  // op names dist's site (Amsterdam) as its own.
  Transaction x = s.on("op", TxType::install, "GPU-1");
  x.site = "site-dist";
  x.country = "NL";
  s.ok(x);
  VerifyReport borrowed = s.verify("GPU-1", s.t + kHour);
  CHECK_THAT(reason_of(borrowed, Finding::location_unproven),
             Catch::Contains("site site-dist is declared by dist, but op installed the chip"));
  // op installs at site-1 (US) but declares the chip in DE.
  x = s.on("op", TxType::install, "GPU-2");
  x.site = "site-1";
  x.country = "DE";
  s.ok(x);
  s.locate("GPU-2", {{"lm-iad", 300}});
  VerifyReport country = s.verify("GPU-2", s.t + kHour);
  CHECK_THAT(reason_of(country, Finding::location_unproven),
             Catch::Contains("the install declares country DE, but site site-1 is in US"));
}

TEST_CASE("location-mismatch: a landmark across the ocean proves the chip near it, at any age",
          "[verifier][location]") {
  LocatedStory s;
  s.installed("GPU-1");
  // Declared in Ashburn, it answers Frankfurt within 2 ms (200 km); and
  // lm-iad only slowly. A relay near lm-iad adds delay; nothing removes it.
  s.locate("GPU-1", {{"lm-fra", 2000}, {"lm-iad", 70'000}});
  VerifyReport r = s.verify("GPU-1", s.t + kHour);
  REQUIRE(names_of(r) == std::vector<std::string>{"location-mismatch"});
  CHECK(r.exit_code() == 25);
  CHECK(r.location_verdict == LocationVerdict::mismatch);
  CHECK_THAT(reason_of(r, Finding::location_mismatch),
             Catch::Contains("landmark lm-fra proves the chip within 200 km of it") &&
                 Catch::Contains("from the declared site site-1") &&
                 Catch::Contains("over the policy's 500 km"));
  REQUIRE(r.location_proofs.size() == 2);
  CHECK(r.location_proofs[0].kind == ProofKind::far);
  CHECK(r.location_proofs[0].distance_km > 6000);

  // A fast answer to lm-iad later does not undo it: the chip was elsewhere
  // while declared at site-1 (two devices with one key, or a lying landmark).
  s.locate("GPU-1", {{"lm-iad", 200}});
  CHECK(names_of(s.verify("GPU-1", s.t + kHour)) == std::vector<std::string>{"location-mismatch"});
  // Older than max_location_age, still a mismatch.
  CHECK(names_of(s.verify("GPU-1", s.t + 30 * kDay)) ==
        std::vector<std::string>{"location-mismatch", "stale-attestation"});
}

TEST_CASE(
    "location: a new install starts over, and a landmark removed from the trust file counts "
    "for nothing",
    "[verifier][location]") {
  LocatedStory s;
  s.installed("GPU-1");
  s.locate("GPU-1", {{"lm-fra", 2000}});
  REQUIRE(names_of(s.verify("GPU-1", s.t + kHour)) ==
          std::vector<std::string>{"location-mismatch"});
  // Installed again (moved within the datacenter): what was proven about
  // the earlier install does not count for this one, nor does a statement
  // obtained before it and recorded after (the ledger takes it: its time
  // and checkpoint are recent; verify sees its checkpoint predates the install).
  LocationStatement before = s.statement("GPU-1", "lm-iad", 300);
  Transaction x = s.on("op", TxType::install, "GPU-1");
  x.site = "site-1";
  x.country = "US";
  s.ok(x);
  VerifyReport fresh = s.verify("GPU-1", s.t + kHour);
  REQUIRE(names_of(fresh) == std::vector<std::string>{"location-unproven"});
  CHECK(fresh.location_proofs.empty());
  Transaction late = s.on("op", TxType::locate, "GPU-1");
  late.statements = {before};
  s.ok(late);
  VerifyReport stale = s.verify("GPU-1", s.t + kHour);
  REQUIRE(names_of(stale) == std::vector<std::string>{"location-unproven"});
  REQUIRE(stale.location_proofs.size() == 1);
  CHECK(stale.location_proofs[0].kind == ProofKind::not_counted);
  CHECK_THAT(stale.location_proofs[0].why, Catch::Contains("made before the install"));
  s.locate("GPU-1", {{"lm-nyc", 600}});  // 60 km bound, about 330 km away: 390 <= 500
  REQUIRE(s.verify("GPU-1", s.t + kHour).ok());

  // Judged by a trust file that no longer lists lm-nyc (removed by a later
  // governance change): its statement counts for nothing.
  json trust = json::parse(s.tc->consortium.to_json());
  json kept = json::array();
  for (const auto& lm : trust["landmarks"]) {
    if (lm["id"] != "lm-nyc") kept.push_back(lm);
  }
  trust["landmarks"] = kept;
  Consortium later = must(Consortium::from_json(trust.dump()));
  LocationHistory located{
      1,
      *s.tc->consortium.site("site-1"),
      {{7, s.statement("GPU-1", "lm-nyc", 600), *s.tc->consortium.landmark("lm-nyc"), 200}}};
  LocationJudgement j = judge_location(later, s.record("GPU-1"), located, s.t + kHour);
  CHECK(j.verdict == LocationVerdict::unproven);
  REQUIRE(j.proofs.size() == 1);
  CHECK(j.proofs[0].kind == ProofKind::not_counted);
  CHECK_THAT(j.proofs[0].why, Catch::Contains("landmark lm-nyc is no longer in force"));
  // Nor does a landmark whose member is suspended.
  Consortium suspended = s.tc->consortium;
  suspended.mutable_member("dist")->suspended = true;
  j = judge_location(suspended, s.record("GPU-1"), located, s.t + kHour);
  CHECK(j.verdict == LocationVerdict::unproven);
  CHECK(j.proofs.at(0).kind == ProofKind::not_counted);
  // With it in force, the same statement proves the chip near site-1.
  CHECK(judge_location(s.tc->consortium, s.record("GPU-1"), located, s.t + kHour).verdict ==
        LocationVerdict::proven);
  // Not once it was moved (removed and added again elsewhere under its id).
  json moved = json::parse(s.tc->consortium.to_json());
  for (auto& lm : moved["landmarks"]) {
    if (lm["id"] == "lm-nyc") lm["latitude"] = 39.05;  // beside the site now
  }
  j = judge_location(must(Consortium::from_json(moved.dump())), s.record("GPU-1"), located,
                     s.t + kHour);
  CHECK(j.verdict == LocationVerdict::unproven);
  CHECK_THAT(j.proofs.at(0).why, Catch::Contains("was moved or given another key since"));

  // The site declared again elsewhere since the install: nothing is judged
  // against the new coordinates.
  LocationHistory redeclared = located;
  redeclared.site_then->where = *geo_point(50.1109, 8.6821);
  j = judge_location(s.tc->consortium, s.record("GPU-1"), redeclared, s.t + kHour);
  CHECK(j.verdict == LocationVerdict::unproven);
  CHECK_THAT(j.reason, Catch::Contains("site site-1 was declared again since the install"));

  // A statement over a checkpoint that did not hold the install yet was
  // made before it: it counts for nothing, whatever its time says.
  LocationHistory early = located;
  early.install_index = early.statements[0].statement.checkpoint_size;
  j = judge_location(s.tc->consortium, s.record("GPU-1"), early, s.t + kHour);
  CHECK(j.verdict == LocationVerdict::unproven);
  CHECK_THAT(j.proofs.at(0).why, Catch::Contains("made before the install at log index"));

  // Bounded at the faster of the speeds then and now: recorded under 300
  // km/ms, judged under 200, the bound is 90 km, not 60.
  LocationHistory faster = located;
  faster.statements[0].km_per_ms_then = 300;
  j = judge_location(s.tc->consortium, s.record("GPU-1"), faster, s.t + kHour);
  CHECK(j.proofs.at(0).bound_km == 90);
}

TEST_CASE("location: not judged without landmarks, for a chip not installed, or for a unit",
          "[verifier][location]") {
  Story plain;  // no landmarks in its trust file
  plain.register_chips({"GPU-1"});
  plain.deliver_installed_attested("GPU-1");
  VerifyReport r = plain.verify("GPU-1", plain.t + kHour);
  CHECK(r.ok());
  CHECK(r.location_verdict == LocationVerdict::not_judged);
  CHECK(r.to_json()["location_proof"]["verdict"] == "not-judged");

  LocatedStory s;
  s.register_chips({"GPU-2"});
  VerifyReport held = s.verify("GPU-2", s.t + kHour);
  CHECK(names_of(held) == std::vector<std::string>{"not-installed"});
  CHECK(held.location_verdict == LocationVerdict::not_judged);
}

}  // namespace
}  // namespace chipledger
