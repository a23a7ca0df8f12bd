// verify_custody over real evidence built in-process: a Ledger over
// MemoryStore, blocks applied directly, a checkpoint signed with the node
// keys, and the history JSON built exactly as node/api.cc builds it. Each
// way of tampering with the evidence must give proof-failure (exit 10).
// Chains that check but end with chips held and not installed name
// not-installed; tests/client/verdicts_test.cc produces every other verdict.
#include "verify/custody_verifier.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/client/evidence.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;
// The verifier's clock in these tests (attestation age, time in transit).
constexpr uint64_t kVerifyNow = 1790000000000;

// A ledger with these events (log index: what):
//   0 maker registers SN1 SN2 SN3     3 maker transfers SN2 -> op
//   1 maker registers OTHER           4 dist accepts SN1
//   2 maker transfers SN1 -> dist     5 maker transfers SN3 -> dist
//                                     6 dist rejects SN3
// so SN1 is held by dist, SN2 is in transit to op, SN3 is back with maker.
struct World {
  std::unique_ptr<TestConsortium> tc;
  std::unique_ptr<Ledger> ledger;
  Checkpoint cp;

  explicit World(uint32_t quorum = 1, size_t nodes = 1)
      : tc(make_consortium("test-ledger", quorum, nodes)),
        ledger(open_memory_ledger(tc->consortium)) {
    auto reg = register_tx(*tc, {"SN1", "SN2", "SN3"});
    apply_all(*ledger, {reg});
    apply_all(*ledger, {register_tx(*tc, {"OTHER"})});
    auto x1 = transfer_tx(*tc, "maker", "SN1", reg.txid, "dist", kT0 + 1);
    auto x2 = transfer_tx(*tc, "maker", "SN2", reg.txid, "op", kT0 + 2, "US");
    apply_all(*ledger, {x1, x2});
    apply_all(*ledger, {accept_tx(*tc, "dist", "SN1", x1.txid, kT0 + 3)});
    auto x3 = transfer_tx(*tc, "maker", "SN3", reg.txid, "dist", kT0 + 4);
    apply_all(*ledger, {x3, reject_tx(*tc, "dist", "SN3", x3.txid, kT0 + 5)});
    REQUIRE(ledger->size() == 7);
    cp = checkpoint_at(7);
  }

  Checkpoint checkpoint_at(uint64_t size) const { return checkpoint_of(*ledger, size); }
  // Signed by node-1 (node 0) unless told otherwise.
  std::string note(const Checkpoint& c) const {
    return note_for(c, {{tc->node_id(), &tc->node_key()}});
  }
  std::string note() const { return note(cp); }
  json history(const std::string& serial) const {
    auto h = history_json(*ledger, serial, cp.size);
    REQUIRE(h.has_value());
    return *h;
  }
  VerifyReport verify(const std::string& serial, const std::string& note,
                      const std::optional<json>& history) const {
    return verify_custody(tc->consortium, serial, note, history_evidence(serial, history),
                          kVerifyNow);
  }
};

// The report is a proof failure; returns its reason.
std::string proof_failure(const VerifyReport& r) {
  REQUIRE_FALSE(r.ok());
  INFO(r.findings.front().second);
  REQUIRE(r.findings.front().first == Finding::proof_failure);
  REQUIRE(r.verdict() == "proof-failure");
  REQUIRE(r.exit_code() == 10);
  json j = r.to_json();
  REQUIRE(j["verdict"] == "proof-failure");
  REQUIRE(j["findings"][0]["finding"] == "proof-failure");
  REQUIRE(j["findings"][0]["exit_code"] == 10);
  return r.findings.front().second;
}

// Flips one hex digit of a hex string.
std::string flip_hex(std::string h, size_t at = 0) {
  h[at] = h[at] == '0' ? '1' : '0';
  return h;
}

