// Every custody rule accepts what it should and refuses what it should, with
// a reason; driven through Ledger::apply_block over a MemoryStore.
#include <catch2/catch.hpp>

#include "tests/ledger/rules_world.h"

using namespace chipledger;
using namespace chipledger::testing;

using World = RulesWorld;

TEST_CASE("a manufacturer registers serials, others may not", "[rules]") {
  World w;
  auto ok = w.apply(w.tc.register_tx("maker", {"SN1", "SN2"}));
  REQUIRE(ok.accepted);
  CHECK(ok.index == 0);
  CHECK(w.record("SN1").holder == "maker");
  CHECK(w.record("SN2").manufacturer == "maker");
  CHECK(w.record("SN1").eccn == "3A090");
  require_refused(w.apply(w.tc.register_tx("dist", {"SN3"})),
                  "only a manufacturer may register chips; dist is distributor");
  require_refused(w.apply(w.tc.register_tx("reg", {"SN3"})), "only a manufacturer");
  CHECK(w.ledger->size() == 1);
}

TEST_CASE("a serial is registered once, even by another manufacturer", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  require_refused(w.apply(w.tc.register_tx("maker2", {"SN9", "SN1"})),
                  "serial SN1 is already registered (by maker)");
  // All or nothing: SN9 of the refused transaction was not registered.
  CHECK_FALSE(w.ledger->serial("SN9")->has_value());
}

TEST_CASE("a register may carry device keys, which must parse", "[rules]") {
  World w;
  auto chip = PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  Transaction t = w.tc.register_tx("maker", {});
  t.registrations = {{"SN1", chip->public_key().der()}};
  REQUIRE(w.apply(t).accepted);
  t.registrations = {{"SN2", Bytes{1, 2, 3}}};
  require_refused(w.apply(t), "device key of serial SN2");
}

TEST_CASE("the holder transfers, the recipient accepts, custody passes", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dist")).accepted);
  CHECK(w.record("SN1").status == CustodyStatus::in_transit);
  CHECK(w.record("SN1").pending_to == "dist");
  CHECK(w.record("SN1").holder == "maker");
  REQUIRE(w.apply(w.move("dist", TxType::accept, "SN1")).accepted);
  CHECK(w.record("SN1").status == CustodyStatus::held);
  CHECK(w.record("SN1").holder == "dist");
  CHECK(w.record("SN1").events == 3);
  REQUIRE(w.apply(w.transfer("dist", "SN1", "dc")).accepted);
  REQUIRE(w.apply(w.move("dc", TxType::accept, "SN1")).accepted);
  CHECK(w.record("SN1").holder == "dc");
  CHECK(w.ledger->history("SN1", w.ledger->size())->size() == 5);
}

TEST_CASE("only the holder transfers", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  require_refused(w.apply(w.transfer("dist", "SN1", "dc")),
                  "serial SN1 is held by maker, not by dist; only the holder may transfer it");
}

TEST_CASE("nothing moves while in transit", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dist")).accepted);
  require_refused(w.apply(w.transfer("maker", "SN1", "dc")),
                  "serial SN1 is in transit to dist; it cannot move until dist accepts or rejects");
}

TEST_CASE("only the named recipient accepts or rejects", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  require_refused(w.apply(w.move("dist", TxType::accept, "SN1")), "serial SN1 is not in transit");
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dist")).accepted);
  require_refused(
      w.apply(w.move("dc", TxType::accept, "SN1")),
      "serial SN1 is in transit to dist, not to dc; only the named recipient may accept");
  require_refused(w.apply(w.move("maker", TxType::reject, "SN1")),
                  "only the named recipient may reject");
}

TEST_CASE("a reject returns custody to the sender", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dist")).accepted);
  Transaction r = w.move("dist", TxType::reject, "SN1");
  r.reason = "wrong paperwork";
  REQUIRE(w.apply(r).accepted);
  CHECK(w.record("SN1").holder == "maker");
  CHECK(w.record("SN1").status == CustodyStatus::held);
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dc")).accepted);
}

TEST_CASE("recipients must exist, hold custody and differ from the sender", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  require_refused(w.apply(w.transfer("maker", "SN1", "ghost")), "unknown recipient 'ghost'");
  require_refused(w.apply(w.transfer("maker", "SN1", "aud")),
                  "recipient aud (auditor) cannot hold custody");
  require_refused(w.apply(w.transfer("maker", "SN1", "reg")), "cannot hold custody");
  require_refused(w.apply(w.transfer("maker", "SN1", "maker")), "cannot transfer chips to itself");
}

