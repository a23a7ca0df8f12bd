// CustodyVerifier: many serials against one checkpoint. The checkpoint's
// quorum is checked once and each event once, however many histories carry
// it; every report must be the one a fresh verify_custody gives, and a
// tampered copy of an event already verified (in a later serial's history)
// must still be a proof-failure.
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/client/evidence.h"
#include "verify/custody_verifier.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;
constexpr uint64_t kVerifyNow = 1790000000000;

// Two pallets of 10 serials (log indices 0 and 1), then each serial
// transferred to dist and accepted (one block per transaction), except P0-9,
// left with the maker, and P1-0, in transit to op. 3 nodes, quorum 2; the
// note carries all 3 signatures.
struct Pallets {
  std::unique_ptr<TestConsortium> tc = make_consortium("test-ledger", 2, 3);
  std::unique_ptr<Ledger> ledger = open_memory_ledger(tc->consortium);
  std::vector<std::string> serials;
  Checkpoint cp;
  std::string note;
  size_t distinct_events = 0;

  Pallets() {
    for (int p = 0; p < 2; ++p) {
      std::vector<std::string> pallet;
      for (int i = 0; i < 10; ++i)
        pallet.push_back("P" + std::to_string(p) + "-" + std::to_string(i));
      serials.insert(serials.end(), pallet.begin(), pallet.end());
      apply_all(*ledger, {register_tx(*tc, pallet)});
    }
    for (size_t i = 0; i < serials.size(); ++i) {
      const std::string& s = serials[i];
      Hash reg = must(SignedTransaction::decode(must(ledger->event(i / 10)))).txid;
      if (s == "P0-9") continue;
      bool to_op = s == "P1-0";
      auto x =
          transfer_tx(*tc, "maker", s, reg, to_op ? "op" : "dist", kT0 + i, to_op ? "US" : "NL");
      apply_all(*ledger, {x});
      if (!to_op) apply_all(*ledger, {accept_tx(*tc, "dist", s, x.txid, kT0 + 100 + i)});
    }
    distinct_events = ledger->size();
    cp = checkpoint_of(*ledger, ledger->size());
    note = note_for(cp, {{tc->node_id(0), &tc->node_key(0)},
                         {tc->node_id(1), &tc->node_key(1)},
                         {tc->node_id(2), &tc->node_key(2)}});
  }
  std::optional<json> history(const std::string& serial) const {
    return history_json(*ledger, serial, cp.size);
  }
  json batch(const std::vector<std::string>& which) const {
    return histories_json(*ledger, which, cp.size);
  }
  VerifyReport fresh(const std::string& serial) const {
    return verify_custody(tc->consortium, serial, note, history_evidence(serial, history(serial)),
                          kVerifyNow);
  }
};

std::string proof_failure(const VerifyReport& r) {
  INFO(describe(r));
  REQUIRE_FALSE(r.findings.empty());
  REQUIRE(r.findings.front().first == Finding::proof_failure);
  REQUIRE(r.exit_code() == 10);
  return r.findings.front().second;
}

// Flips one bit of the base64 transaction's signature (its last bytes).
std::string flip_signature(const std::string& tx64) {
  Bytes wire = must(base64_decode(tx64));
  wire.back() ^= 0x01;
  return base64_encode(wire);
}

TEST_CASE("a CustodyVerifier gives the reports of fresh verify_custody, each event checked once",
          "[batch-verifier]") {
  Pallets w;
  std::vector<std::string> serials = w.serials;
  serials.push_back("NOPE");  // not registered
  size_t entries = 0;
  for (const auto& s : w.serials) entries += w.history(s)->at("events").size();

  SECTION("histories as GET /v1/chips/S/history answers them") {
    CustodyVerifier v(w.tc->consortium, w.note);
    v.assume_no_governance();  // a ledger without governance
    REQUIRE(v.checkpoint());
    REQUIRE(v.stats().signatures == 3);  // the note's three signatures, once
    for (const auto& s : serials) {
      VerifyReport cached = verify(v, s, w.history(s), kVerifyNow);
      INFO(s << ": " << describe(cached));
      REQUIRE(cached.to_json() == w.fresh(s).to_json());
      if (s != "NOPE") require_evidence_checks(cached);
    }
    REQUIRE(v.stats().events_checked == w.distinct_events);
    REQUIRE(v.stats().events_reused == entries - w.distinct_events);
    REQUIRE(v.stats().signatures == 3 + w.distinct_events);
  }
  SECTION("one POST /v1/histories answer, and again in a second answer") {
    CustodyVerifier v(w.tc->consortium, w.note);
    v.assume_no_governance();  // a ledger without governance
    json batch = w.batch(serials);
    for (const auto& s : serials) {
      VerifyReport cached = verify_in_batch(v, s, batch, kVerifyNow);
      INFO(s << ": " << describe(cached));
      REQUIRE(cached.to_json() == w.fresh(s).to_json());
    }
    REQUIRE(v.stats().events_checked == w.distinct_events);
    REQUIRE(v.stats().signatures == 3 + w.distinct_events);
    // A second answer (as the next chunk of a CSV would bring) reuses it all.
    json again = w.batch({"P0-3", "P1-7"});
    REQUIRE(verify_in_batch(v, "P1-7", again, kVerifyNow).to_json() == w.fresh("P1-7").to_json());
    REQUIRE(v.stats().events_checked == w.distinct_events);
  }
  SECTION("the verdicts are each serial's own") {
    CustodyVerifier v(w.tc->consortium, w.note);
    v.assume_no_governance();  // a ledger without governance
    json batch = w.batch(serials);
    REQUIRE(verify_in_batch(v, "P0-0", batch, kVerifyNow).holder == "dist");
    REQUIRE(verify_in_batch(v, "P0-9", batch, kVerifyNow).holder == "maker");
    VerifyReport transit = verify_in_batch(v, "P1-0", batch, kVerifyNow);
    REQUIRE(transit.status == "in-transit");
    REQUIRE(transit.verdict() == "in-transit");
    REQUIRE(verify_in_batch(v, "NOPE", batch, kVerifyNow).verdict() == "not-registered");
  }
}

