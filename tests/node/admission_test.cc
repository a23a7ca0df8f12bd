// The submission door (node/admission.h) over a real Ledger: replays and
// duplicates are refused before the signature check, a bad signature
// reserves nothing, and at most `capacity` transactions wait at once.
#include <catch2/catch.hpp>

#include "node/admission.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;
using V = Admission::Verdict;

struct Door {
  std::unique_ptr<TestConsortium> tc = make_consortium();
  std::unique_ptr<Ledger> ledger = open_memory_ledger(tc->consortium);
  int signature_checks = 0;

  Admission::Decision admit(Admission& a, const SignedTransaction& tx, bool signature_ok = true,
                            const std::string& client = "10.0.0.1") {
    return a.admit(tx, client, [&] {
      ++signature_checks;
      return signature_ok ? ledger->check_arrival(tx) : Status::error("bad signature (test)");
    });
  }
};

TEST_CASE("admission: a replay is refused with its index, before the signature check",
          "[admission]") {
  Door d;
  Admission a(*d.ledger, 10);
  auto reg = register_tx(*d.tc, {"SN1"});
  apply_all(*d.ledger, {reg});
  auto dec = d.admit(a, reg);
  CHECK(dec.verdict == V::in_ledger);
  CHECK(dec.index == 0);
  CHECK_THAT(dec.reason, Catch::Contains("replay") && Catch::Contains("at index 0"));
  CHECK(d.signature_checks == 0);
  CHECK(a.waiting() == 0);
}

TEST_CASE("admission: a duplicate of a waiting transaction is refused until it is released",
          "[admission]") {
  Door d;
  Admission a(*d.ledger, 10);
  auto reg = register_tx(*d.tc, {"SN1"});
  REQUIRE(d.admit(a, reg).verdict == V::admitted);
  CHECK(a.waiting() == 1);
  CHECK(d.signature_checks == 1);
  auto dup = d.admit(a, reg);
  CHECK(dup.verdict == V::waiting);
  CHECK_THAT(dup.reason, Catch::Contains("already on its way"));
  CHECK(d.signature_checks == 1);  // no second signature check
  a.release(reg.txid);
  CHECK(a.waiting() == 0);
  // Released without being applied (e.g. leadership moved): admitted again.
  CHECK(d.admit(a, reg).verdict == V::admitted);
  a.release(reg.txid);
  // Applied, then released: a replay.
  apply_all(*d.ledger, {reg});
  CHECK(d.admit(a, reg).verdict == V::in_ledger);
}

TEST_CASE("admission: a bad signature reserves nothing", "[admission]") {
  Door d;
  Admission a(*d.ledger, 1);
  auto reg = register_tx(*d.tc, {"SN1"});
  auto bad = d.admit(a, reg, false);
  CHECK(bad.verdict == V::bad_signature);
  CHECK_THAT(bad.reason, Catch::Contains("bad signature"));
  CHECK(a.waiting() == 0);
  CHECK(d.admit(a, reg).verdict == V::admitted);
}

TEST_CASE("admission: at capacity the next transaction is refused as full, room comes back",
          "[admission]") {
  Door d;
  Admission a(*d.ledger, 2, 2);
  std::vector<SignedTransaction> txs;
  for (int i = 0; i < 3; ++i) txs.push_back(register_tx(*d.tc, {"SN" + std::to_string(i)}));
  REQUIRE(d.admit(a, txs[0]).verdict == V::admitted);
  REQUIRE(d.admit(a, txs[1]).verdict == V::admitted);
  auto full = d.admit(a, txs[2]);
  CHECK(full.verdict == V::full);
  CHECK_THAT(full.reason, Catch::Contains("2 transactions waiting") && Catch::Contains("retry"));
  CHECK(a.waiting() == 2);
  a.release(txs[0].txid);
  CHECK(d.admit(a, txs[2]).verdict == V::admitted);
  CHECK(a.waiting() == 2);
}

TEST_CASE("admission: one address holds at most its share, before any signature check",
          "[admission]") {
  Door d;
  Admission a(*d.ledger, 8);  // a quarter each: 2
  CHECK(a.per_client_capacity() == 2);
  std::vector<SignedTransaction> txs;
  for (int i = 0; i < 5; ++i) txs.push_back(register_tx(*d.tc, {"SN" + std::to_string(i)}));
  REQUIRE(d.admit(a, txs[0], true, "flood").verdict == V::admitted);
  REQUIRE(d.admit(a, txs[1], true, "flood").verdict == V::admitted);
  const int checks = d.signature_checks;
  auto over = d.admit(a, txs[2], true, "flood");
  CHECK(over.verdict == V::client_full);
  CHECK_THAT(over.reason,
             Catch::Contains("your address has 2") && Catch::Contains("max_pending_per_address"));
  CHECK(d.signature_checks == checks);  // refused before the signature check
  // Another address still gets in; the flooder gets in again once answered.
  CHECK(d.admit(a, txs[2], true, "honest").verdict == V::admitted);
  CHECK(a.waiting_from("flood") == 2);
  CHECK(a.waiting_from("honest") == 1);
  a.release(txs[0].txid);
  CHECK(a.waiting_from("flood") == 1);
  CHECK(d.admit(a, txs[3], true, "flood").verdict == V::admitted);
  a.release(txs[1].txid);
  a.release(txs[2].txid);
  a.release(txs[3].txid);
  a.release(txs[3].txid);  // a second release changes nothing
  CHECK(a.waiting() == 0);
  CHECK(a.waiting_from("flood") == 0);
}

}  // namespace
}  // namespace chipledger