TEST_CASE("a complete register -> transfer -> accept chain checks, held: not-installed",
          "[verifier]") {
  World w;
  json h = w.history("SN1");
  REQUIRE(h["events"].size() == 3);
  VerifyReport r = w.verify("SN1", w.note(), h);
  INFO(describe(r));
  REQUIRE(finding_names(r) == std::vector<std::string>{"not-installed"});
  REQUIRE_THAT(r.findings[0].second, Catch::Contains("held by dist, not installed"));
  REQUIRE(r.verdict() == "not-installed");
  REQUIRE(r.exit_code() == 17);
  REQUIRE(r.holder == "dist");
  REQUIRE(r.status == "held");
  REQUIRE(r.location == "NL");
  REQUIRE(r.model == "H100");
  REQUIRE(r.checkpoint_size == 7);
  REQUIRE(r.checkpoint_signers == std::vector<std::string>{"node-1"});
  REQUIRE(r.chain.size() == 3);
  REQUIRE(r.chain[0].index == 0);
  REQUIRE(r.chain[0].member == "maker");
  REQUIRE(r.chain[0].role == "manufacturer");
  REQUIRE(r.chain[0].country == "TW");
  REQUIRE(r.chain[1].index == 2);
  REQUIRE_THAT(r.chain[1].event, Catch::Contains("dist"));
  REQUIRE(r.chain[1].time_ms == kT0 + 1);
  REQUIRE(r.chain[2].index == 4);
  REQUIRE(r.chain[2].member == "dist");
  REQUIRE(r.chain[2].role == "distributor");

  json j = r.to_json();
  REQUIRE(j["verdict"] == "not-installed");
  REQUIRE(j["exit_code"] == 17);
  REQUIRE(j["findings"].size() == 1);
  REQUIRE(j["findings"][0]["finding"] == "not-installed");
  REQUIRE(j["findings"][0]["exit_code"] == 17);
  REQUIRE(j["findings"][0]["meaning"] == std::string(finding_meaning(Finding::not_installed)));
  REQUIRE(j["serial"] == "SN1");
  REQUIRE(j["holder"] == "dist");
  REQUIRE(j["status"] == "held");
  REQUIRE(j["chain"].size() == 3);
  REQUIRE(j["checkpoint"]["size"] == 7);

  // The node's own "root" field is not trusted, so changing it changes nothing.
  h["root"] = std::string(64, '0');
  REQUIRE(w.verify("SN1", w.note(), h).verdict() == "not-installed");
}

TEST_CASE("a transfer answered by a reject leaves the sender holding it", "[verifier]") {
  World w;
  VerifyReport r = w.verify("SN3", w.note(), w.history("SN3"));
  INFO(describe(r));
  REQUIRE(finding_names(r) == std::vector<std::string>{"not-installed"});
  REQUIRE(r.holder == "maker");
  REQUIRE(r.status == "held");
  REQUIRE(r.location == "TW");
  REQUIRE(r.chain.size() == 3);
  REQUIRE_THAT(r.chain[2].event, Catch::Contains("reject"));
}

TEST_CASE("no events: not-registered, exit 11, only with the state map's absence proof",
          "[verifier]") {
  World w;
  auto answer = history_json(*w.ledger, "NOPE", 7);  // the 404 with its absence proof
  REQUIRE_FALSE(answer->contains("events"));
  // A 404 with no proof, or with a registered serial's state, is no proof
  // that the serial is not registered.
  proof_failure(w.verify("NOPE", w.note(), std::nullopt));
  json other = *answer;
  other["state"] = (*history_json(*w.ledger, "SN1", 7))["state"];
  proof_failure(w.verify("NOPE", w.note(), other));
  other["state"]["record"] = nullptr;  // SN1's presence proof offered as absence
  proof_failure(w.verify("NOPE", w.note(), other));
  VerifyReport r = w.verify("NOPE", w.note(), answer);
  REQUIRE(r.findings.size() == 1);
  REQUIRE(r.findings[0].first == Finding::not_registered);
  REQUIRE(r.verdict() == "not-registered");
  REQUIRE(r.exit_code() == 11);
  json j = r.to_json();
  REQUIRE(j["verdict"] == "not-registered");
  REQUIRE(j["findings"][0]["finding"] == "not-registered");
  REQUIRE(j["findings"][0]["exit_code"] == 11);
  REQUIRE(j["findings"][0]["reason"].is_string());

  // An answer with an empty event list is not a registration either, but
  // only the absence proof makes it "not registered".
  json empty{{"serial", "NOPE"}, {"size", 7}, {"root", ""}, {"events", json::array()}};
  proof_failure(w.verify("NOPE", w.note(), empty));
  empty["state"] = (*answer)["state"];
  REQUIRE(w.verify("NOPE", w.note(), empty).exit_code() == 11);

  // A serial registered after the checkpoint is not registered as of it.
  std::string old = w.note(w.checkpoint_at(1));
  REQUIRE(history_json(*w.ledger, "SN1", 1).has_value());
  REQUIRE(w.verify("OTHER", old, history_json(*w.ledger, "OTHER", 1)).exit_code() == 11);

  // But a bad checkpoint is a proof failure first, whatever the history says.
  proof_failure(w.verify("NOPE", "not a note", std::nullopt));
}