TEST_CASE("a stale prev is refused", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1"})).accepted);
  Transaction stale = w.transfer("maker", "SN1", "dist");
  REQUIRE(w.apply(w.transfer("maker", "SN1", "dc")).accepted);
  REQUIRE(w.apply(w.move("dc", TxType::reject, "SN1")).accepted);
  stale.time_ms += 1;  // a different transaction naming the old prev
  require_refused(w.apply(stale), "stale prev for serial SN1");
}

TEST_CASE("a replayed transaction is refused", "[rules]") {
  World w;
  auto reg = w.tc.sign(w.tc.register_tx("maker", {"SN1"}));
  REQUIRE(w.apply(reg).accepted);
  require_refused(w.apply(reg), "replay: this transaction is already in the ledger at index 0");
  // Also within one block.
  auto t = w.tc.sign(w.transfer("maker", "SN1", "dist"));
  auto out = w.ledger->apply_block({PendingTx{t, false}, PendingTx{t, false}}, kNow);
  REQUIRE(out);
  CHECK((*out)[0].accepted);
  require_refused((*out)[1], "replay");
}

TEST_CASE("unknown members, keys and bad signatures are refused", "[rules]") {
  World w;
  Transaction t = w.tc.register_tx("maker", {"SN1"});
  Transaction ghost = t;
  ghost.author = "ghost";
  require_refused(w.apply(w.tc.sign(ghost, "maker")), "unknown member 'ghost'");
  require_refused(w.apply(w.tc.sign(t, "maker2")), "the signature does not verify");
  Transaction other_key = t;
  other_key.key_id = w.tc.keys.at("dist").public_key().key_id();
  require_refused(w.apply(w.tc.sign(other_key, "dist")), "is not a key of member maker");
  SignedTransaction tampered = w.tc.sign(t);
  tampered.signature[5] ^= 1;
  require_refused(w.apply(tampered), "the signature does not verify with maker's key");
  Transaction other_ledger = t;
  other_ledger.ledger_id = "chipledger.test/other";
  require_refused(w.apply(w.tc.sign(other_ledger)), "the transaction is for ledger");
  CHECK(w.ledger->size() == 0);
}

TEST_CASE("a transaction far from the ledger's clock is refused", "[rules]") {
  World w;
  auto stx = w.tc.sign(w.tc.register_tx("maker", {"SN1"}));
  require_refused(w.apply(stx, kNow + 11 * 60 * 1000), "at most 600 s is allowed");
  require_refused(w.apply(stx, kNow - 11 * 60 * 1000), "s away from the ledger's clock");
  REQUIRE(w.apply(stx, kNow + 9 * 60 * 1000).accepted);
}

TEST_CASE("a multi-serial transfer is all or nothing", "[rules]") {
  World w;
  REQUIRE(w.apply(w.tc.register_tx("maker", {"SN1", "SN2"})).accepted);
  REQUIRE(w.apply(w.transfer("maker", "SN2", "dc")).accepted);
  Transaction both = w.tc.tx("maker", TxType::transfer);
  both.to = "dist";
  both.ship_to_country = "SG";
  both.refs = {{"SN1", w.last("SN1")}, {"SN2", w.last("SN2")}};
  require_refused(w.apply(both), "serial SN2 is in transit to dc");
  CHECK(w.record("SN1").status == CustodyStatus::held);
}

TEST_CASE("one block applies transactions in order, each seeing the ones before", "[rules]") {
  World w;
  auto reg = w.tc.sign(w.tc.register_tx("maker", {"SN1"}));
  Transaction t = w.tc.tx("maker", TxType::transfer);
  t.to = "dist";
  t.ship_to_country = "SG";
  t.refs = {{"SN1", reg.txid}};
  auto transfer = w.tc.sign(t);
  Transaction a = w.tc.tx("dist", TxType::accept);
  a.refs = {{"SN1", transfer.txid}};
  auto accept = w.tc.sign(a);
  auto out = w.ledger->apply_block(
      {PendingTx{reg, false}, PendingTx{transfer, false}, PendingTx{accept, false}}, kNow);
  REQUIRE(out);
  for (const auto& o : *out) CHECK(o.accepted);
  CHECK((*out)[2].index == 2);
  CHECK(w.record("SN1").holder == "dist");
}
