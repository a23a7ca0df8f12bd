// Admin groups (docs/governance.md, section 2): a proposal applies only
// when the threshold is met and every group gave its minimum of approvals;
// the groups' own checks and the consortium's refusals; set-admin-groups
// and set-governance, each changing its own part of the rule; the groups
// in the trust file and in the stored consortium.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/codec.h"
#include "tests/ledger/gov_world.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

// The governance world's rule (2 of maker, dc, reg) with a group of one
// regulator that must approve.
GovernanceRule rule_with_regulators() {
  GovernanceRule rule = test_rule();
  rule.groups = {AdminGroup{"regulators", {"reg"}, 1}};
  return rule;
}

struct GroupWorld : GovWorld {
  GroupWorld() { govern_by(rule_with_regulators()); }
};

GovernanceChange groups_change(std::vector<AdminGroup> groups) {
  GovernanceChange c;
  c.kind = ChangeKind::set_admin_groups;
  c.groups = std::move(groups);
  return c;
}

}  // namespace

TEST_CASE("governance groups: the threshold without a group's approval changes nothing",
          "[governance]") {
  GroupWorld w;
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  // maker and dc: two of three, the threshold, but no regulator.
  auto second = w.vote("dc", id);
  REQUIRE(second.accepted);
  CHECK(w.member("newdist") == nullptr);
  auto p = *w.ledger->proposal(id);
  REQUIRE(p.has_value());
  CHECK_FALSE(p->applied);
  CHECK(p->approvals == std::vector<std::string>{"dc", "maker"});
  const auto& rule = *w.ledger->consortium()->governance();
  RuleShortfall short_of = rule.shortfall(p->approvals);
  CHECK(short_of.overall == 0);
  REQUIRE(short_of.groups.size() == 1);
  CHECK(short_of.groups[0] == std::pair<std::string, uint32_t>{"regulators", 1});
  // The regulator's vote applies it, at that vote's index.
  auto third = w.vote("reg", id);
  REQUIRE(third.accepted);
  REQUIRE(w.member("newdist") != nullptr);
  p = *w.ledger->proposal(id);
  CHECK(p->applied);
  CHECK(p->applied_index == third.index);
}

TEST_CASE("governance groups: a group's approval without the threshold changes nothing",
          "[governance]") {
  GroupWorld w;
  Hash id = w.propose("reg", {GovWorld::about(ChangeKind::suspend_member, "dist")});
  CHECK_FALSE(w.member("dist")->suspended);  // 1 of 2, the group satisfied
  REQUIRE(w.vote("maker", id).accepted);
  CHECK(w.member("dist")->suspended);
}

TEST_CASE("governance groups: a rule whose groups could never be met is refused", "[governance]") {
  SECTION("a group naming a member who is not an admin") {
    GovWorld w;
    GovernanceRule rule = test_rule();
    rule.groups = {AdminGroup{"distributors", {"dist"}, 1}};
    REQUIRE(w.tc.consortium.set_governance(rule));
    auto v = w.tc.consortium.validate();
    REQUIRE_FALSE(v);
    CHECK_THAT(v.reason(), Catch::Contains("group distributors names dist, who is not an admin"));
  }
  SECTION("a minimum above the group's admins, a repeat, a bad name") {
    CHECK_THAT(check_admin_group(AdminGroup{"regulators", {"reg"}, 2}).reason(),
               Catch::Contains("its min 2 must be 1 to its 1 admins"));
    CHECK_THAT(check_admin_group(AdminGroup{"regulators", {"reg"}, 0}).reason(),
               Catch::Contains("its min 0 must be 1 to its 1 admins"));
    CHECK_THAT(check_admin_group(AdminGroup{"g", {"reg", "reg"}, 1}).reason(),
               Catch::Contains("lists admin reg out of order or twice"));
    CHECK_FALSE(check_admin_group(AdminGroup{"Not An Id", {"reg"}, 1}));
    CHECK_THAT(
        check_admin_groups({AdminGroup{"a", {"reg"}, 1}, AdminGroup{"a", {"dc"}, 1}}).reason(),
        Catch::Contains("group a is out of order or listed twice"));
  }
  SECTION("suspending the group's only admin") {
    GroupWorld w;
    Transaction t = w.tc.tx("maker", TxType::propose);
    t.changes = {GovWorld::about(ChangeKind::suspend_member, "reg")};
    require_refused(w.apply(t),
                    "group regulators has only 0 admins not suspended, fewer than its min 1");
  }
}

