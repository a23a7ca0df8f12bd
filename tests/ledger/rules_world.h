// A ledger over a MemoryStore with the test consortium, and helpers that
// build, sign and apply one transaction at a time: the rules tests' world.
#pragma once

#include <catch2/catch.hpp>

#include "ledger/memory_store.h"
#include "tests/ledger/ledger_fixture.h"

namespace chipledger::testing {

struct RulesWorld {
  TestConsortium tc = TestConsortium::make();
  std::unique_ptr<Ledger> ledger =
      std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));

  TxOutcome apply(const SignedTransaction& stx, uint64_t now = kNow) {
    auto out = ledger->apply_block({PendingTx{stx, false}}, now);
    REQUIRE(out);
    REQUIRE(out->size() == 1);
    return (*out)[0];
  }
  TxOutcome apply(const Transaction& t, uint64_t now = kNow) { return apply(tc.sign(t), now); }
  void ok(const Transaction& t, uint64_t now = kNow) {
    auto out = apply(t, now);
    INFO("refused: " << out.reason);
    REQUIRE(out.accepted);
  }

  Hash last(const std::string& serial) {
    auto rec = ledger->serial(serial);
    REQUIRE(rec);
    REQUIRE(rec->has_value());
    return (*rec)->last_event;
  }
  SerialRecord record(const std::string& serial) { return **ledger->serial(serial); }

  Transaction move(const std::string& author, TxType type, const std::string& serial) {
    Transaction t = tc.tx(author, type);
    t.refs = {{serial, last(serial)}};
    return t;
  }
  Transaction transfer(const std::string& author, const std::string& serial, const std::string& to,
                       const std::string& ship_to = "SG") {
    Transaction t = move(author, TxType::transfer, serial);
    t.to = to;
    t.ship_to_country = ship_to;
    return t;
  }
  // Moves a serial from its holder to `to` (transfer + accept).
  void hand_over(const std::string& from, const std::string& serial, const std::string& to,
                 const std::string& ship_to) {
    ok(transfer(from, serial, to, ship_to));
    ok(move(to, TxType::accept, serial));
  }
};

inline void require_refused(const TxOutcome& out, const std::string& reason_part) {
  INFO("reason: " << out.reason);
  REQUIRE_FALSE(out.accepted);
  REQUIRE_THAT(out.reason, Catch::Contains(reason_part));
}

}  // namespace chipledger::testing