TEST_CASE("a transfer not accepted for over max_transit_hours: in-transit, exit 12", "[verifier]") {
  World w;
  // SN2 went in transit at kT0 + 2; kVerifyNow is years later.
  VerifyReport r = w.verify("SN2", w.note(), w.history("SN2"));
  INFO(describe(r));
  REQUIRE(finding_names(r) == std::vector<std::string>{"in-transit", "not-installed"});
  REQUIRE_THAT(r.findings[0].second, Catch::Contains("to op"));
  REQUIRE_THAT(r.findings[0].second, Catch::Contains("over the policy's 336 h"));
  REQUIRE(r.verdict() == "in-transit");
  REQUIRE(r.exit_code() == 12);
  REQUIRE(r.status == "in-transit");
  REQUIRE(r.holder == "maker");
  REQUIRE(r.in_transit_for_ms == kVerifyNow - (kT0 + 2));
  REQUIRE(r.chain.size() == 2);
  json j = r.to_json();
  REQUIRE(j["verdict"] == "in-transit");
  REQUIRE(j["findings"][0]["exit_code"] == 12);
  REQUIRE(j["status"] == "in-transit");
  REQUIRE(j["in_transit_for_ms"] == kVerifyNow - (kT0 + 2));

  // SN1 at an older checkpoint (size 4, the end of the block of x1 and x2:
  // checkpoints are at block ends, where the ledger has a state root) was
  // in transit too.
  Checkpoint cp4 = w.checkpoint_at(4);
  auto h4 = history_json(*w.ledger, "SN1", 4);
  REQUIRE(w.verify("SN1", w.note(cp4), h4).exit_code() == 12);

  // A transit shorter than the policy's limit is reported with its
  // duration, not as a finding: the chip is simply not installed yet.
  VerifyReport recent =
      verify_custody(w.tc->consortium, "SN2", w.note(), history_evidence("SN2", w.history("SN2")),
                     kT0 + 2 + 5 * 3600 * 1000);
  INFO(describe(recent));
  REQUIRE(finding_names(recent) == std::vector<std::string>{"not-installed"});
  REQUIRE(recent.in_transit_for_ms == 5 * 3600 * 1000);
  REQUIRE_THAT(recent.findings[0].second, Catch::Contains("in transit to op for 5 h"));
}