TEST_CASE("governance groups: set-admin-groups and set-governance each change their own part",
          "[governance]") {
  GovWorld w;  // no groups yet
  // Adding a group by vote: from the vote's index on, the group must approve.
  Hash g = w.propose("maker", {groups_change({AdminGroup{"regulators", {"reg"}, 1}})});
  REQUIRE(w.vote("dc", g).accepted);
  REQUIRE(w.ledger->consortium()->governance()->groups.size() == 1);
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  REQUIRE(w.vote("dc", id).accepted);
  CHECK(w.member("newdist") == nullptr);

  // A new threshold keeps the groups.
  GovernanceChange three;
  three.kind = ChangeKind::set_governance;
  three.rule = test_rule();
  three.rule.threshold = 3;
  Hash t = w.propose("reg", {three});
  REQUIRE(w.vote("maker", t).accepted);
  const auto& rule = *w.ledger->consortium()->governance();
  CHECK(rule.threshold == 3);
  CHECK(rule.groups == rule_with_regulators().groups);

  // Dropping the group's admin from the admins needs the groups changed in
  // the same proposal.
  GovernanceChange without_reg;
  without_reg.kind = ChangeKind::set_governance;
  without_reg.rule = test_rule();
  without_reg.rule.admins = {"dc", "maker"};
  Transaction alone = w.tc.tx("maker", TxType::propose);
  alone.changes = {without_reg};
  require_refused(w.apply(alone), "group regulators names reg, who is not an admin");
  Hash both = w.propose("maker", {without_reg, groups_change({})});
  REQUIRE(w.vote("dc", both).accepted);  // 2 of the 3 now needed, and no regulator
  CHECK(w.ledger->consortium()->governance()->groups.size() == 1);
  REQUIRE(w.vote("reg", both).accepted);
  CHECK(w.ledger->consortium()->governance()->groups.empty());
  CHECK(w.ledger->consortium()->governance()->admins == std::vector<std::string>{"dc", "maker"});

  // set-governance never carries groups.
  GovernanceChange mixed = without_reg;
  mixed.rule.groups = {AdminGroup{"x", {"dc"}, 1}};
  CHECK_THAT(check_change(mixed).reason(), Catch::Contains("keeps the rule's groups"));
}

TEST_CASE("governance groups: in the trust file, the stored consortium and the change's encoding",
          "[governance][encoding]") {
  GroupWorld w;
  // The trust file's form, read back the same.
  auto text = w.tc.consortium.to_json();
  auto j = nlohmann::json::parse(text);
  REQUIRE(j["governance"]["groups"] ==
          nlohmann::json::parse(R"([{"name":"regulators","admins":["reg"],"min":1}])"));
  auto back = Consortium::from_json(text);
  INFO(back.reason());
  REQUIRE(back);
  CHECK(back->governance() == w.tc.consortium.governance());
  // Without groups, none is written (trust files before groups read and
  // write the same bytes).
  GovWorld plain;
  CHECK_FALSE(
      nlohmann::json::parse(plain.tc.consortium.to_json())["governance"].contains("groups"));
  // A group in the trust file is checked like one in a change.
  j["governance"]["groups"][0]["min"] = 2;
  auto bad = Consortium::from_json(j.dump());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.reason(), Catch::Contains("its min 2 must be 1 to its 1 admins"));

  // The change's bytes: groups sorted by name, each group's admins sorted.
  GovernanceChange c = groups_change(
      {AdminGroup{"makers", {"maker"}, 1}, AdminGroup{"regulators", {"dc", "reg"}, 2}});
  Writer out;
  encode_change(out, c);
  Reader in(out.data());
  auto decoded = decode_change(in);
  INFO(decoded.reason());
  REQUIRE(decoded);
  CHECK(*decoded == c);
  CHECK(change_from_json(change_to_json(c)).value() == c);
  Writer unsorted;
  unsorted.u8(static_cast<uint8_t>(ChangeKind::set_admin_groups)).u32(2);
  unsorted.str("z").u32(1).str("dc").u32(1);
  unsorted.str("a").u32(1).str("dc").u32(1);
  Reader r2(unsorted.data());
  auto refused = decode_change(r2);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.reason(), Catch::Contains("group a is out of order or listed twice"));
}

