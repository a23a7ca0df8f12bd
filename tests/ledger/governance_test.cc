// Governance (docs/governance.md) through Ledger::apply_block: proposals
// and votes change the consortium at the index of the transaction that
// meets the threshold, all changes or none; refusals name their reason and
// change nothing; key rotation and revocation; the consortium in force
// survives a reopen and travels in snapshots; the encoding of every change.
#include "ledger/governance.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ledger/codec.h"
#include "ledger/location.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/gov_world.h"
#include "tests/ledger/temp_dir.h"

using namespace chipledger;
using namespace chipledger::testing;
namespace fs = std::filesystem;

TEST_CASE("governance: k-1 approvals change nothing, the k-th applies at its index",
          "[governance]") {
  GovWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  // One approval (the proposal's own) of the two needed: nothing changed.
  CHECK(w.member("newdist") == nullptr);
  require_refused(w.apply(w.transfer("maker", "SN1", "newdist", "MY")),
                  "unknown recipient 'newdist'");
  auto p = w.ledger->proposal(id);
  REQUIRE(p);
  REQUIRE(p->has_value());
  CHECK((*p)->approvals == std::vector<std::string>{"maker"});
  CHECK_FALSE((*p)->applied);

  auto second = w.vote("reg", id);
  REQUIRE(second.accepted);
  REQUIRE(w.member("newdist") != nullptr);
  CHECK(w.member("newdist")->country == "MY");
  p = w.ledger->proposal(id);
  CHECK((*p)->applied);
  CHECK((*p)->applied_index == second.index);
  CHECK((*p)->approvals == std::vector<std::string>{"maker", "reg"});
  // The genesis trust file is unchanged; the ledger's consortium is not.
  CHECK(w.ledger->genesis().member("newdist") == nullptr);

  // The new distributor can take custody and pass it on right away.
  w.ok(w.transfer("maker", "SN1", "newdist", "MY"));
  w.ok(w.move("newdist", TxType::accept, "SN1"));
  w.ok(w.transfer("newdist", "SN1", "dc", "US"));
  CHECK(w.record("SN1").pending_to == "dc");
  // Every governance transaction is in the governance history.
  auto gov = w.ledger->history(Ledger::kGovernanceHistory, w.ledger->size());
  REQUIRE(gov);
  CHECK(gov->size() == 2);
}

TEST_CASE("governance: votes that are refused, and why", "[governance]") {
  GovWorld w;
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  require_refused(w.vote("dist", id), "member dist is not a governance admin; only admins vote");
  require_refused(w.vote("maker", id), "maker approved proposal");
  Hash unknown{};
  unknown[0] = 7;
  require_refused(w.vote("reg", unknown), "there is no proposal 0700000000000000… in this ledger");
  // Expired: signed after the proposal's lifetime (an hour).
  uint64_t late = kNow + kHour + 1000;
  require_refused(w.vote("reg", id, late), "expired 1 s before this vote was signed");
  CHECK(w.member("newdist") == nullptr);
  // Applied: a later vote is refused.
  REQUIRE(w.vote("dc", id).accepted);
  require_refused(w.vote("reg", id), "was applied already, at log index");
  // Proposals by a non-admin are refused too.
  Transaction t = w.tc.tx("dist", TxType::propose);
  t.changes = {GovWorld::about(ChangeKind::suspend_member, "maker2")};
  require_refused(w.apply(t), "member dist is not a governance admin; only admins propose");
}

TEST_CASE("governance: a proposal applies all its changes or none", "[governance]") {
  GovWorld w;
  // Invalid when proposed: the second change names a member that does not exist.
  Transaction t = w.tc.tx("maker", TxType::propose);
  t.changes = {w.add_member("a1", Role::operator_, "US"),
               GovWorld::about(ChangeKind::suspend_member, "ghost")};
  require_refused(w.apply(t), "change 2 (suspend-member ghost): member ghost does not exist");
  // Valid when proposed, invalid when the threshold is met: two proposals
  // add the same member; the second cannot apply after the first.
  Hash first = w.propose("maker", {w.add_member("a2", Role::operator_, "US")});
  Hash second = w.propose("dc", {w.add_member("a2", Role::operator_, "DE")});
  REQUIRE(w.vote("reg", first).accepted);
  require_refused(w.vote("reg", second), "meets its threshold, but its changes no longer apply");
  CHECK(w.member("a2")->country == "US");
  CHECK_FALSE((*w.ledger->proposal(second))->applied);
  // A change that would break the quorum rules or the governance rule.
  GovernanceChange weak;
  weak.kind = ChangeKind::set_governance;
  weak.rule = test_rule();
  weak.rule.admins = {"maker", "nobody"};
  weak.rule.threshold = 1;
  Transaction g = w.tc.tx("maker", TxType::propose);
  g.changes = {weak};
  require_refused(w.apply(g), "governance: admin 'nobody' is not a member");
  Transaction rm = w.tc.tx("maker", TxType::propose);
  rm.changes = {GovWorld::about(ChangeKind::remove_member, "maker")};
  require_refused(w.apply(rm), "node node1 names unknown member 'maker'");
}

