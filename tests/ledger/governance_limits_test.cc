// The cap on open proposals per admin (kMaxOpenProposalsPerAdmin,
// docs/governance.md, section 3): the ledger and a verifier's governance
// timeline count the same proposals as open (not applied, not expired at
// the new proposal's signed time), in a block and across blocks, and the
// count survives a reopen.
#include <catch2/catch.hpp>

#include "ledger/governance_timeline.h"
#include "ledger/open_proposals.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/gov_world.h"
#include "tests/ledger/temp_dir.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

SignedTransaction proposal_by(GovWorld& w, const std::string& author, uint64_t time_ms) {
  Transaction t = w.tc.tx(author, TxType::propose);
  t.time_ms = time_ms;
  GovernanceChange country = GovWorld::about(ChangeKind::set_country, "dist");
  country.country = "JP";  // valid however many of them apply
  t.changes = {country};
  return w.tc.sign(t);
}

// The ledger's governance history replayed by a verifier's timeline.
GovernanceTimeline replay(const Ledger& ledger) {
  GovernanceTimeline timeline(ledger.genesis());
  auto indices = ledger.history(kGovernanceHistory, ledger.size());
  REQUIRE(indices);
  for (uint64_t i : *indices) {
    auto stx = SignedTransaction::decode(*ledger.event(i));
    REQUIRE(stx);
    auto applied = timeline.apply(*stx, i);
    INFO("index " << i << ": " << applied.reason());
    REQUIRE(applied);
  }
  return timeline;
}

}  // namespace

TEST_CASE(
    "governance limits: an admin has at most 16 open proposals, the ledger and a verifier agree",
    "[governance]") {
  ScratchDir scratch("chipledger-gov-limits-");
  GovWorld w;
  w.ledger = std::move(
      *Ledger::open(std::move(*RocksStore::open(scratch.path().string())), w.tc.consortium));
  std::vector<Hash> mine;
  // Eight in one block and the rest one per block: the count across blocks.
  std::vector<PendingTx> block;
  for (size_t i = 0; i < 8; ++i) {
    SignedTransaction stx = proposal_by(w, "maker", kNow + i);
    mine.push_back(stx.txid);
    block.push_back(PendingTx{std::move(stx), false});
  }
  auto outcomes = w.ledger->apply_block(std::move(block), kNow, std::nullopt);
  REQUIRE(outcomes);
  for (const auto& o : *outcomes) REQUIRE(o.accepted);
  for (size_t i = 8; i < kMaxOpenProposalsPerAdmin; ++i) {
    auto stx = proposal_by(w, "maker", kNow + i);
    REQUIRE(w.apply(stx).accepted);
    mine.push_back(stx.txid);
  }
  const SignedTransaction seventeenth = proposal_by(w, "maker", kNow + 100);
  require_refused(w.apply(seventeenth),
                  "maker has 16 open proposals, the most an admin may have (16)");
  // Another admin is not held back; its seventeenth in one block is refused
  // there (the block's own proposals count).
  {
    std::vector<PendingTx> dc;
    for (size_t i = 0; i <= kMaxOpenProposalsPerAdmin; ++i) {
      dc.push_back(PendingTx{proposal_by(w, "dc", kNow + 101 + i), false});
    }
    auto out = w.ledger->apply_block(std::move(dc), kNow, std::nullopt);
    REQUIRE(out);
    for (size_t i = 0; i < kMaxOpenProposalsPerAdmin; ++i) REQUIRE((*out)[i].accepted);
    require_refused(out->back(), "dc has 16 open proposals");
  }
  // The verifier's timeline counts the same: it replays every accepted
  // one, and refuses the seventeenth for the same reason.
  {
    GovernanceTimeline t = replay(*w.ledger);
    auto refused = t.apply(seventeenth, w.ledger->size());
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.reason(), Catch::Contains("maker has 16 open proposals"));
  }

  // One applied: room for one more, and only one.
  REQUIRE(w.vote("reg", mine.front()).accepted);
  REQUIRE(w.apply(proposal_by(w, "maker", kNow + 200)).accepted);
  require_refused(w.apply(proposal_by(w, "maker", kNow + 201)), "maker has 16 open proposals");
  // Counted from the store after a reopen, too.
  w.ledger.reset();
  w.ledger = std::move(
      *Ledger::open(std::move(*RocksStore::open(scratch.path().string())), w.tc.consortium));
  require_refused(w.apply(proposal_by(w, "maker", kNow + 202)), "maker has 16 open proposals");
  // Expired (proposals live an hour here): none is open any more.
  const uint64_t later = kNow + 2 * kHour;
  REQUIRE(w.apply(proposal_by(w, "maker", later), later).accepted);
  replay(*w.ledger);  // and the verifier agrees with every one accepted
}

TEST_CASE("governance limits: a proposal is open up to and at its expiry, never once applied",
          "[governance]") {
  OpenProposals open;
  Proposal a;
  a.author = "maker";
  a.expires_ms = 1000;
  a.id[0] = 1;
  Proposal b = a;
  b.id[0] = 2;
  b.expires_ms = 2000;
  Proposal other = a;
  other.author = "maker2";  // a longer id with the same start
  other.id[0] = 3;
  open.note(a);
  open.note(b);
  open.note(other);
  CHECK(open.open_at("maker", 0) == 2);
  CHECK(open.open_at("maker", 1000) == 2);  // at its expiry a vote is not late
  CHECK(open.open_at("maker", 1001) == 1);
  CHECK(open.open_at("maker", 2001) == 0);
  CHECK(open.open_at("maker2", 0) == 1);
  CHECK(open.open_at("nobody", 0) == 0);
  b.applied = true;
  open.note(b);
  CHECK(open.open_at("maker", 0) == 1);
  a.applied = true;  // applied at once (a threshold of 1): never counted
  open.note(a);
  CHECK(open.open_at("maker", 0) == 0);
}
