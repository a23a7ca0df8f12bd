// GovernanceTimeline (ledger/governance_timeline.h) against the ledger: a
// verifier that replays the ledger's governance history from the genesis
// trust file obtains, at every log index, the consortium the ledger had in
// force there, the ledger's proposals, and the governance history's record
// the state map commits; a history with an event left out does not.
#include "ledger/governance_timeline.h"

#include <catch2/catch.hpp>
#include <iostream>
#include <map>
#include <random>

#include "ledger/custody_rules.h"
#include "tests/ledger/gov_world.h"
#include "tests/test_seed.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

// A random walk of governance (and a few custody) transactions, most of
// them accepted, some refused by the rules (non-admin votes, duplicates,
// expired proposals, invalid changes).
struct RandomGovernance {
  GovWorld w;
  std::mt19937_64 rng;
  uint64_t now = kNow;
  std::vector<Hash> proposals;
  // The consortium in force from index I on, as the ledger had it.
  std::map<uint64_t, std::string> in_force_from;
  int accepted = 0, refused = 0, added = 0;

  // `groups`: the rule starts with a regulators' group (reg must approve),
  // and the walk changes the groups too.
  RandomGovernance(uint64_t seed, bool groups) : rng(seed), with_groups(groups) {
    if (groups) {
      GovernanceRule rule = test_rule();
      rule.groups = {AdminGroup{"regulators", {"reg"}, 1}};
      w.govern_by(rule);
    }
    in_force_from[0] = w.ledger->consortium()->governed_json();
  }
  bool with_groups = false;

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  std::string any_member() {
    auto members = w.ledger->consortium()->members();
    auto it = members.begin();
    std::advance(it, static_cast<long>(pick(members.size())));
    return it->first;
  }

  GovernanceChange random_change() {
    if (with_groups && pick(6) == 0) {
      GovernanceChange c;
      c.kind = ChangeKind::set_admin_groups;
      switch (pick(3)) {
        case 0:
          break;  // none
        case 1:
          c.groups = {AdminGroup{"regulators", {"reg"}, 1}};
          break;
        default:
          c.groups = {AdminGroup{"industry", {"dc", "maker"}, 1},
                      AdminGroup{"regulators", {"reg"}, 1}};
      }
      return c;
    }
    switch (pick(6)) {
      case 0:
        return w.add_member("new" + std::to_string(added++), Role::distributor, "MY");
      case 1:
        return GovWorld::about(ChangeKind::suspend_member, any_member());
      case 2:
        return GovWorld::about(ChangeKind::reinstate_member, any_member());
      case 3: {
        auto c = GovWorld::about(ChangeKind::set_country, any_member());
        c.country = pick(2) ? "DE" : "FR";
        return c;
      }
      case 4: {
        auto c = GovWorld::about(ChangeKind::set_roles, any_member());
        c.roles = {pick(2) ? Role::distributor : Role::operator_};
        return c;
      }
      default: {
        auto c = GovWorld::about(ChangeKind::add_key, any_member());
        c.keys = {PrivateKey::generate(KeyAlgorithm::ed25519)->public_key().der()};
        return c;
      }
    }
  }

  Transaction next() {
    const std::string author = pick(5) ? std::vector<std::string>{"maker", "dc", "reg"}[pick(3)]
                                       : std::string("dist");  // not an admin
    size_t kind = pick(10);
    if (kind < 4 || proposals.empty()) {
      Transaction t = w.tc.tx(author, TxType::propose);
      t.changes = {random_change()};
      if (pick(4) == 0) t.changes.push_back(random_change());
      return t;
    }
    if (kind < 9) {
      Transaction t = w.tc.tx(author, TxType::vote);
      t.proposal = proposals[proposals.size() - 1 - pick(std::min<size_t>(proposals.size(), 4))];
      return t;
    }
    return w.tc.register_tx("maker", {"SN-" + std::to_string(accepted + refused)});
  }

  void step() {
    now += pick(20) * 60 * 1000;  // proposals live an hour: some expire
    Transaction t = next();
    t.time_ms = now;
    // A member that is rotating signs with its current key, names a new one.
    std::optional<PrivateKey> rotated;
    if (pick(12) == 0) {
      t = w.tc.tx(std::vector<std::string>{"maker", "dc", "reg", "dist"}[pick(4)],
                  TxType::rotate_key);
      t.time_ms = now;
      rotated = *PrivateKey::generate(KeyAlgorithm::ed25519);
      t.new_key = rotated->public_key().der();
    }
    SignedTransaction stx = w.tc.sign(t);
    TxOutcome out = w.apply(stx, now);
    if (!out.accepted) {
      ++refused;
      return;
    }
    ++accepted;
    if (t.type == TxType::propose) proposals.push_back(stx.txid);
    if (rotated) w.tc.keys.insert_or_assign(t.author, std::move(*rotated));
    in_force_from[out.index + 1] = w.ledger->consortium()->governed_json();
  }
};