TEST_CASE("governance groups: the admins outside a group cannot drop it", "[governance]") {
  GroupWorld w;  // 2 of maker, dc, reg, and reg must approve
  Hash drop = w.propose("maker", {groups_change({})});
  REQUIRE(w.vote("dc", drop).accepted);  // the threshold, not the group
  CHECK(w.ledger->consortium()->governance()->groups.size() == 1);
  CHECK_FALSE((*w.ledger->proposal(drop))->applied);
  // Nor by moving the regulator out of the admins, or the group onto themselves.
  GovernanceChange without_reg;
  without_reg.kind = ChangeKind::set_governance;
  without_reg.rule = test_rule();
  without_reg.rule.admins = {"dc", "maker"};
  Hash both =
      w.propose("maker", {without_reg, groups_change({AdminGroup{"regulators", {"maker"}, 1}})});
  REQUIRE(w.vote("dc", both).accepted);
  CHECK(w.ledger->consortium()->governance()->admins.size() == 3);
  CHECK_FALSE((*w.ledger->proposal(both))->applied);
  // With the regulator's approval the group goes.
  REQUIRE(w.vote("reg", drop).accepted);
  CHECK(w.ledger->consortium()->governance()->groups.empty());
}

TEST_CASE("governance groups: a group naming a member who is not an admin is refused when proposed",
          "[governance]") {
  GovWorld w;
  Transaction t = w.tc.tx("maker", TxType::propose);
  t.changes = {groups_change({AdminGroup{"distributors", {"dist"}, 1}})};
  require_refused(w.apply(t), "group distributors names dist, who is not an admin");
  CHECK(w.ledger->consortium()->governance()->groups.empty());
}

TEST_CASE("governance groups: non-canonical set-admin-groups bytes are refused",
          "[governance][encoding]") {
  auto decode = [](const Writer& bytes) {
    Reader r(bytes.data());
    return decode_change(r);
  };
  auto group = [](Writer& w, const std::string& name, std::vector<std::string> admins,
                  uint32_t min) {
    w.str(name).u32(static_cast<uint32_t>(admins.size()));
    for (const auto& a : admins) w.str(a);
    w.u32(min);
  };
  auto head = [](uint32_t groups) {
    Writer w;
    w.u8(static_cast<uint8_t>(ChangeKind::set_admin_groups)).u32(groups);
    return w;
  };
  {
    Writer w = head(1);
    group(w, "g", {"reg", "dc"}, 1);
    CHECK_THAT(decode(w).reason(), Catch::Contains("not sorted, or a repeat"));
  }
  {
    Writer w = head(1);
    group(w, "g", {"dc", "dc"}, 1);
    CHECK_THAT(decode(w).reason(), Catch::Contains("not sorted, or a repeat"));
  }
  {
    Writer w = head(1);
    group(w, "g", {"dc"}, 0);
    CHECK_THAT(decode(w).reason(), Catch::Contains("its min 0 must be 1 to its 1 admins"));
  }
  {
    Writer w = head(1);
    group(w, "g", {"dc"}, 2);
    CHECK_THAT(decode(w).reason(), Catch::Contains("its min 2 must be 1 to its 1 admins"));
  }
  {
    Writer w = head(1);
    group(w, "g", {}, 1);
    CHECK_THAT(decode(w).reason(), Catch::Contains("must list 1 to 64 admins"));
  }
  {
    Writer w = head(static_cast<uint32_t>(kMaxAdminGroups + 1));
    for (size_t i = 0; i <= kMaxAdminGroups; ++i)
      group(w, "g" + std::to_string(100 + i), {"dc"}, 1);
    CHECK_FALSE(decode(w));
  }
  {
    Writer w = head(static_cast<uint32_t>(kMaxAdminGroups));
    for (size_t i = 0; i < kMaxAdminGroups; ++i) group(w, "g" + std::to_string(100 + i), {"dc"}, 1);
    auto most = decode(w);
    INFO(most.reason());
    CHECK(most);  // 16 is allowed
  }
}

TEST_CASE("governance groups: a rule with an unknown field is refused, not read without it",
          "[governance]") {
  GovWorld w;
  auto j = nlohmann::json::parse(w.tc.consortium.to_json());
  j["governance"]["quorum_of_groups"] = 2;
  auto read = Consortium::from_json(j.dump());
  REQUIRE_FALSE(read);
  CHECK_THAT(read.reason(), Catch::Contains("governance: unknown field 'quorum_of_groups'"));
  // A trust file written before groups reads and writes the same bytes.
  j["governance"].erase("quorum_of_groups");
  auto plain = Consortium::from_json(j.dump());
  REQUIRE(plain);
  CHECK(plain->to_json() == w.tc.consortium.to_json());
}
