// The rules of issue 3's events: install, attest, pack/unpack, decommission,
// flag/clear, report, license, and the export policy on transfers. Each
// accepts what it should and refuses what it should, with the reason.
#include <catch2/catch.hpp>

#include "tests/ledger/rules_world.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

constexpr uint64_t kDay = 24 * 3600 * 1000ull;

struct Chip {
  std::string serial;
  PrivateKey key;
};

// A world with chips registered with device keys, held by `dc` and installed.
struct AttestWorld : RulesWorld {
  std::vector<Chip> chips;

  explicit AttestWorld(int n, KeyAlgorithm alg = KeyAlgorithm::ecdsa_p256) {
    Transaction reg = tc.register_tx("maker", {});
    for (int i = 0; i < n; ++i) {
      Chip c{"CHIP" + std::to_string(i), *PrivateKey::generate(alg)};
      reg.registrations.push_back({c.serial, c.key.public_key().der()});
      chips.push_back(std::move(c));
    }
    ok(reg);
  }
  void deliver_and_install(const std::string& serial) {
    hand_over("maker", serial, "dc", "US");
    Transaction inst = move("dc", TxType::install, serial);
    inst.site = "DC-1";
    inst.country = "US";
    ok(inst);
  }
  // An attestation of `serial` (a chip or a unit) at the latest checkpoint,
  // each chip signing with its own key.
  Transaction attestation(const std::string& serial, const std::vector<std::string>& signers,
                          const std::string& site = "DC-1") {
    Transaction t = move("dc", TxType::attest, serial);
    t.site = site;
    t.checkpoint_size = ledger->size();
    t.checkpoint_root = *ledger->root_at(t.checkpoint_size);
    for (const auto& chip : signers) {
      for (const auto& c : chips) {
        if (c.serial != chip) continue;
        Bytes msg = attestation_message(tc.consortium.ledger_id(), chip, site, t.checkpoint_size,
                                        t.checkpoint_root);
        t.chip_signatures.push_back({chip, *c.key.sign(msg)});
      }
    }
    return t;
  }
};

Transaction license_tx(const TestConsortium& tc, const std::string& id, uint64_t quantity,
                       const std::string& recipient = "east") {
  Transaction t = tc.tx("reg", TxType::license);
  t.license = {id, "maker", recipient, "H100", "", quantity, "AE", kNow + 30 * kDay};
  return t;
}

}  // namespace

TEST_CASE("an operator holding a chip installs it, others may not", "[rules][install]") {
  AttestWorld w(1);
  w.hand_over("maker", "CHIP0", "dc", "US");
  Transaction inst = w.move("dc", TxType::install, "CHIP0");
  inst.site = "DC-1";
  inst.country = "US";
  Transaction by_dist = inst;
  by_dist.author = "dist";
  by_dist.key_id = w.tc.keys.at("dist").public_key().key_id();
  require_refused(w.apply(by_dist),
                  "only a operator may record an installation; dist is distributor");
  w.ok(inst);
  CHECK(w.record("CHIP0").installed);
  CHECK(w.record("CHIP0").site == "DC-1");
  CHECK(w.record("CHIP0").location_country == "US");
  // Moving it uninstalls it.
  w.ok(w.transfer("dc", "CHIP0", "dist", "SG"));
  CHECK_FALSE(w.record("CHIP0").installed);
}

TEST_CASE("a chip attests with its device key over a recent checkpoint", "[rules][attest]") {
  for (auto alg : {KeyAlgorithm::ecdsa_p256, KeyAlgorithm::ecdsa_p384, KeyAlgorithm::ed25519}) {
    AttestWorld w(2, alg);
    w.deliver_and_install("CHIP0");
    w.ok(w.attestation("CHIP0", {"CHIP0"}));
    CHECK(w.record("CHIP0").last_attest_ms == kNow);
  }
}

