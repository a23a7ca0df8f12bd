// Attestations in the verified log (docs/api.md, "Attestations"): the
// checkpoint a chip signed must be proven a prefix of the checkpoint the
// verifier trusts. Honest evidence from a real Ledger verifies; evidence
// without the consistency proof, with an altered one, or from a log in
// which a lying quorum accepted an attestation of another history's root
// is a proof-failure naming the attestation.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/client/evidence.h"
#include "tests/client/story.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;

// GPU-1 delivered to the operator, installed and attested; OTHER-1,
// registered in the second block, is in the prefix the attestation signed.
struct AttestedStory : Story {
  uint64_t attest_index = 0;
  AttestedStory() {
    register_chips({"GPU-1"});
    register_chips({"OTHER-1"});
    deliver_installed_attested("GPU-1");
    attest_index = ledger->size() - 1;
  }
  std::string note(uint64_t now, const Checkpoint& cp) const {
    return note_for(cp, {{tc->node_id(), &tc->node_key()}}, now / 1000);
  }
  std::string note(uint64_t now) const { return note(now, checkpoint_of(*ledger, ledger->size())); }
  uint64_t now() const { return t + kHour; }
};

Transaction event_tx(const json& event) {
  return must(SignedTransaction::decode(must(base64_decode(event["tx"].get<std::string>())))).tx;
}

void require_proof_failure(const VerifyReport& r, const std::string& part) {
  INFO(describe(r));
  REQUIRE(finding_names(r) == std::vector<std::string>{"proof-failure"});
  REQUIRE_THAT(r.findings[0].second, Catch::Contains(part));
}

json hex_list(const std::vector<Hash>& hs) {
  json out = json::array();
  for (const auto& h : hs) out.push_back(hex_encode(h));
  return out;
}

TEST_CASE("attestation: the history carries its consistency proof, and it verifies",
          "[verifier][attestation]") {
  AttestedStory s;
  const uint64_t size = s.ledger->size();
  json single = *history_json(*s.ledger, "GPU-1", size);
  size_t with_proof = 0;
  for (const auto& e : single["events"]) {
    const bool attest = e["index"] == s.attest_index;
    CHECK(e.contains("consistency") == attest);
    with_proof += e.contains("consistency") ? 1 : 0;
  }
  REQUIRE(with_proof == 1);
  json batch = histories_json(*s.ledger, {"GPU-1"}, size);
  REQUIRE(batch["events"][std::to_string(s.attest_index)].contains("consistency"));
  REQUIRE_FALSE(batch["events"]["0"].contains("consistency"));

  CustodyVerifier v(s.tc->consortium, s.note(s.now()));
  v.assume_no_governance();  // a ledger without governance
  VerifyReport one = verify(v, "GPU-1", single, s.now());
  INFO(describe(one));
  REQUIRE(one.ok());
  VerifyReport many = verify_in_batch(v, "GPU-1", batch, s.now());
  INFO(describe(many));
  REQUIRE(many.ok());
}

TEST_CASE("attestation: a history without its consistency proof is a proof-failure",
          "[verifier][attestation]") {
  AttestedStory s;
  const uint64_t size = s.ledger->size();
  json single = *history_json(*s.ledger, "GPU-1", size);
  for (auto& e : single["events"]) e.erase("consistency");
  CustodyVerifier v(s.tc->consortium, s.note(s.now()));
  v.assume_no_governance();  // a ledger without governance
  require_proof_failure(verify(v, "GPU-1", single, s.now()), "no consistency proof");

  json batch = histories_json(*s.ledger, {"GPU-1"}, size);
  batch["events"][std::to_string(s.attest_index)].erase("consistency");
  CustodyVerifier fresh(s.tc->consortium, s.note(s.now()));
  fresh.assume_no_governance();  // a ledger without governance
  require_proof_failure(verify_in_batch(fresh, "GPU-1", batch, s.now()), "no consistency proof");
}

