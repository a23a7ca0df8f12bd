// Governance of the location entries (docs/governance.md, kinds 15-19):
// landmarks and sites added and removed, the location policy replaced, by
// the same k-of-n votes as every change; what would leave the trust file
// invalid is refused at the proposal with its reason, and changes nothing.
#include <catch2/catch.hpp>

#include "ledger/codec.h"
#include "ledger/governance_change.h"
#include "ledger/location.h"
#include "tests/ledger/gov_world.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

GovernanceChange landmark(const std::string& id, const std::string& member, const PublicKey& key,
                          double lat, double lon) {
  GovernanceChange c;
  c.kind = ChangeKind::add_landmark;
  c.place = id;
  c.member = member;
  c.keys = {key.der()};
  c.where = *geo_point(lat, lon);
  c.country = "US";
  c.url = "http://127.0.0.1:7700";
  return c;
}

GovernanceChange site(const std::string& id, const std::string& member) {
  GovernanceChange c;
  c.kind = ChangeKind::add_site;
  c.place = id;
  c.member = member;
  c.where = *geo_point(39.0438, -77.4874);
  c.country = "US";
  return c;
}

GovernanceChange removal(ChangeKind kind, const std::string& id) {
  GovernanceChange c;
  c.kind = kind;
  c.place = id;
  return c;
}

// Proposes `changes` (two of three admins approve), the second vote applying them.
void adopt(GovWorld& w, std::vector<GovernanceChange> changes) {
  Hash id = w.propose("maker", std::move(changes));
  auto vote = w.vote("reg", id);
  INFO(vote.reason);
  REQUIRE(vote.accepted);
}

}  // namespace

TEST_CASE("governance: landmarks and sites are added and removed by vote, the policy replaced",
          "[governance][location]") {
  GovWorld w;
  const PublicKey key = PrivateKey::generate(KeyAlgorithm::ed25519)->public_key();
  Hash id = w.propose("maker", {landmark("lm-iad", "reg", key, 39.04, -77.49), site("DC-1", "dc")});
  // One approval of the two needed: nothing listed yet.
  CHECK(w.ledger->consortium()->landmark("lm-iad") == nullptr);
  auto vote = w.vote("dc", id);
  REQUIRE(vote.accepted);
  const Landmark* lm = w.ledger->consortium()->landmark("lm-iad");
  REQUIRE(lm != nullptr);
  CHECK(lm->member == "reg");
  CHECK(lm->key.key_id() == key.key_id());
  CHECK(lm->where == *geo_point(39.04, -77.49));
  CHECK(lm->url == "http://127.0.0.1:7700");
  REQUIRE(w.ledger->consortium()->site("DC-1") != nullptr);
  CHECK(w.ledger->consortium()->site("DC-1")->member == "dc");
  CHECK(w.ledger->genesis().landmark("lm-iad") == nullptr);

  GovernanceChange policy;
  policy.kind = ChangeKind::set_location_policy;
  policy.location = LocationPolicy{250, 24 * kHour, 180, 120'000};
  adopt(w, {policy});
  CHECK(w.ledger->consortium()->location_policy() == policy.location);

  // Moved: removed and added again elsewhere, in one proposal.
  adopt(w, {removal(ChangeKind::remove_landmark, "lm-iad"),
            landmark("lm-iad", "reg", key, 40.0, -75.0)});
  CHECK(w.ledger->consortium()->landmark("lm-iad")->where == *geo_point(40.0, -75.0));
  adopt(w,
        {removal(ChangeKind::remove_landmark, "lm-iad"), removal(ChangeKind::remove_site, "DC-1")});
  CHECK(w.ledger->consortium()->landmarks().empty());
  CHECK(w.ledger->consortium()->sites().empty());
}

TEST_CASE("governance: location changes that cannot apply are refused with their reason",
          "[governance][location]") {
  GovWorld w;
  const PublicKey key = PrivateKey::generate(KeyAlgorithm::ed25519)->public_key();
  auto refused = [&](std::vector<GovernanceChange> changes, const std::string& reason) {
    Transaction t = w.tc.tx("maker", TxType::propose);
    t.changes = std::move(changes);
    require_refused(w.apply(t), reason);
  };
  refused({landmark("lm-x", "nobody", key, 1, 1)}, "landmark lm-x names unknown member 'nobody'");
  refused({removal(ChangeKind::remove_landmark, "lm-x")}, "landmark lm-x is not listed");
  refused({removal(ChangeKind::remove_site, "DC-9")}, "site DC-9 is not listed");
  refused({site("DC-1", "dc"), site("DC-1", "dc")}, "site DC-1 is listed twice");
  refused({landmark("lm-x", "reg", key, 1, 1), landmark("lm-x", "reg", key, 2, 2)},
          "landmark lm-x is listed twice");
  CHECK(w.ledger->consortium()->landmarks().empty());
  CHECK(w.ledger->consortium()->sites().empty());

  // Syntax: refused by check_change before any rule.
  GovernanceChange ecdsa =
      landmark("lm-y", "reg", PrivateKey::generate(KeyAlgorithm::ecdsa_p256)->public_key(), 1, 1);
  CHECK_THAT(check_change(ecdsa).reason(), Catch::Contains("a landmark's key is Ed25519"));
  GovernanceChange fast;
  fast.kind = ChangeKind::set_location_policy;
  fast.location.km_per_ms = 400;  // faster than light
  CHECK_FALSE(check_change(fast));
  fast.location = LocationPolicy{};
  fast.location.statement_window_ms = 1500;
  CHECK_THAT(check_change(fast).reason(), Catch::Contains("whole seconds"));
  GovernanceChange bad_site = site("", "dc");
  CHECK_THAT(check_change(bad_site).reason(), Catch::Contains("a site id is 1 to 64 bytes"));

  // Text JSON could not show (the stored consortium is JSON) is refused.
  GovernanceChange binary = site("DC-\xff", "dc");
  CHECK_THAT(check_change(binary).reason(), Catch::Contains("site id is not valid UTF-8"));
  GovernanceChange url = landmark("lm-z", "reg", key, 1, 1);
  url.url = "http://\xc0\xaf";  // an overlong '/'
  CHECK_THAT(check_change(url).reason(), Catch::Contains("url is not valid UTF-8"));
  {
    Writer bytes;
    bytes.u8(static_cast<uint8_t>(ChangeKind::remove_site)).str("\xed\xa0\x80");  // a surrogate
    Reader r(bytes.data());
    CHECK_THAT(decode_change(r).reason(), Catch::Contains("not valid UTF-8"));
  }

  // Coordinates on the wire out of range are refused by the decoder.
  Writer bytes;
  bytes.u8(static_cast<uint8_t>(ChangeKind::add_site)).str("DC-2").str("dc");
  bytes.u32(180'000'001).u32(0).str("US");
  Reader r(bytes.data());
  CHECK_THAT(decode_change(r).reason(), Catch::Contains("coordinates out of range"));
}