TEST_CASE("governance: a suspended member can do nothing until reinstated, a removed one never",
          "[governance]") {
  GovWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1", "SN2"}));
  w.hand_over("maker", "SN1", "dist", "SG");
  Hash s = w.propose("reg", {GovWorld::about(ChangeKind::suspend_member, "dist")});
  REQUIRE(w.vote("dc", s).accepted);
  CHECK(w.member("dist")->suspended);
  require_refused(w.apply(w.transfer("dist", "SN1", "dc", "US")),
                  "member dist is suspended by a governance vote");
  require_refused(w.apply(w.transfer("maker", "SN2", "dist", "SG")),
                  "recipient dist is suspended by a governance vote");
  Hash r = w.propose("reg", {GovWorld::about(ChangeKind::reinstate_member, "dist")});
  REQUIRE(w.vote("maker", r).accepted);
  w.ok(w.transfer("dist", "SN1", "dc", "US"));

  Hash x = w.propose("reg", {GovWorld::about(ChangeKind::remove_member, "aud")});
  REQUIRE(w.vote("maker", x).accepted);
  CHECK(w.member("aud") == nullptr);
  require_refused(w.apply(w.tc.register_tx("aud", {"SN9"})), "unknown member 'aud'");
  Transaction again = w.tc.tx("maker", TxType::propose);
  again.changes = {w.add_member("aud", Role::auditor, "DE")};
  require_refused(w.apply(again), "member id aud was removed; it is never used again");
}

TEST_CASE("governance: a member rotates its key, a lost key is replaced and revoked by vote",
          "[governance]") {
  GovWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  PrivateKey old_key = *PrivateKey::from_pem(w.tc.keys.at("maker").pem());
  auto fresh = PrivateKey::generate(KeyAlgorithm::ed25519);
  Transaction rot = w.tc.tx("maker", TxType::rotate_key);
  rot.new_key = fresh->public_key().der();
  w.ok(rot);
  // The old key no longer signs for maker; the new one does.
  Transaction old_signed = w.tc.register_tx("maker", {"SN2"});
  require_refused(w.apply(*sign_transaction(old_signed, old_key)), "is not a key of member maker");
  w.tc.keys.insert_or_assign("maker", std::move(*fresh));
  w.ok(w.tc.register_tx("maker", {"SN2"}));
  // The events signed before the rotation stay in the ledger.
  CHECK(w.ledger->history("SN1", w.ledger->size())->size() == 1);

  // dist lost its key: the admins add a new one and revoke the old one.
  PrivateKey lost = *PrivateKey::from_pem(w.tc.keys.at("dist").pem());
  PublicKey replacement = w.new_key("dist-new");
  GovernanceChange add;
  add.kind = ChangeKind::add_key;
  add.member = "dist";
  add.keys = {replacement.der()};
  GovernanceChange revoke;
  revoke.kind = ChangeKind::revoke_key;
  revoke.member = "dist";
  revoke.key_id = lost.public_key().key_id();
  Hash id = w.propose("reg", {add, revoke});
  uint64_t before_revocation = w.ledger->size();
  REQUIRE(w.vote("dc", id).accepted);
  CHECK(w.ledger->size() == before_revocation + 1);
  w.ok(w.transfer("maker", "SN1", "dist", "SG"));
  // Whoever holds the lost key can no longer sign for dist...
  require_refused(w.apply(w.move("dist", TxType::accept, "SN1")), "is not a key of member dist");
  // ...and dist, with its new key, can.
  w.tc.keys.insert_or_assign("dist", *PrivateKey::from_pem(w.tc.keys.at("dist-new").pem()));
  w.ok(w.move("dist", TxType::accept, "SN1"));
  CHECK(w.record("SN1").holder == "dist");
  // A member keeps at least one key.
  GovernanceChange last;
  last.kind = ChangeKind::revoke_key;
  last.member = "aud";
  last.key_id = w.tc.keys.at("aud").public_key().key_id();
  Transaction t = w.tc.tx("reg", TxType::propose);
  t.changes = {last};
  require_refused(w.apply(t), "would leave aud without a key");
}