TEST_CASE("a tampered copy of an event already verified is still a proof failure",
          "[batch-verifier]") {
  Pallets w;
  // P0-1 shares the register event at index 0 with P0-0, verified first.
  CustodyVerifier v(w.tc->consortium, w.note);
  v.assume_no_governance();  // a ledger without governance
  require_evidence_checks(verify(v, "P0-0", w.history("P0-0"), kVerifyNow));
  json h = *w.history("P0-1");
  REQUIRE(h["events"][0]["index"] == 0);
  uint64_t checked = v.stats().events_checked;

  SECTION("its signature altered") {
    h["events"][0]["tx"] = flip_signature(h["events"][0]["tx"].get<std::string>());
    REQUIRE_THAT(proof_failure(verify(v, "P0-1", h, kVerifyNow)), Catch::Contains("signature"));
  }
  SECTION("its proof altered") {
    std::string p = h["events"][0]["proof"][0].get<std::string>();
    p[0] = p[0] == '0' ? '1' : '0';
    h["events"][0]["proof"][0] = p;
    REQUIRE_THAT(proof_failure(verify(v, "P0-1", h, kVerifyNow)),
                 Catch::Contains("inclusion proof"));
  }
  SECTION("its proof cut short") {
    h["events"][0]["proof"].erase(0);
    proof_failure(verify(v, "P0-1", h, kVerifyNow));
  }
  SECTION("another validly signed registration at the same index") {
    auto other = register_tx(*w.tc, {"P0-1", "P0-2"}, kT0 + 7);
    h["events"][0]["tx"] = base64_encode(other.wire());
    REQUIRE_THAT(proof_failure(verify(v, "P0-1", h, kVerifyNow)),
                 Catch::Contains("inclusion proof"));
  }
  SECTION("another event of the log, already proven at its own index") {
    json h0 = *w.history("P0-0");
    h["events"][2]["tx"] = h0["events"][2]["tx"];  // P0-0's accept in place of P0-1's
    REQUIRE_THAT(proof_failure(verify(v, "P0-1", h, kVerifyNow)),
                 Catch::Contains("inclusion proof"));
  }
  SECTION("in a POST /v1/histories answer") {
    json batch = w.batch({"P0-1", "P0-2"});
    std::string& tx = batch["events"]["0"]["tx"].get_ref<std::string&>();
    tx = flip_signature(tx);
    proof_failure(verify_in_batch(v, "P0-1", batch, kVerifyNow));
    proof_failure(verify_in_batch(v, "P0-2", batch, kVerifyNow));
  }
  REQUIRE(v.stats().events_checked > checked);  // checked in full, not reused
  // The honest copy still verifies: a failure leaves nothing behind.
  VerifyReport honest = verify(v, "P0-1", w.history("P0-1"), kVerifyNow);
  REQUIRE(honest.to_json() == w.fresh("P0-1").to_json());
}

TEST_CASE("a CustodyVerifier over a bad checkpoint fails every serial", "[batch-verifier]") {
  Pallets w;
  CustodyVerifier v(w.tc->consortium, note_for(w.cp, {{w.tc->node_id(0), &w.tc->node_key(0)}}));
  v.assume_no_governance();  // a ledger without governance
  REQUIRE_FALSE(v.checkpoint());
  REQUIRE(v.stats().signatures == 1);
  REQUIRE_THAT(proof_failure(verify(v, "P0-0", w.history("P0-0"), kVerifyNow)),
               Catch::Contains("quorum is 2"));
  json batch = w.batch({"P0-0"});
  proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow));
  proof_failure(verify_in_batch(v, "NOPE", batch, kVerifyNow));
  REQUIRE(v.stats().events_checked == 0);
}

TEST_CASE("a POST /v1/histories answer that does not fit is a proof failure", "[batch-verifier]") {
  Pallets w;
  CustodyVerifier v(w.tc->consortium, w.note);
  v.assume_no_governance();  // a ledger without governance
  json batch = w.batch({"P0-0", "P0-1", "NOPE"});

  SECTION("a serial it lacks") {
    REQUIRE_THAT(proof_failure(verify_in_batch(v, "P0-5", batch, kVerifyNow)),
                 Catch::Contains("lacks serial P0-5"));
  }
  SECTION("another size") {
    batch["size"] = w.cp.size - 1;
    REQUIRE_THAT(proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow)),
                 Catch::Contains("size"));
  }
  SECTION("an index without its event") {
    batch["events"].erase("0");
    REQUIRE_THAT(proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow)),
                 Catch::Contains("lacks tx or index"));
  }
  SECTION("an index of another serial's event") {
    batch["histories"]["P0-0"][1] = batch["histories"]["P0-1"][1];
    proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow));
  }
  SECTION("an event dropped from a serial's list") {
    batch["histories"]["P0-0"].erase(1);
    REQUIRE_THAT(proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow)),
                 Catch::Contains("prev chain"));
  }
  SECTION("indices out of order") {
    std::swap(batch["histories"]["P0-0"][1], batch["histories"]["P0-0"][2]);
    proof_failure(verify_in_batch(v, "P0-0", batch, kVerifyNow));
  }
  SECTION("no events: not registered") {
    REQUIRE(verify_in_batch(v, "NOPE", batch, kVerifyNow).verdict() == "not-registered");
  }
}

}  // namespace
}  // namespace chipledger
