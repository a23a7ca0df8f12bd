// Derived trust files (client/derived_trust.h) over a ledger built
// in-process by the node's own code: the file carries its genesis and the
// proof of the consortium in force; it checks on its own and against the
// genesis a user holds, and anything else it could say is refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "client/derived_trust.h"
#include "crypto/sha256.h"
#include "ledger/governance.h"
#include "tests/client/evidence.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;

// maker and reg are admins, one approval applies a proposal. Log:
//   0 maker registers SN1     1 maker: node-1's checkpoint key is replaced
// The checkpoint of size 2 is signed by node-1's new key.
struct RotatedNodeWorld {
  std::unique_ptr<TestConsortium> tc = make_consortium();
  std::unique_ptr<Ledger> ledger;
  PrivateKey node_new = fresh_key();
  std::string genesis_text;
  Checkpoint cp;

  RotatedNodeWorld() {
    make_maker_and_reg_admins(*tc);
    genesis_text = tc->consortium.to_json();
    ledger = open_memory_ledger(tc->consortium);
    apply_all(*ledger, {register_tx(*tc, {"SN1"})});
    GovernanceChange rotate;
    rotate.kind = ChangeKind::set_node_key;
    rotate.node = tc->node_id();
    rotate.keys = {node_new.public_key().der()};
    Transaction tx = base_tx(*tc, TxType::propose, "maker", kT0 + 1);
    tx.changes = {rotate};
    apply_all(*ledger, {sign(*tc, tx)});
    REQUIRE(ledger->size() == 2);
    cp = checkpoint_of(*ledger, 2);
  }
  std::string note_by(const PrivateKey& key) const { return note_for(cp, {{tc->node_id(), &key}}); }
  std::string history() const {
    auto answer = history_json(*ledger, std::string(kGovernanceHistory), cp.size);
    return answer ? answer->dump() : "";
  }
  std::string derived() const {
    return must(make_derived_trust(genesis_text, note_by(node_new), history()));
  }
};

std::string reason_of(const Result<DerivedTrust>& r) { return r ? "" : r.reason(); }

}  // namespace

TEST_CASE("derived trust: carries its genesis and checks on its own, by the nodes in force",
          "[client][derived]") {
  RotatedNodeWorld w;
  const std::string text = w.derived();
  auto j = json::parse(text);
  CHECK(j["derived"]["genesis"] == w.genesis_text);
  CHECK(j["derived"]["genesis_sha256"] == hex_encode(sha256(w.genesis_text)));
  CHECK(j["derived"]["size"] == 2);
  CHECK(is_derived_trust(text));
  CHECK_FALSE(is_derived_trust(w.genesis_text));

  auto alone = check_derived_trust(text);
  INFO(reason_of(alone));
  REQUIRE(alone);
  CHECK(alone->genesis_text == w.genesis_text);
  CHECK(alone->genesis.ledger_id() == w.tc->ledger_id);
  CHECK(alone->checkpoint.checkpoint.size == 2);
  CHECK(alone->checkpoint.checkpoint.root == w.cp.root);
  CHECK(alone->note == w.note_by(w.node_new));
  CHECK(alone->governance_changes == 1);
  REQUIRE(alone->consortium.nodes().size() == 1);
  CHECK(alone->consortium.nodes()[0].key.der() == w.node_new.public_key().der());
  CHECK(check_derived_trust(w.genesis_text, text));

  // The genesis key no longer counts at size 2: a note by it alone is refused.
  auto by_old = make_derived_trust(w.genesis_text, w.note_by(w.tc->node_key()), w.history());
  CHECK_FALSE(by_old);
}

TEST_CASE("derived trust: another genesis, a changed genesis or none at all is refused",
          "[client][derived]") {
  RotatedNodeWorld w;
  const json good = json::parse(w.derived());

  SECTION("checked against another genesis file") {
    RotatedNodeWorld other;
    auto r = check_derived_trust(other.genesis_text, good.dump());
    CHECK(reason_of(r).find("derived from another genesis trust file") != std::string::npos);
  }
  SECTION("a derived file written before files carried their genesis") {
    json old = good;
    old["derived"].erase("genesis");
    auto r = check_derived_trust(old.dump());
    CHECK(reason_of(r).find("does not carry its genesis trust file") != std::string::npos);
  }
  SECTION("the genesis it carries changed, its digest not") {
    json forged = good;
    json g = json::parse(w.genesis_text);
    g["quorum"] = 1;
    g["ledger_id"] = "another-ledger";
    forged["derived"]["genesis"] = g.dump();
    auto r = check_derived_trust(forged.dump());
    CHECK(reason_of(r).find("not the SHA-256 of the genesis it carries") != std::string::npos);
  }
  SECTION("another genesis carried, with its digest: the checkpoint is not by its nodes") {
    RotatedNodeWorld other;
    json swapped = good;
    swapped["derived"]["genesis"] = other.genesis_text;
    swapped["derived"]["genesis_sha256"] = hex_encode(sha256(other.genesis_text));
    auto r = check_derived_trust(swapped.dump());
    CHECK_FALSE(r);
  }
  SECTION("a stated consortium the proof does not give") {
    json forged = good;
    forged["members"][0]["country"] = "SG";
    auto r = check_derived_trust(forged.dump());
    CHECK(reason_of(r).find("is not the one the governance history gives") != std::string::npos);
  }
  SECTION("the governance history without its vote") {
    json forged = good;
    json history = json::parse(forged["derived"]["governance_history"].get<std::string>());
    REQUIRE(history.contains("events"));
    history["events"] = json::array();
    forged["derived"]["governance_history"] = history.dump();
    CHECK_FALSE(check_derived_trust(forged.dump()));
  }
}

}  // namespace chipledger