TEST_CASE("governance: without a rule in the trust file nothing can be changed", "[governance]") {
  RulesWorld w;  // the test consortium names no governance
  Transaction t = w.tc.tx("reg", TxType::propose);
  t.changes = {GovWorld::about(ChangeKind::suspend_member, "dist")};
  require_refused(w.apply(t), "this consortium has no governance rule");
}

TEST_CASE("governance: the consortium in force survives a restart and travels in snapshots",
          "[governance]") {
  ScratchDir scratch("chipledger-gov-");
  const fs::path& dir = scratch.path();
  GovWorld w;
  w.ledger = std::move(*Ledger::open(std::move(*RocksStore::open(dir.string())), w.tc.consortium));
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  REQUIRE(w.vote("reg", id).accepted);
  REQUIRE(w.ledger->apply_block({}, kNow, 1));  // a snapshot is taken at a Raft entry
  Bytes snap = *w.ledger->snapshot();
  w.ledger.reset();
  auto reopened = Ledger::open(std::move(*RocksStore::open(dir.string())), w.tc.consortium);
  REQUIRE(reopened);
  CHECK((*reopened)->consortium()->member("newdist") != nullptr);
  CHECK((*reopened)->consortium()->governance() == w.tc.consortium.governance());
  // Another node restoring the snapshot replays the governance from genesis.
  auto other = std::move(*Ledger::open(std::make_unique<MemoryStore>(), w.tc.consortium));
  auto restored = other->restore(snap);
  INFO(restored.reason());
  REQUIRE(restored);
  CHECK(other->consortium()->member("newdist") != nullptr);
  CHECK((*other->proposal(id))->applied);
  (*reopened).reset();
}