// The ledger's governance history, each event checked and applied the way a
// verifier does (signature against the consortium in force at its index).
// `skip`: an index left out, as a lying node would.
Result<GovernanceTimeline> follow(const Ledger& ledger, std::optional<uint64_t> skip = {}) {
  GovernanceTimeline timeline(ledger.genesis());
  auto indices = ledger.history(kGovernanceHistory, ledger.size());
  if (!indices) return indices.status();
  for (uint64_t i : *indices) {
    if (skip && i == *skip) continue;
    auto wire = ledger.event(i);
    if (!wire) return wire.status();
    auto stx = SignedTransaction::decode(*wire);
    if (!stx) return stx.status();
    CL_TRY(check_signature(timeline.at(i), *stx).context("index " + std::to_string(i)));
    CL_TRY(timeline.apply(*stx, i).context("index " + std::to_string(i)));
  }
  return timeline;
}

}  // namespace

TEST_CASE(
    "governance timeline: a replay of the ledger's governance history gives its consortium "
    "at every index",
    "[governance][property]") {
  const uint64_t seed = test_seed();
  std::cout << "governance timeline seed " << seed << " (CHIPLEDGER_TEST_SEED)\n";
  INFO("seed " << seed);
  size_t changes = 0;
  for (int run = 0; run < 8; ++run) {
    // Odd runs with admin groups (docs/governance.md, section 2).
    RandomGovernance g(seed + static_cast<uint64_t>(run), run % 2 == 1);
    // 120 steps, and on until the history is long enough to say something
    // (a few seeds accept only about 20 in 120), with a bound on the steps.
    int steps = 0;
    while (steps < 120 || ((g.accepted < 25 || g.refused < 6) && steps < 2000)) {
      g.step();
      ++steps;
    }
    INFO("run " << run << ": " << g.accepted << " accepted, " << g.refused << " refused in "
                << steps << " steps");
    REQUIRE(g.accepted >= 25);
    REQUIRE(g.refused >= 6);
    const Ledger& ledger = *g.w.ledger;

    auto timeline = follow(ledger);
    INFO(timeline.reason());
    REQUIRE(timeline);
    // The consortium in force at every index, the ledger's.
    for (uint64_t i = 0; i < ledger.size(); ++i) {
      auto from = std::prev(g.in_force_from.upper_bound(i));
      REQUIRE(timeline->at(i).governed_json() == from->second);
    }
    REQUIRE(timeline->latest().governed_json() == ledger.consortium()->governed_json());
    changes += timeline->changes();
    // The record the state map commits, and the proposals.
    auto committed = ledger.serial(kGovernanceHistory);
    REQUIRE(committed);
    REQUIRE(*committed == timeline->record());
    auto kept = ledger.proposals();
    REQUIRE(kept);
    REQUIRE(kept->size() == timeline->proposals().size());
    for (const auto& p : *kept) REQUIRE(timeline->proposals().at(p.id) == p);

    // A history with one event left out never gives the committed record:
    // either its replay is refused, or it ends elsewhere.
    auto indices = *ledger.history(kGovernanceHistory, ledger.size());
    REQUIRE(!indices.empty());
    uint64_t left_out = indices[g.pick(indices.size())];
    auto partial = follow(ledger, left_out);
    INFO("left out index " << left_out);
    CHECK((!partial || partial->record() != *committed));
  }
  // The walks changed the consortium many times (proposals applied, keys rotated).
  CHECK(changes > 16);
}

TEST_CASE(
    "governance timeline: a change is in force from the next index, out-of-order events are "
    "refused",
    "[governance]") {
  GovWorld w;
  Hash id = w.propose("maker", {w.add_member("newdist", Role::distributor, "MY")});
  auto vote = w.vote("reg", id);
  REQUIRE(vote.accepted);
  auto t = follow(*w.ledger);
  REQUIRE(t);
  CHECK(t->changes() == 1);
  CHECK(t->at(vote.index).member("newdist") == nullptr);
  CHECK(t->at(vote.index + 1).member("newdist") != nullptr);
  CHECK(t->genesis().member("newdist") == nullptr);
  REQUIRE(t->record());
  CHECK(t->record()->events == 2);
  CHECK(t->record()->last_index == vote.index);

  // The vote again, at an earlier index than the last: refused, nothing changed.
  GovernanceTimeline again(w.ledger->genesis());
  auto first = SignedTransaction::decode(*w.ledger->event(vote.index - 1));
  auto second = SignedTransaction::decode(*w.ledger->event(vote.index));
  REQUIRE(again.apply(*first, vote.index - 1));
  Status late = again.apply(*second, vote.index - 1);
  REQUIRE_FALSE(late);
  CHECK_THAT(late.reason(), Catch::Contains("not in log order"));
  CHECK(again.changes() == 0);
  // A custody event is not a governance one.
  Status custody = again.apply(w.tc.sign(w.tc.register_tx("maker", {"SN9"})), vote.index + 5);
  CHECK_THAT(custody.reason(), Catch::Contains("not a governance transaction"));
}
