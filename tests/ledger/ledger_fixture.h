// A consortium of freshly generated keys (one member per role) and helpers
// to build signed transactions, shared by the ledger tests.
#pragma once

#include <map>
#include <string>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"
#include "ledger/transaction.h"

namespace chipledger::testing {

inline constexpr uint64_t kNow = 1790000000000;  // the ledger's clock in tests

struct TestConsortium {
  Consortium consortium;
  std::map<std::string, PrivateKey> keys;
  PrivateKey node_key;

  // The export policy the rules tests use: H100 / 3A090 are controlled, AE
  // and CN are restricted destinations.
  static Policy test_policy() {
    Policy p;
    p.controlled_models = {"H100"};
    p.controlled_eccns = {"3A090"};
    p.restricted_destinations = {"AE", "CN"};
    return p;
  }

  static TestConsortium make(uint32_t quorum = 1, Policy policy = test_policy()) {
    auto c = Consortium::create("chipledger.test/ledger", quorum, policy);
    std::map<std::string, PrivateKey> keys;
    struct M {
      const char* id;
      Role role;
      const char* country;
      KeyAlgorithm alg;
    };
    const M members[] = {{"maker", Role::manufacturer, "TW", KeyAlgorithm::ed25519},
                         {"maker2", Role::manufacturer, "KR", KeyAlgorithm::ecdsa_p256},
                         {"dist", Role::distributor, "SG", KeyAlgorithm::ecdsa_p256},
                         {"dc", Role::operator_, "US", KeyAlgorithm::ed25519},
                         {"east", Role::operator_, "AE", KeyAlgorithm::ed25519},
                         {"reg", Role::regulator, "US", KeyAlgorithm::ed25519},
                         {"aud", Role::auditor, "DE", KeyAlgorithm::ed25519}};
    for (const auto& m : members) {
      auto key = PrivateKey::generate(m.alg);
      (void)c->add_member(Member{m.id, m.id, {m.role}, m.country, {key->public_key()}, false});
      keys.emplace(m.id, std::move(*key));
    }
    auto node_key = PrivateKey::generate(KeyAlgorithm::ed25519);
    (void)c->add_node(NodeInfo{"node1", "maker", node_key->public_key(), "", 0, ""});
    return TestConsortium{std::move(*c), std::move(keys), std::move(*node_key)};
  }

  Transaction tx(const std::string& author, TxType type) const {
    Transaction t;
    t.type = type;
    t.ledger_id = consortium.ledger_id();
    t.author = author;
    t.key_id = keys.at(author).public_key().key_id();
    t.time_ms = kNow;
    return t;
  }

  Transaction register_tx(const std::string& author, std::vector<std::string> serials) const {
    Transaction t = tx(author, TxType::register_chips);
    t.model = "H100";
    t.eccn = "3A090";
    t.fab_site = "Fab 18";
    t.country = "TW";
    for (auto& s : serials) t.registrations.push_back({std::move(s), {}});
    return t;
  }

  SignedTransaction sign(const Transaction& t, const std::string& signer = "") const {
    return *sign_transaction(t, keys.at(signer.empty() ? t.author : signer));
  }
};

}  // namespace chipledger::testing