TEST_CASE("governance: every change kind round-trips its encoding, non-canonical bytes are refused",
          "[governance][encoding]") {
  GovWorld w;
  std::vector<GovernanceChange> all;
  all.push_back(w.add_member("newdist", Role::distributor, "MY"));
  all.back().roles = {Role::distributor, Role::operator_};
  for (ChangeKind k :
       {ChangeKind::remove_member, ChangeKind::suspend_member, ChangeKind::reinstate_member}) {
    all.push_back(GovWorld::about(k, "dist"));
  }
  GovernanceChange roles = GovWorld::about(ChangeKind::set_roles, "dist");
  roles.roles = {Role::operator_, Role::auditor};
  all.push_back(roles);
  GovernanceChange country = GovWorld::about(ChangeKind::set_country, "dist");
  country.country = "JP";
  all.push_back(country);
  GovernanceChange add = GovWorld::about(ChangeKind::add_key, "dist");
  add.keys = {w.new_key("k").der()};
  all.push_back(add);
  GovernanceChange revoke = GovWorld::about(ChangeKind::revoke_key, "dist");
  revoke.key_id[5] = 9;
  revoke.from_index = 12345;  // a revocation that reaches back
  all.push_back(revoke);
  GovernanceChange policy;
  policy.kind = ChangeKind::set_policy;
  policy.policy = TestConsortium::test_policy();
  policy.policy.permitted_install_countries = {"US", "DE"};
  all.push_back(policy);
  GovernanceChange gov;
  gov.kind = ChangeKind::set_governance;
  gov.rule = test_rule();
  all.push_back(gov);
  GovernanceChange node;
  node.kind = ChangeKind::add_node;
  node.node = "node2";
  node.member = "dc";
  node.keys = {w.new_key("node2-key").der()};
  node.api = "https://127.0.0.1:7802";
  node.raft_id = 2;
  node.raft_address = "127.0.0.1:7902";
  all.push_back(node);
  GovernanceChange gone;
  gone.kind = ChangeKind::remove_node;
  gone.node = "node1";
  all.push_back(gone);
  GovernanceChange rekey;
  rekey.kind = ChangeKind::set_node_key;
  rekey.node = "node1";
  rekey.keys = {w.new_key("node1-next").der()};
  all.push_back(rekey);
  GovernanceChange quorum;
  quorum.kind = ChangeKind::set_quorum;
  quorum.quorum = 2;
  all.push_back(quorum);
  GovernanceChange lm;
  lm.kind = ChangeKind::add_landmark;
  lm.place = "lm-iad";
  lm.member = "reg";
  lm.keys = {w.new_key("lm-key").der()};
  lm.where = *geo_point(-33.8688, 151.2093);  // both signs
  lm.country = "AU";
  lm.url = "http://127.0.0.1:7700";
  all.push_back(lm);
  GovernanceChange no_lm;
  no_lm.kind = ChangeKind::remove_landmark;
  no_lm.place = "lm-iad";
  all.push_back(no_lm);
  GovernanceChange site;
  site.kind = ChangeKind::add_site;
  site.place = "Ashburn DC 7";
  site.member = "dc";
  site.where = *geo_point(90, -180);  // the extremes
  site.country = "US";
  all.push_back(site);
  GovernanceChange no_site;
  no_site.kind = ChangeKind::remove_site;
  no_site.place = "Ashburn DC 7";
  all.push_back(no_site);
  GovernanceChange location;
  location.kind = ChangeKind::set_location_policy;
  location.location = LocationPolicy{300, 3600 * 1000, 150, 60 * 1000};
  all.push_back(location);
  GovernanceChange groups;
  groups.kind = ChangeKind::set_admin_groups;
  groups.groups = {AdminGroup{"regulators", {"dc", "reg"}, 1}};
  all.push_back(groups);
  REQUIRE(all.size() == kMaxChangeKind);

  Transaction t = w.tc.tx("maker", TxType::propose);
  t.changes = all;
  auto body = encode_body(t);
  REQUIRE(body);
  auto back = decode_body(*body);
  INFO(back.reason());
  REQUIRE(back);
  REQUIRE(back->changes.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    INFO(change_kind_name(all[i].kind));
    CHECK(back->changes[i] == all[i]);
    CHECK(change_from_json(change_to_json(all[i])).value() == all[i]);
  }
  CHECK(*encode_body(*back) == *body);
  // Without from_index, too.
  {
    Transaction plain = w.tc.tx("maker", TxType::propose);
    GovernanceChange r = revoke;
    r.from_index.reset();
    plain.changes = {r};
    auto b = encode_body(plain);
    REQUIRE(b);
    auto d = decode_body(*b);
    REQUIRE(d);
    CHECK(d->changes.at(0) == r);
    CHECK_FALSE(d->changes.at(0).from_index);
  }

  // Roles must be sorted: swap the two role names of the first change.
  Writer w1;
  w1.u8(static_cast<uint8_t>(ChangeKind::set_roles))
      .str("dist")
      .u32(2)
      .str("operator")
      .str("auditor");
  Reader r1(w1.data());
  CHECK_THAT(decode_change(r1).reason(), Catch::Contains("roles: not sorted, or a repeat"));
  Writer w2;
  w2.u8(kMaxChangeKind + 1);
  Reader r2(w2.data());
  CHECK_THAT(decode_change(r2).reason(),
             Catch::Contains("unknown change kind " + std::to_string(kMaxChangeKind + 1)));
  // A node's key is Ed25519; a Raft address is IPv4:port.
  GovernanceChange p256 = node;
  p256.keys = {PrivateKey::generate(KeyAlgorithm::ecdsa_p256)->public_key().der()};
  CHECK_THAT(check_change(p256).reason(), Catch::Contains("a node's checkpoint key is Ed25519"));
  GovernanceChange named = node;
  named.raft_address = "node2.example:7902";
  CHECK_THAT(check_change(named).reason(), Catch::Contains("not an IPv4 address with a port"));
  named.raft_address = "127.0.0.1:0";
  CHECK_THAT(check_change(named).reason(), Catch::Contains("not an IPv4 address with a port"));
  // One spelling per address: no leading zero (127.000.0.1 is 127.0.0.1).
  for (const char* spelled : {"127.000.0.1:7902", "127.0.0.1:07902", "010.0.0.1:7902"}) {
    named.raft_address = spelled;
    INFO(spelled);
    CHECK_THAT(check_change(named).reason(), Catch::Contains("not an IPv4 address with a port"));
  }
  named.raft_address = "10.0.0.10:7902";
  CHECK(check_change(named));
  Writer w3;
  w3.u8(static_cast<uint8_t>(ChangeKind::add_key)).str("dist").bytes(Bytes{1, 2, 3});
  Reader r3(w3.data());
  CHECK_THAT(decode_change(r3).reason(), Catch::Contains("key"));
  // A proposal with no change, and one with too many.
  Transaction none = w.tc.tx("maker", TxType::propose);
  CHECK_THAT(encode_body(none).reason(), Catch::Contains("a proposal makes 1 to 32 changes"));
  none.changes.assign(33, GovWorld::about(ChangeKind::suspend_member, "dist"));
  CHECK_THAT(encode_body(none).reason(), Catch::Contains("a proposal makes 1 to 32 changes"));
}