TEST_CASE("attestations with a wrong key, root or site are refused", "[rules][attest]") {
  AttestWorld w(2);
  w.deliver_and_install("CHIP0");
  SECTION("signed by another chip's key") {
    Transaction t = w.attestation("CHIP0", {"CHIP0"});
    Bytes msg = attestation_message(w.tc.consortium.ledger_id(), "CHIP0", "DC-1", t.checkpoint_size,
                                    t.checkpoint_root);
    t.chip_signatures[0].signature = *w.chips[1].key.sign(msg);
    require_refused(w.apply(t), "the chip signature of serial CHIP0 does not verify");
  }
  SECTION("over a root that is not the ledger's") {
    Transaction t = w.attestation("CHIP0", {"CHIP0"});
    t.checkpoint_root[0] ^= 1;
    require_refused(w.apply(t), "the attested root is not the ledger's checkpoint at size");
  }
  SECTION("over a size that ended no block") {
    Transaction t = w.attestation("CHIP0", {"CHIP0"});
    t.checkpoint_size = 1000;
    require_refused(w.apply(t), "not the ledger's checkpoint at size 1000");
  }
  SECTION("over a stale checkpoint") {
    Transaction t = w.attestation("CHIP0", {"CHIP0"});
    uint64_t later = kNow + 2 * 3600 * 1000;
    t.time_ms = later;
    require_refused(w.apply(t, later), "older than the policy's window of 3600 s");
  }
  SECTION("at another site than where it is installed") {
    Transaction t = w.attestation("CHIP0", {"CHIP0"}, "DC-9");
    require_refused(w.apply(t), "serial CHIP0 is not installed at site DC-9");
  }
  SECTION("without the chip's signature") {
    Transaction t = w.attestation("CHIP0", {});
    t.chip_signatures = {{"CHIP1", Bytes(64, 1)}};
    require_refused(w.apply(t), "no chip signature for serial CHIP0");
  }
  SECTION("a chip without a device key") {
    w.ok(w.tc.register_tx("maker", {"NOKEY"}));
    w.deliver_and_install("NOKEY");
    Transaction t = w.attestation("NOKEY", {});
    t.chip_signatures = {{"NOKEY", Bytes(64, 1)}};
    require_refused(w.apply(t), "serial NOKEY has no device key; it cannot attest");
  }
}

TEST_CASE("a unit carries its chips through transfer, accept, install and attest",
          "[rules][pack]") {
  AttestWorld w(3);
  w.hand_over("maker", "CHIP0", "dist", "SG");
  w.hand_over("maker", "CHIP1", "dist", "SG");
  Transaction pack = w.tc.tx("dist", TxType::pack);
  pack.unit = "SRV1";
  pack.model = "8-GPU server";
  pack.refs = {{"CHIP0", w.last("CHIP0")}, {"CHIP1", w.last("CHIP1")}};
  w.ok(pack);
  CHECK(w.record("SRV1").children == std::vector<std::string>{"CHIP0", "CHIP1"});
  CHECK(w.record("CHIP0").parent == "SRV1");
  // A packed chip cannot move on its own.
  require_refused(w.apply(w.transfer("dist", "CHIP0", "dc", "US")),
                  "serial CHIP0 is packed in unit SRV1; act on the unit, or unpack it first");
  w.hand_over("dist", "SRV1", "dc", "US");
  CHECK(w.record("CHIP1").holder == "dc");
  CHECK(w.record("CHIP1").location_country == "US");
  Transaction inst = w.move("dc", TxType::install, "SRV1");
  inst.site = "DC-1";
  inst.country = "US";
  w.ok(inst);
  CHECK(w.record("CHIP0").installed);
  // The unit's attestation needs every chip inside to sign.
  require_refused(w.apply(w.attestation("SRV1", {"CHIP0"})), "no chip signature for serial CHIP1");
  require_refused(w.apply(w.attestation("SRV1", {"CHIP0", "CHIP1", "CHIP2"})),
                  "chip signature for serial CHIP2, which this attestation does not cover");
  w.ok(w.attestation("SRV1", {"CHIP0", "CHIP1"}));
  CHECK(w.record("CHIP1").last_attest_ms == kNow);
  // Every chip's history lists the unit's events.
  CHECK(w.ledger->history("CHIP0", w.ledger->size())->size() == 3 + 1 + 2 + 1 + 1);
  CHECK(w.record("CHIP0").last_event == w.record("SRV1").last_event);
}