TEST_CASE("attestation: an altered consistency proof is a proof-failure, also after an honest one",
          "[verifier][attestation]") {
  AttestedStory s;
  const uint64_t size = s.ledger->size();
  json honest = *history_json(*s.ledger, "GPU-1", size);
  CustodyVerifier v(s.tc->consortium, s.note(s.now()));
  v.assume_no_governance();  // a ledger without governance
  REQUIRE(verify(v, "GPU-1", honest, s.now()).ok());
  for (size_t flip = 0; flip < 3; ++flip) {
    json altered = honest;
    for (auto& e : altered["events"]) {
      if (!e.contains("consistency")) continue;
      if (flip == 2) {
        e["consistency"].push_back(hex_encode(Hash{}));  // one hash too many
      } else {
        REQUIRE_FALSE(e["consistency"].empty());
        std::string h = e["consistency"][0];
        h[flip == 0 ? 0 : h.size() - 1] = h[flip == 0 ? 0 : h.size() - 1] == 'a' ? 'b' : 'a';
        e["consistency"][0] = h;
      }
    }
    INFO("alteration " << flip);
    // The verifier reuses an event only when leaf and proofs are exactly the
    // ones it checked: the altered copy is checked again, and fails.
    require_proof_failure(verify(v, "GPU-1", altered, s.now()), "consistency proof");
  }
}

// A lying quorum's log: the ledger's leaves with OTHER-1's registration (in
// the attested prefix) replaced by another signed transaction, every proof
// recomputed over the new tree and the checkpoint signed over its root.
// GPU-1's events and its state are unchanged; only the root its chip
// signed is no longer this log's.
json forged_history(const AttestedStory& s, bool replace, Checkpoint& cp) {
  const uint64_t size = s.ledger->size();
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(merkle::leaf_hash(must(s.ledger->event(i))));
  if (replace) {
    Transaction other = s.tx("maker", TxType::register_chips);
    other.model = "H100";
    other.eccn = "3A090";
    other.fab_site = "Fab 18";
    other.country = "TW";
    other.registrations.push_back({"OTHER-2", {}});
    leaves[1] = merkle::leaf_hash(sign(*s.tc, other).wire());
  }
  const Hash root = merkle::root_from_leaf_hashes(leaves);
  cp = Checkpoint::make(s.tc->ledger_id, size, root, must(s.ledger->state_root_at(size)));
  json h = *history_json(*s.ledger, "GPU-1", size);
  h["root"] = hex_encode(root);
  for (auto& e : h["events"]) {
    const uint64_t index = e["index"];
    e["proof"] = hex_list(merkle::inclusion_proof(leaves, index));
    if (e.contains("consistency")) {
      const uint64_t attested = event_tx(e).checkpoint_size;
      e["consistency"] = hex_list(merkle::consistency_proof(leaves, attested));
    }
  }
  return h;
}

TEST_CASE("attestation: a root from another history is a proof-failure (a lying quorum's log)",
          "[verifier][attestation]") {
  AttestedStory s;
  Checkpoint cp;
  {
    // Control: the same construction over the ledger's own leaves verifies.
    json own = forged_history(s, false, cp);
    VerifyReport r = verify_custody(s.tc->consortium, "GPU-1", s.note(s.now(), cp),
                                    history_evidence("GPU-1", own), s.now());
    INFO(describe(r));
    REQUIRE(r.ok());
  }
  json forged = forged_history(s, true, cp);
  VerifyReport r = verify_custody(s.tc->consortium, "GPU-1", s.note(s.now(), cp),
                                  history_evidence("GPU-1", forged), s.now());
  require_proof_failure(r, "is not a prefix of the verified checkpoint");
  REQUIRE_THAT(r.findings[0].second,
               Catch::Contains("event at index " + std::to_string(s.attest_index)));
}

}  // namespace
}  // namespace chipledger