TEST_CASE("governance: a proposal record round-trips and refuses another version",
          "[governance][encoding]") {
  Proposal p;
  p.id[0] = 1;
  p.index = 42;
  p.author = "maker";
  p.time_ms = kNow;
  p.expires_ms = kNow + kHour;
  p.changes = {GovWorld::about(ChangeKind::suspend_member, "dist")};
  p.approvals = {"dc", "maker"};
  p.applied = true;
  p.applied_index = 50;
  Bytes b = p.encode();
  CHECK(Proposal::decode(b).value() == p);
  b[0] = 1;  // version 1: revoke-key changes without from_index
  CHECK_THAT(Proposal::decode(b).reason(), Catch::Contains("unknown proposal record version 1"));
}

TEST_CASE("governance: values the stored consortium could not keep exactly are refused",
          "[governance]") {
  GovWorld w;
  GovernanceChange policy;
  policy.kind = ChangeKind::set_policy;
  policy.policy = TestConsortium::test_policy();
  policy.policy.max_clock_skew_ms = 1500;
  Transaction t = w.tc.tx("maker", TxType::propose);
  t.changes = {policy};
  CHECK_THAT(encode_body(t).reason(),
             Catch::Contains("max_clock_skew_seconds must be whole seconds"));
  policy.policy.max_clock_skew_ms = 2000;
  policy.policy.max_transit_ms = 30 * 60 * 1000;
  t.changes = {policy};
  CHECK_THAT(encode_body(t).reason(), Catch::Contains("max_transit_hours must be whole hours"));
  GovernanceChange gov;
  gov.kind = ChangeKind::set_governance;
  gov.rule = test_rule();
  gov.rule.proposal_lifetime_ms = 90 * 60 * 1000;
  t.changes = {gov};
  CHECK_THAT(encode_body(t).reason(), Catch::Contains("whole hours"));
  // A whole-unit policy goes through and survives the trust-file JSON exactly.
  policy.policy.max_transit_ms = 5 * kHour;
  Hash id = w.propose("maker", {policy});
  REQUIRE(w.vote("reg", id).accepted);
  auto back = Consortium::from_json(w.ledger->consortium()->governed_json());
  REQUIRE(back);
  CHECK(back->policy().max_transit_ms == 5 * kHour);
  CHECK(back->policy().max_clock_skew_ms == 2000);
}

TEST_CASE("governance: suspended admins do not count, and enough active ones must remain",
          "[governance]") {
  GovWorld w;
  // maker proposes (its approval), then is suspended by dc and reg.
  Hash p = w.propose("maker", {GovWorld::about(ChangeKind::suspend_member, "aud")});
  Hash s = w.propose("dc", {GovWorld::about(ChangeKind::suspend_member, "maker")});
  REQUIRE(w.vote("reg", s).accepted);
  REQUIRE(w.member("maker")->suspended);
  // reg's approval is now the only one that counts: 1 of 2, nothing applied.
  REQUIRE(w.vote("reg", p).accepted);
  CHECK_FALSE(w.member("aud")->suspended);
  CHECK((*w.ledger->proposal(p))->approvals == std::vector<std::string>{"reg"});
  // Suspending a second admin would leave one active admin for a threshold of 2.
  Transaction t = w.tc.tx("reg", TxType::propose);
  t.changes = {GovWorld::about(ChangeKind::suspend_member, "dc")};
  require_refused(w.apply(t), "only 1 admins are not suspended, fewer than the threshold 2");
  REQUIRE(w.vote("dc", p).accepted);
  CHECK(w.member("aud")->suspended);
}