TEST_CASE("packing and unpacking need the holder and follow the unit rules", "[rules][pack]") {
  AttestWorld w(3);
  Transaction pack = w.tc.tx("maker", TxType::pack);
  pack.unit = "SRV1";
  pack.model = "server";
  pack.refs = {{"CHIP0", w.last("CHIP0")}};
  Transaction by_dist = pack;
  by_dist.author = "dist";
  by_dist.key_id = w.tc.keys.at("dist").public_key().key_id();
  require_refused(w.apply(by_dist), "serial CHIP0 is held by maker, not by dist");
  w.ok(pack);
  Transaction again = w.tc.tx("maker", TxType::pack);
  again.unit = "SRV1";
  again.model = "server";
  again.refs = {{"CHIP1", w.last("CHIP1")}};
  require_refused(w.apply(again), "unit SRV1 exists already");
  again.unit_prev = w.last("SRV1");
  w.ok(again);  // adds CHIP1 to the existing unit
  CHECK(w.record("SRV1").children.size() == 2);
  Transaction into_other = w.tc.tx("maker", TxType::pack);
  into_other.unit = "SRV2";
  into_other.model = "server";
  into_other.refs = {{"CHIP0", w.last("CHIP0")}};
  require_refused(w.apply(into_other), "serial CHIP0 is already packed in unit SRV1");
  Transaction nest = w.tc.tx("maker", TxType::pack);
  nest.unit = "RACK";
  nest.model = "rack";
  nest.refs = {{"SRV1", w.last("SRV1")}};
  require_refused(w.apply(nest), "units do not nest");
  w.ok(w.move("maker", TxType::unpack, "SRV1"));
  CHECK(w.record("CHIP0").parent.empty());
  CHECK(w.record("SRV1").children.empty());
  w.ok(w.transfer("maker", "CHIP0", "dist", "SG"));  // free to move again
  require_refused(w.apply(w.move("maker", TxType::unpack, "SRV1")), "has no packed serials");
}

TEST_CASE("decommissioning is terminal", "[rules][decommission]") {
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  Transaction d = w.move("maker", TxType::decommission, "SN1");
  d.kind = "destroyed";
  Transaction by_other = d;
  by_other.author = "dist";
  by_other.key_id = w.tc.keys.at("dist").public_key().key_id();
  require_refused(w.apply(by_other), "only the holder may decommission it");
  w.ok(d);
  CHECK(w.record("SN1").status == CustodyStatus::decommissioned);
  require_refused(w.apply(w.transfer("maker", "SN1", "dist")),
                  "serial SN1 was decommissioned; nothing may follow");
  Transaction f = w.move("reg", TxType::flag, "SN1");
  f.reason = "check";
  require_refused(w.apply(f), "was decommissioned; nothing may follow");
}

TEST_CASE("a regulator flags and clears, a flagged serial cannot move", "[rules][flag]") {
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1", "SN2"}));
  Transaction f = w.move("dist", TxType::flag, "SN1");
  f.reason = "suspected diversion";
  require_refused(w.apply(f), "only a regulator may flag serials; dist is distributor");
  f = w.move("reg", TxType::flag, "SN1");
  f.reason = "suspected diversion";
  w.ok(f);
  CHECK(w.record("SN1").flagged);
  require_refused(w.apply(w.transfer("maker", "SN1", "dist")),
                  "serial SN1 is flagged by the regulator (suspected diversion); it cannot be "
                  "transferred");
  // Flagged while in transit: the recipient cannot accept it.
  w.ok(w.transfer("maker", "SN2", "dist"));
  f = w.move("reg", TxType::flag, "SN2");
  f.reason = "hold";
  w.ok(f);
  require_refused(w.apply(w.move("dist", TxType::accept, "SN2")), "it cannot be accepted");
  Transaction c = w.move("reg", TxType::clear, "SN1");
  c.reason = "explained";
  w.ok(c);
  CHECK_FALSE(w.record("SN1").flagged);
  w.ok(w.transfer("maker", "SN1", "dist"));
  Transaction nothing = w.move("reg", TxType::clear, "SN1");
  nothing.reason = "again";
  require_refused(w.apply(nothing), "serial SN1 has no flag or report to clear");
}

TEST_CASE("any member reports a serial, the regulator clears the report", "[rules][report]") {
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  Transaction r = w.move("aud", TxType::report, "SN1");
  r.kind = "stolen";
  r.reason = "truck hijacked";
  w.ok(r);
  CHECK(w.record("SN1").open_reports == 1);
  CHECK(w.record("SN1").report_kind == "stolen");
  Transaction bad = w.move("aud", TxType::report, "SN1");
  bad.kind = "misplaced";
  bad.reason = "?";
  CHECK_THAT(encode_body(bad).reason(), Catch::Contains("report kind 'misplaced' is not one of"));
  Transaction c = w.move("reg", TxType::clear, "SN1");
  c.reason = "recovered";
  w.ok(c);
  CHECK(w.record("SN1").open_reports == 0);
}