TEST_CASE("tampered checkpoints are proof failures", "[verifier]") {
  World w;
  json h = w.history("SN1");

  SECTION("signed by a key not in the consortium, under a node's name") {
    PrivateKey rogue = fresh_key();
    proof_failure(w.verify("SN1", note_for(w.cp, {{"node-1", &rogue}}), h));
  }
  SECTION("signed by a key not in the consortium, under an unknown name") {
    PrivateKey rogue = fresh_key();
    proof_failure(w.verify("SN1", note_for(w.cp, {{"node-9", &rogue}}), h));
  }
  SECTION("signed by a member's transaction key instead of the node key") {
    proof_failure(w.verify("SN1", note_for(w.cp, {{"node-1", &w.tc->maker}}), h));
  }
  SECTION("a checkpoint for another origin") {
    Checkpoint other = w.cp;
    other.origin = "other-ledger";
    REQUIRE_THAT(proof_failure(w.verify("SN1", w.note(other), h)), Catch::Contains("other-ledger"));
  }
  SECTION("the root altered and re-signed by the node") {
    Checkpoint bad = w.cp;
    bad.root[0] ^= 0x80;
    REQUIRE_THAT(proof_failure(w.verify("SN1", w.note(bad), h)),
                 Catch::Contains("inclusion proof"));
  }
  SECTION("the root altered in the note text after signing") {
    std::string note = w.note();
    std::string root64 = base64_encode(w.cp.root);
    Hash other = w.cp.root;
    other[31] ^= 1;
    size_t at = note.find(root64);
    REQUIRE(at != std::string::npos);
    note.replace(at, root64.size(), base64_encode(other));
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("the size altered in the note text after signing") {
    std::string note = w.note();
    size_t at = note.find("\n7\n");
    REQUIRE(at != std::string::npos);
    note.replace(at, 3, "\n6\n");
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("a checkpoint that commits to no state root") {
    Checkpoint none = w.cp;
    none.extensions.clear();
    REQUIRE_THAT(proof_failure(w.verify("SN1", w.note(none), h)),
                 Catch::Contains("commits to no state root"));
  }
  SECTION("no signature at all") { proof_failure(w.verify("SN1", w.cp.text(), h)); }
  SECTION("an empty note") { proof_failure(w.verify("SN1", "", h)); }
}

TEST_CASE("the quorum counts distinct consortium nodes", "[verifier]") {
  World w(/*quorum=*/2, /*nodes=*/3);
  json h = w.history("SN1");
  const auto& tc = *w.tc;
  auto n1 = std::make_pair(tc.node_id(0), &tc.node_key(0));
  auto n2 = std::make_pair(tc.node_id(1), &tc.node_key(1));
  PrivateKey rogue = fresh_key();

  SECTION("one signature of two") {
    REQUIRE_THAT(proof_failure(w.verify("SN1", note_for(w.cp, {n1}), h)),
                 Catch::Contains("quorum is 2"));
  }
  SECTION("the same node twice") { proof_failure(w.verify("SN1", note_for(w.cp, {n1, n1}), h)); }
  SECTION("one node plus an unknown signer") {
    proof_failure(w.verify("SN1", note_for(w.cp, {n1, {"node-9", &rogue}}), h));
  }
  SECTION("one node plus a forged signature under another node's name") {
    proof_failure(w.verify("SN1", note_for(w.cp, {n1, {tc.node_id(1), &rogue}}), h));
  }
  SECTION("two distinct nodes meet the quorum") {
    VerifyReport r = w.verify("SN1", note_for(w.cp, {n2, {"node-9", &rogue}, n1}), h);
    require_evidence_checks(r);
    REQUIRE(r.checkpoint_signers == std::vector<std::string>{"node-1", "node-2"});
  }
}

TEST_CASE("tampered events are proof failures", "[verifier]") {
  World w;
  const std::string note = w.note();
  json h = w.history("SN1");
  require_evidence_checks(w.verify("SN1", note, h));

  SECTION("tx bytes altered (the signature no longer verifies)") {
    Bytes wire = must(base64_decode(h["events"][1]["tx"].get<std::string>()));
    auto stx = must(SignedTransaction::decode(wire));
    Transaction tx = stx.tx;
    tx.to = "op";  // redirect the transfer
    SignedTransaction forged{tx, must(encode_body(tx)), stx.signature, {}};
    h["events"][1]["tx"] = base64_encode(forged.wire());
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("signature"));
  }
  SECTION("a signature byte altered") {
    Bytes wire = must(base64_decode(h["events"][0]["tx"].get<std::string>()));
    wire.back() ^= 0x01;
    h["events"][0]["tx"] = base64_encode(wire);
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("signature"));
  }
  SECTION("a validly signed event that is not in the log") {
    // Signed by the right member, but never applied: its proof cannot match.
    auto stx = accept_tx(*w.tc, "dist", "SN1",
                         must(hash_from_hex(h["events"][1]["txid"].get<std::string>())), kT0 + 99);
    h["events"][2]["tx"] = base64_encode(stx.wire());
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("inclusion proof"));
  }
  SECTION("a proof hash altered") {
    auto& proof = h["events"][1]["proof"];
    REQUIRE_FALSE(proof.empty());
    proof[0] = flip_hex(proof[0].get<std::string>());
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("inclusion proof"));
  }
  SECTION("a proof hash dropped") {
    h["events"][2]["proof"].erase(h["events"][2]["proof"].size() - 1);
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("a proof hash added") {
    h["events"][0]["proof"].push_back(std::string(64, 'a'));
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("a proof entry that is not hex") {
    h["events"][0]["proof"][0] = "zz";
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("an event's index altered") {
    h["events"][1]["index"] = 3;
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("an event removed from the middle (the prev chain breaks)") {
    h["events"].erase(1);
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("prev chain"));
  }
  SECTION("the registration removed") {
    h["events"].erase(0);
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("events reordered: transfer and accept swapped") {
    std::swap(h["events"][1], h["events"][2]);
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("events reversed") {
    std::reverse(h["events"].begin(), h["events"].end());
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("an event repeated") {
    h["events"].push_back(h["events"][2]);
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("another serial's event slipped in") {
    json other = w.history("OTHER");
    h["events"].insert(h["events"].begin() + 1, other["events"][0]);
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("SN1"));
  }
  SECTION("another serial's history presented as this one's") {
    proof_failure(w.verify("SN1", note, w.history("SN2")));
  }
  SECTION("an event without tx") {
    h["events"][1].erase("tx");
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("an event whose tx is not base64") {
    h["events"][1]["tx"] = "%%%";
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("an event without a proof") {
    h["events"][1].erase("proof");
    proof_failure(w.verify("SN1", note, h));
  }
}

TEST_CASE("a history whose size is not the checkpoint's is a proof failure", "[verifier]") {
  World w;
  const std::string note = w.note();
  json h = w.history("SN1");

  SECTION("size field changed, proofs unchanged") {
    h["size"] = 6;
    REQUIRE_THAT(proof_failure(w.verify("SN1", note, h)), Catch::Contains("size"));
  }
  SECTION("a genuine history at an older size") {
    auto older = history_json(*w.ledger, "SN1", 5);
    REQUIRE(older.has_value());
    proof_failure(w.verify("SN1", note, older));
  }
  SECTION("a genuine history at a newer size than the checkpoint") {
    proof_failure(w.verify("SN1", w.note(w.checkpoint_at(5)), h));
  }
  SECTION("size missing") {
    h.erase("size");
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("events missing") {
    h.erase("events");
    proof_failure(w.verify("SN1", note, h));
  }
  SECTION("not an object") { proof_failure(w.verify("SN1", note, json::array())); }
}

TEST_CASE("a malformed size field is a proof failure, not an exception", "[verifier]") {
  // A node answering {"size": "7"} (or null) must not crash the verifier.
  World w;
  const std::string note = w.note();
  json h = w.history("SN1");
  SECTION("size as a string") { h["size"] = "7"; }
  SECTION("size null") { h["size"] = nullptr; }
  std::optional<VerifyReport> r;
  REQUIRE_NOTHROW(r = w.verify("SN1", note, h));
  proof_failure(*r);
}

}  // namespace
}  // namespace chipledger

namespace chipledger {
namespace {

// The report is a stale-checkpoint only; returns its reason.
std::string stale_checkpoint(const VerifyReport& r) {
  INFO(describe(r));
  REQUIRE(finding_names(r) == std::vector<std::string>{"stale-checkpoint"});
  REQUIRE(r.exit_code() == 21);
  json j = r.to_json();
  REQUIRE(j["verdict"] == "stale-checkpoint");
  REQUIRE(j["exit_code"] == 21);
  return r.findings.front().second;
}

constexpr uint64_t kNowS = kVerifyNow / 1000;

}  // namespace

TEST_CASE("a checkpoint older than max_checkpoint_age is a stale-checkpoint for every serial",
          "[verifier][freshness]") {
  World w(/*quorum=*/2, /*nodes=*/3);
  const auto& tc = *w.tc;
  REQUIRE(tc.consortium.policy().max_checkpoint_age_ms == 600'000);
  json h = w.history("SN1");
  auto at = [&](uint64_t t0, uint64_t t1, uint64_t t2) {
    return note_at_times(w.cp, {{tc.node_id(0), &tc.node_key(0), t0},
                                {tc.node_id(1), &tc.node_key(1), t1},
                                {tc.node_id(2), &tc.node_key(2), t2}});
  };
  SECTION("every signature 601 s old: stale, naming the age and the limit") {
    std::string reason = stale_checkpoint(w.verify(
        "SN1",
        note_for(w.cp, {{tc.node_id(0), &tc.node_key(0)}, {tc.node_id(1), &tc.node_key(1)}},
                 kNowS - 601),
        h));
    CHECK_THAT(reason, Catch::Contains("601 s old") && Catch::Contains("allows 600 s"));
  }
  SECTION("600 s old is still fresh; the report carries the age and the times") {
    VerifyReport r = w.verify("SN1", at(kNowS - 600, kNowS - 5, kNowS - 9000), h);
    require_evidence_checks(r);
    CHECK(r.checkpoint_age_ms == 600'000);
    json j = r.to_json()["checkpoint"];
    CHECK(j["age_ms"] == 600'000);
    CHECK(j["signed_at"]["node-1"] == kNowS - 600);
    CHECK(j["signed_at"]["node-2"] == kNowS - 5);
    CHECK(j["signed_at"]["node-3"] == kNowS - 9000);
  }
  SECTION("one fresh signer does not make a quorum of two fresh") {
    stale_checkpoint(w.verify("SN1", at(kNowS, kNowS - 700, kNowS - 800), h));
  }
  SECTION("a stale note's report still names its checkpoint and signers") {
    VerifyReport r = w.verify("SN1", at(kNowS - 3600, kNowS - 3600, kNowS - 3600), h);
    stale_checkpoint(r);
    CHECK(r.checkpoint_size == 7);
    CHECK(r.checkpoint_age_ms == 3'600'000);
    CHECK(r.checkpoint_signers.size() == 3);
  }
  SECTION("a checkpoint that does not verify stays a proof-failure") {
    proof_failure(
        w.verify("SN1", note_for(w.cp, {{tc.node_id(0), &tc.node_key(0)}}, kNowS - 9000), h));
  }
  SECTION("one verifier: every report, single or batch, of every serial carries it") {
    CustodyVerifier v(tc.consortium, at(kNowS - 700, kNowS - 700, kNowS - 700));
    v.assume_no_governance();  // a ledger without governance
    REQUIRE(v.checkpoint());
    for (const std::string serial : {"SN1", "SN2", "SN3", "NOPE"}) {
      INFO(serial);
      stale_checkpoint(verify(v, serial, history_json(*w.ledger, serial, w.cp.size), kVerifyNow));
      stale_checkpoint(
          verify_in_batch(v, serial, histories_json(*w.ledger, {serial}, w.cp.size), kVerifyNow));
    }
    // The same verifier at an earlier clock finds it fresh.
    require_evidence_checks(verify(v, "SN1", h, kVerifyNow - 200'000));
  }
  SECTION("a stricter trust file's policy decides") {
    auto j = json::parse(tc.consortium.to_json());
    j["policy"]["max_checkpoint_age_seconds"] = 10;
    Consortium strict_trust = must(Consortium::from_json(j.dump()));
    CHECK(strict_trust.policy().max_checkpoint_age_ms == 10'000);
    VerifyReport r = verify_custody(strict_trust, "SN1", at(kNowS - 11, kNowS - 11, kNowS),
                                    history_evidence("SN1", h), kVerifyNow);
    CHECK_THAT(stale_checkpoint(r), Catch::Contains("11 s old") && Catch::Contains("allows 10 s"));
  }
}

}  // namespace chipledger