TEST_CASE(
    "governance: a revocation reaches back to an index, and a retired key is never used again",
    "[governance]") {
  GovWorld w;
  w.ok(w.tc.register_tx("maker", {"SN1"}));
  w.ok(w.transfer("maker", "SN1", "dist", "SG"));
  // A thief with dist's key accepts the shipment (index 2): the ledger
  // cannot tell.
  auto stolen_use = w.apply(w.move("dist", TxType::accept, "SN1"));
  REQUIRE(stolen_use.accepted);
  PrivateKey stolen = *PrivateKey::from_pem(w.tc.keys.at("dist").pem());
  GovernanceChange add = GovWorld::about(ChangeKind::add_key, "dist");
  add.keys = {w.new_key("dist-new").der()};
  GovernanceChange revoke = GovWorld::about(ChangeKind::revoke_key, "dist");
  revoke.key_id = stolen.public_key().key_id();

  // A revocation cannot reach forward, past its proposal.
  revoke.from_index = w.ledger->size() + 1;
  Transaction forward = w.tc.tx("reg", TxType::propose);
  forward.changes = {add, revoke};
  require_refused(w.apply(forward), "a revocation reaches back, never forward");

  revoke.from_index = stolen_use.index;
  Hash id = w.propose("reg", {add, revoke});
  auto applied = w.vote("dc", id);
  REQUIRE(applied.accepted);
  const RetiredKey* r = w.ledger->consortium()->retired_key(revoke.key_id);
  REQUIRE(r);
  CHECK(r->member == "dist");
  CHECK(r->from_index == stolen_use.index);
  CHECK(r->at_index == applied.index);
  // From the revocation on, the stolen key signs nothing.
  Transaction onward = w.transfer("dist", "SN1", "dc", "US");
  require_refused(w.apply(*sign_transaction(onward, stolen)), "is not a key of member dist");
  // Its id is never used again, by anyone.
  GovernanceChange again = GovWorld::about(ChangeKind::add_key, "aud");
  again.keys = {stolen.public_key().der()};
  Transaction readd = w.tc.tx("reg", TxType::propose);
  readd.changes = {again};
  require_refused(w.apply(readd), "was retired from dist");
  // A rotation retires the old key too: rotating back to it is refused.
  PrivateKey first = *PrivateKey::from_pem(w.tc.keys.at("maker").pem());
  auto second = PrivateKey::generate(KeyAlgorithm::ed25519);
  Transaction rot = w.tc.tx("maker", TxType::rotate_key);
  rot.new_key = second->public_key().der();
  auto rotated = w.apply(rot);
  REQUIRE(rotated.accepted);
  w.tc.keys.insert_or_assign("maker", std::move(*second));
  Transaction back = w.tc.tx("maker", TxType::rotate_key);
  back.new_key = first.public_key().der();
  require_refused(w.apply(back), "a retired key is never used again");
  const RetiredKey* rot_record = w.ledger->consortium()->retired_key(first.public_key().key_id());
  REQUIRE(rot_record);
  CHECK(rot_record->from_index == rotated.index);
  CHECK(rot_record->at_index == rotated.index);
  // A key rotated away can still be revoked back, only further back.
  GovernanceChange back_revoke = GovWorld::about(ChangeKind::revoke_key, "maker");
  back_revoke.key_id = first.public_key().key_id();
  back_revoke.from_index = 1;
  Hash reach = w.propose("reg", {back_revoke});
  REQUIRE(w.vote("dc", reach).accepted);
  rot_record = w.ledger->consortium()->retired_key(first.public_key().key_id());
  CHECK(rot_record->from_index == 1);
  CHECK(rot_record->at_index == rotated.index);
  Transaction not_further = w.tc.tx("reg", TxType::propose);
  not_further.changes = {back_revoke};
  not_further.time_ms = kNow + 1;  // not a replay of the first
  require_refused(w.apply(not_further), "must reach further back");
  // A removed member's keys are retired with it.
  const Hash aud_key = w.tc.keys.at("aud").public_key().key_id();
  Hash gone = w.propose("reg", {GovWorld::about(ChangeKind::remove_member, "aud")});
  REQUIRE(w.vote("dc", gone).accepted);
  REQUIRE(w.ledger->consortium()->retired_key(aud_key));
  CHECK(w.ledger->consortium()->retired_key(aud_key)->member == "aud");
  // The record survives the stored form (a restart).
  auto stored = Consortium::from_json(w.ledger->consortium()->governed_json());
  REQUIRE(stored);
  CHECK(stored->retired_keys() == w.ledger->consortium()->retired_keys());
}