TEST_CASE("only a regulator issues licenses, once per id", "[rules][license]") {
  RulesWorld w;
  Transaction lic = license_tx(w.tc, "L1", 2);
  Transaction by_maker = lic;
  by_maker.author = "maker";
  by_maker.key_id = w.tc.keys.at("maker").public_key().key_id();
  require_refused(w.apply(by_maker), "only a regulator may issue export licenses");
  w.ok(lic);
  auto stored = w.ledger->license("L1");
  REQUIRE(stored->has_value());
  CHECK((*stored)->terms.quantity == 2);
  require_refused(w.apply(license_tx(w.tc, "L1", 5)), "license L1 exists already");
  Transaction expired = license_tx(w.tc, "L2", 1);
  expired.license.expiry_ms = kNow - 1;
  require_refused(w.apply(expired), "expires in the past");
  Transaction to_auditor = license_tx(w.tc, "L3", 1, "aud");
  require_refused(w.apply(to_auditor), "recipient 'aud' is not a member that can hold custody");
}

TEST_CASE("a controlled chip to a restricted destination needs a license, which it uses up",
          "[rules][license]") {
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1", "SN2", "SN3"}));
  // The recipient's country (AE) is restricted, whatever the ship-to says.
  require_refused(w.apply(w.transfer("maker", "SN1", "east", "SG")),
                  "a transfer of controlled chip SN1 (H100, 3A090) to AE, a restricted "
                  "destination, needs an export license; none was named");
  Transaction t = w.transfer("maker", "SN1", "east", "AE");
  t.license_id = "L1";
  require_refused(w.apply(t), "unknown license 'L1'");
  w.ok(license_tx(w.tc, "L1", 2));
  t = w.transfer("maker", "SN1", "east", "AE");
  t.license_id = "L1";
  w.ok(t);
  CHECK(w.record("SN1").pending_license == "L1");
  CHECK(w.record("SN1").pending_kind == "export");
  CHECK((*w.ledger->license("L1"))->used == 1);
  // The license event is listed in the chip's history.
  auto history = *w.ledger->history("SN1", w.ledger->size());
  CHECK(history == std::vector<uint64_t>{0, 1, 2});
  // Two more would exceed the quantity.
  Transaction both = w.tc.tx("maker", TxType::transfer);
  both.to = "east";
  both.ship_to_country = "AE";
  both.license_id = "L1";
  both.refs = {{"SN2", w.last("SN2")}, {"SN3", w.last("SN3")}};
  require_refused(w.apply(both), "license L1 has 1 chip(s) left; the transfer needs 2");
  Transaction other_exporter = w.transfer("maker", "SN2", "east", "AE");
  other_exporter.license_id = "L1";
  w.ok(other_exporter);
  CHECK((*w.ledger->license("L1"))->remaining() == 0);
  Transaction past = w.transfer("maker", "SN3", "east", "AE");
  past.license_id = "L1";
  require_refused(w.apply(past), "license L1 has 0 chip(s) left; the transfer needs 1");
}

TEST_CASE("a license must match exporter, recipient, destination, chip and time",
          "[rules][license]") {
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  w.ok(license_tx(w.tc, "L1", 5));
  Transaction t = w.transfer("maker", "SN1", "east", "CN");
  t.license_id = "L1";
  require_refused(w.apply(t), "license L1 is for destination AE, not CN");
  w.hand_over("maker", "SN1", "dist", "SG");
  t = w.transfer("dist", "SN1", "east", "AE");
  t.license_id = "L1";
  require_refused(w.apply(t), "license L1 authorises maker to export, not dist");
  Transaction other = w.tc.register_tx("maker", {"SN2"});
  other.model = "H100";
  w.ok(other);
  t = w.transfer("maker", "SN2", "east", "AE");
  t.license_id = "L1";
  uint64_t later = kNow + 31 * kDay;
  t.time_ms = later;
  require_refused(w.apply(t, later), "license L1 has expired");
  Transaction b200 = w.tc.register_tx("maker", {"SN3"});
  b200.model = "B200";
  w.ok(b200);  // 3A090, controlled by its eccn; the license names model H100
  t = w.transfer("maker", "SN3", "east", "AE");
  t.license_id = "L1";
  require_refused(w.apply(t), "license L1 does not cover serial SN3 (B200)");
}

