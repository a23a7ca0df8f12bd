// The custody engine on its own (ledger/custody_engine.h): how a transaction
// concerns a serial, the record it gives (the one the ledger stores), its
// refusal kinds, and the export-license rule enforced or reported.
#include "ledger/custody_engine.h"

#include <catch2/catch.hpp>

#include "tests/ledger/rules_world.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

std::optional<SerialRecord> held(const std::string& holder, const std::string& parent = "") {
  SerialRecord r;
  r.holder = r.manufacturer = holder;
  r.model = "H100";
  r.eccn = "3A090";
  r.origin_country = r.location_country = "TW";
  r.parent = parent;
  r.last_event[0] = 7;
  r.events = 1;
  return r;
}

}  // namespace

TEST_CASE("concerns_of: named, via a unit, a pack's unit and chips, registrations", "[engine]") {
  TestConsortium tc = TestConsortium::make();
  Transaction flag = tc.tx("reg", TxType::flag);
  flag.refs = {{"U1", {}}, {"C1", {}}};
  // C1 named and packed in U1: through the unit first, then on its own (refs order).
  CHECK(concerns_of(flag, "C1", held("maker", "U1")) ==
        std::vector<Concern>{{ConcernKind::via_unit, "U1"}, {ConcernKind::named, ""}});
  CHECK(concerns_of(flag, "U1", held("maker")) == std::vector<Concern>{{ConcernKind::named, ""}});
  CHECK(concerns_of(flag, "C2", held("maker", "U1")) ==
        std::vector<Concern>{{ConcernKind::via_unit, "U1"}});
  CHECK(concerns_of(flag, "C3", held("maker", "U9")).empty());
  CHECK(concerns_of(flag, "C3", std::nullopt).empty());

  Transaction decommission = tc.tx("maker", TxType::decommission);
  decommission.refs = {{"U1", {}}};
  CHECK(concerns_of(decommission, "C2", held("maker", "U1")).empty());  // not a unit event

  Transaction pack = tc.tx("maker", TxType::pack);
  pack.unit = "U1";
  pack.refs = {{"C1", {}}};
  CHECK(concerns_of(pack, "U1", std::nullopt) ==
        std::vector<Concern>{{ConcernKind::unit_of_pack, ""}});
  CHECK(concerns_of(pack, "C1", held("maker")) ==
        std::vector<Concern>{{ConcernKind::packed_into, "U1"}});

  Transaction reg = tc.register_tx("maker", {"C7"});
  CHECK(concerns_of(reg, "C7", std::nullopt) ==
        std::vector<Concern>{{ConcernKind::registered, ""}});
  CHECK(concerns_of(tc.tx("reg", TxType::license), "C7", std::nullopt).empty());
}

TEST_CASE("apply_event gives the record the ledger stores, or a typed refusal", "[engine]") {
  RulesWorld w;
  auto reg = w.tc.sign(w.tc.register_tx("maker", {"SN1"}));
  REQUIRE(w.apply(reg).accepted);
  auto stored = *w.ledger->serial("SN1");
  StepOutcome made =
      apply_event(w.tc.consortium, "SN1", std::nullopt, reg, 0, concerns_of(reg.tx, "SN1", {}));
  REQUIRE(made.ok());
  CHECK(*made.record == *stored);
  CHECK(made.record->last_event == reg.txid);
  CHECK(made.record->events == 1);

  // A second registration: refused, as a rule.
  StepOutcome again =
      apply_event(w.tc.consortium, "SN1", stored, reg, 1, concerns_of(reg.tx, "SN1", stored));
  CHECK_FALSE(again.ok());
  CHECK(again.refusal == RefusalKind::rule);
  CHECK_THAT(again.reason, Catch::Contains("already registered"));

  // A transfer with a stale prev: refused as stale_prev.
  auto stale = w.tc.sign(w.transfer("maker", "SN1", "dist"));
  Transaction t = stale.tx;
  t.refs[0].prev[0] ^= 1;
  auto signed_stale = w.tc.sign(t);
  StepOutcome broken =
      apply_event(w.tc.consortium, "SN1", stored, signed_stale, 1, concerns_of(t, "SN1", stored));
  CHECK(broken.refusal == RefusalKind::stale_prev);
  CHECK_THAT(broken.reason, Catch::Contains("stale prev for serial SN1"));

  // An event that does not concern the serial.
  StepOutcome unrelated = apply_event(w.tc.consortium, "SN9", stored, stale, 1, {});
  CHECK_FALSE(unrelated.ok());
  CHECK_THAT(unrelated.reason, Catch::Contains("does not concern serial SN9"));

  // Accepted: exactly the record the ledger then stores.
  StepOutcome moved =
      apply_event(w.tc.consortium, "SN1", stored, stale, 1, concerns_of(stale.tx, "SN1", stored));
  REQUIRE(moved.ok());
  REQUIRE(w.apply(stale).accepted);
  CHECK(*moved.record == **w.ledger->serial("SN1"));
  CHECK(moved.record->transit_since_ms == stale.tx.time_ms);
}

TEST_CASE("the export-license rule: enforced by the ledger, reported for a verifier",
          "[engine][license]") {
  RulesWorld w;
  auto reg = w.tc.sign(w.tc.register_tx("maker", {"SN1"}));
  REQUIRE(w.apply(reg).accepted);
  auto before = *w.ledger->serial("SN1");
  // To east (AE, restricted) without a license.
  auto x = w.tc.sign(w.transfer("maker", "SN1", "east", "AE"));
  auto concerns = concerns_of(x.tx, "SN1", before);
  StepOutcome enforced = apply_event(w.tc.consortium, "SN1", before, x, 1, concerns);
  CHECK_FALSE(enforced.ok());
  CHECK(enforced.refusal == RefusalKind::export_license);
  CHECK(enforced.license_needed);

  EventContext report;
  report.license_rule = LicenseRule::report;
  StepOutcome reported = apply_event(w.tc.consortium, "SN1", before, x, 1, concerns, report);
  REQUIRE(reported.ok());
  REQUIRE(reported.export_findings.size() == 1);
  CHECK_THAT(reported.export_findings[0], Catch::Contains("needs an export license"));
  CHECK(reported.destination == "AE");
  CHECK(reported.record->status == CustodyStatus::in_transit);

  // With a covering license: no finding either way.
  LicenseTerms terms{"L1", "maker", "east", "H100", "", 1, "AE", x.tx.time_ms + 1};
  Transaction named = x.tx;
  named.license_id = "L1";
  auto with_license = w.tc.sign(named);
  EventContext ctx;
  ctx.license = &terms;
  StepOutcome licensed =
      apply_event(w.tc.consortium, "SN1", before, with_license, 1, concerns, ctx);
  REQUIRE(licensed.ok());
  CHECK(licensed.export_findings.empty());
  CHECK(licensed.record->pending_license == "L1");
  // Expired at the transfer's signed time: refused, whatever a block's time is.
  terms.expiry_ms = named.time_ms;
  StepOutcome expired = apply_event(w.tc.consortium, "SN1", before, with_license, 1, concerns, ctx);
  CHECK(expired.refusal == RefusalKind::export_license);
  CHECK_THAT(expired.reason, Catch::Contains("license L1 has expired"));
}
