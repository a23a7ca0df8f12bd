// Test helper (header-only): an in-memory consortium with freshly generated
// keys, a Ledger over MemoryStore, and builders for signed custody
// transactions. Depends on the ledger and crypto modules only, so both the
// node and the client tests can include it ("tests/node/test_consortium.h").
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"
#include "ledger/memory_store.h"
#include "ledger/transaction.h"

namespace chipledger::testing {

// Unwraps a Result in a test, failing the test with its reason.
template <typename T>
T must(Result<T> r) {
  INFO(r.reason());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

inline void must_ok(const Status& s) {
  INFO(s.reason());
  REQUIRE(s.is_ok());
}

inline PrivateKey fresh_key(KeyAlgorithm alg = KeyAlgorithm::ed25519) {
  return must(PrivateKey::generate(alg));
}

// A fixed time well inside any plausible clock (2024-01-01T00:00:00Z).
inline constexpr uint64_t kT0 = 1704067200000;

// Members "maker" (manufacturer, TW, Ed25519), "dist" (distributor, NL,
// ECDSA P-256), "op" (operator, US, Ed25519) and "reg" (regulator, US), and
// `node_count` nodes "node-1".. run by "maker", each with its own Ed25519
// checkpoint key.
struct TestConsortium {
  std::string ledger_id;
  PrivateKey maker;
  PrivateKey dist;
  PrivateKey op;
  PrivateKey reg;
  std::vector<std::pair<std::string, PrivateKey>> nodes;  // id, checkpoint key
  Consortium consortium;

  const PrivateKey& key_of(const std::string& member) const {
    if (member == "maker") return maker;
    if (member == "dist") return dist;
    if (member == "op") return op;
    REQUIRE(member == "reg");
    return reg;
  }
  const std::string& node_id(size_t i = 0) const { return nodes.at(i).first; }
  const PrivateKey& node_key(size_t i = 0) const { return nodes.at(i).second; }
};

inline Member make_member(std::string id, Role role, std::string country, const PrivateKey& key) {
  Member m;
  m.id = id;
  m.name = "Org " + id;
  m.roles = {role};
  m.country = std::move(country);
  m.keys = {key.public_key()};
  return m;
}

inline std::unique_ptr<TestConsortium> make_consortium(std::string ledger_id = "test-ledger",
                                                       uint32_t quorum = 1, size_t node_count = 1,
                                                       Policy policy = Policy{}) {
  auto c = must(Consortium::create(ledger_id, quorum, policy));
  auto tc = std::unique_ptr<TestConsortium>(new TestConsortium{ledger_id,
                                                               fresh_key(),
                                                               fresh_key(KeyAlgorithm::ecdsa_p256),
                                                               fresh_key(),
                                                               fresh_key(),
                                                               {},
                                                               std::move(c)});
  must_ok(tc->consortium.add_member(make_member("maker", Role::manufacturer, "TW", tc->maker)));
  must_ok(tc->consortium.add_member(make_member("dist", Role::distributor, "NL", tc->dist)));
  must_ok(tc->consortium.add_member(make_member("op", Role::operator_, "US", tc->op)));
  must_ok(tc->consortium.add_member(make_member("reg", Role::regulator, "US", tc->reg)));
  for (size_t i = 0; i < node_count; ++i) {
    std::string id = "node-" + std::to_string(i + 1);
    PrivateKey k = fresh_key();
    must_ok(tc->consortium.add_node(NodeInfo{id, "maker", k.public_key(), "", 0, ""}));
    tc->nodes.emplace_back(id, std::move(k));
  }
  return tc;
}

// maker and reg as the admins, one approval applying a proposal, which
// expires after an hour.
inline void make_maker_and_reg_admins(TestConsortium& tc) {
  GovernanceRule rule;
  rule.admins = {"maker", "reg"};
  rule.threshold = 1;
  rule.proposal_lifetime_ms = 3600 * 1000;
  must_ok(tc.consortium.set_governance(rule));
  must_ok(tc.consortium.validate());
}

inline std::unique_ptr<Ledger> open_memory_ledger(const Consortium& c) {
  return must(Ledger::open(std::make_unique<MemoryStore>(), c));
}

// --- transaction builders -------------------------------------------------

inline Transaction base_tx(const TestConsortium& tc, TxType type, const std::string& author,
                           uint64_t time_ms) {
  Transaction tx;
  tx.type = type;
  tx.ledger_id = tc.ledger_id;
  tx.author = author;
  tx.key_id = tc.key_of(author).public_key().key_id();
  tx.time_ms = time_ms;
  return tx;
}

inline SignedTransaction sign(const TestConsortium& tc, const Transaction& tx) {
  return must(sign_transaction(tx, tc.key_of(tx.author)));
}

inline SignedTransaction register_tx(const TestConsortium& tc,
                                     const std::vector<std::string>& serials,
                                     uint64_t time_ms = kT0, const std::string& author = "maker",
                                     const std::string& model = "H100") {
  Transaction tx = base_tx(tc, TxType::register_chips, author, time_ms);
  tx.model = model;
  tx.eccn = "3A090";
  tx.fab_site = "Fab 18";
  tx.country = "TW";
  for (const auto& s : serials) tx.registrations.push_back(RegisterItem{s, {}});
  return sign(tc, tx);
}

inline SignedTransaction transfer_tx(const TestConsortium& tc, const std::string& author,
                                     const std::string& serial, const Hash& prev,
                                     const std::string& to, uint64_t time_ms = kT0,
                                     const std::string& ship_to = "NL") {
  Transaction tx = base_tx(tc, TxType::transfer, author, time_ms);
  tx.to = to;
  tx.ship_to_country = ship_to;
  tx.refs.push_back(SerialRef{serial, prev});
  return sign(tc, tx);
}

inline SignedTransaction accept_tx(const TestConsortium& tc, const std::string& author,
                                   const std::string& serial, const Hash& prev,
                                   uint64_t time_ms = kT0) {
  Transaction tx = base_tx(tc, TxType::accept, author, time_ms);
  tx.refs.push_back(SerialRef{serial, prev});
  return sign(tc, tx);
}

inline SignedTransaction reject_tx(const TestConsortium& tc, const std::string& author,
                                   const std::string& serial, const Hash& prev,
                                   uint64_t time_ms = kT0, const std::string& reason = "damaged") {
  Transaction tx = base_tx(tc, TxType::reject, author, time_ms);
  tx.reason = reason;
  tx.refs.push_back(SerialRef{serial, prev});
  return sign(tc, tx);
}

// Applies one block directly to the ledger; every transaction must be accepted.
inline std::vector<TxOutcome> apply_all(Ledger& ledger, const std::vector<SignedTransaction>& txs,
                                        uint64_t block_time_ms = kT0) {
  std::vector<PendingTx> pending;
  for (const auto& t : txs) pending.push_back(PendingTx{t, false});
  auto outcomes = must(ledger.apply_block(std::move(pending), block_time_ms));
  for (const auto& o : outcomes) {
    INFO(o.reason);
    REQUIRE(o.accepted);
  }
  return outcomes;
}

}  // namespace chipledger::testing