TEST_CASE("uncontrolled chips and permitted destinations need no license", "[rules][license]") {
  RulesWorld w;
  Transaction reg = w.tc.register_tx("maker", {"SN1", "SN2"});
  reg.model = "T4";
  reg.eccn = "5A992";
  w.ok(reg);
  w.ok(w.transfer("maker", "SN1", "east", "AE"));
  w.ok(w.tc.register_tx("maker", {"SN3"}));
  w.ok(w.transfer("maker", "SN3", "dc", "US"));
  CHECK(w.record("SN3").pending_kind == "export");
}

TEST_CASE("the ledger tells export, re-export and in-country transfer apart", "[rules]") {
  CHECK(transfer_kind("TW", "TW", "SG") == "export");
  CHECK(transfer_kind("TW", "SG", "US") == "re-export");
  CHECK(transfer_kind("TW", "SG", "SG") == "in-country");
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  w.hand_over("maker", "SN1", "dist", "SG");
  w.ok(w.transfer("dist", "SN1", "dc", "US"));
  CHECK(w.record("SN1").pending_kind == "re-export");
}

TEST_CASE("a flag or report of a unit applies to every chip inside it", "[rules][flag][pack]") {
  AttestWorld w(2);
  Transaction pack = w.tc.tx("maker", TxType::pack);
  pack.unit = "SRV1";
  pack.model = "server";
  pack.refs = {{"CHIP0", w.last("CHIP0")}, {"CHIP1", w.last("CHIP1")}};
  w.ok(pack);
  Transaction f = w.move("reg", TxType::flag, "SRV1");
  f.reason = "inspection";
  w.ok(f);
  CHECK(w.record("CHIP0").flagged);
  CHECK(w.record("CHIP1").flag_reason == "inspection");
  // The chips' histories list the flag, and they share the unit's latest event.
  CHECK(w.record("CHIP1").last_event == w.record("SRV1").last_event);
  require_refused(w.apply(w.transfer("maker", "SRV1", "dist", "SG")),
                  "is flagged by the regulator");
  Transaction r = w.move("aud", TxType::report, "SRV1");
  r.kind = "tampered";
  r.reason = "seal broken";
  w.ok(r);
  CHECK(w.record("CHIP0").open_reports == 1);
  Transaction c = w.move("reg", TxType::clear, "SRV1");
  c.reason = "resealed";
  w.ok(c);
  CHECK_FALSE(w.record("CHIP0").flagged);
  CHECK(w.record("CHIP0").open_reports == 0);
  w.ok(w.transfer("maker", "SRV1", "dist", "SG"));
}

TEST_CASE("the rules judge times on the transaction's signed time, not the block's",
          "[rules][license][time]") {
  // A license valid for a transfer signed before its expiry, though the
  // block that carries it is after the expiry (within the clock skew); and
  // one signed after its expiry refused though the block is before it.
  RulesWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1", "SN2"}));
  Transaction lic = license_tx(w.tc, "L1", 2);
  lic.license.expiry_ms = kNow + 60 * 1000;
  w.ok(lic);
  Transaction before_expiry = w.transfer("maker", "SN1", "east", "AE");
  before_expiry.license_id = "L1";
  before_expiry.time_ms = kNow + 59 * 1000;
  w.ok(before_expiry, kNow + 5 * 60 * 1000);  // block 4 min after the expiry
  // The transit starts at the signed time: what a verifier can prove.
  CHECK(w.record("SN1").transit_since_ms == kNow + 59 * 1000);
  CHECK(w.record("SN1").last_time_ms == kNow + 59 * 1000);

  Transaction after_expiry = w.transfer("maker", "SN2", "east", "AE");
  after_expiry.license_id = "L1";
  after_expiry.time_ms = kNow + 61 * 1000;
  require_refused(w.apply(after_expiry, kNow), "license L1 has expired");

  // A license's own expiry is judged against its signed time too.
  Transaction late = license_tx(w.tc, "L2", 1);
  late.time_ms = kNow + 5 * 60 * 1000;
  late.license.expiry_ms = kNow + 4 * 60 * 1000;
  require_refused(w.apply(late, kNow), "expires in the past");
}
