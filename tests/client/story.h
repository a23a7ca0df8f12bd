// Test helper (header-only): a custody story told to a real Ledger over
// MemoryStore, one block per step at a clock that advances a second a step
// (the ledger's rules deciding each step), and what a verifier concludes
// from the node's evidence at the latest size.
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/client/evidence.h"
#include "verify/custody_verifier.h"

namespace chipledger::testing {

constexpr uint64_t kSecond = 1000;
constexpr uint64_t kHour = 3600 * kSecond;

// H100 is controlled; AE and CN are restricted destinations. Attestations
// must be younger than 168 h, transits shorter than 336 h (the defaults).
inline Policy export_policy() {
  Policy p;
  p.controlled_models = {"H100"};
  p.controlled_eccns = {"3A090"};
  p.restricted_destinations = {"AE", "CN"};
  return p;
}

// The test consortium (maker TW, dist NL, op US, reg US) and its ledger.
// Every step is one block at the story's clock, which advances a second a
// step; each chip registered here has its own ECDSA P-256 device key.
struct Story {
  std::unique_ptr<TestConsortium> tc;
  std::unique_ptr<Ledger> ledger;
  std::map<std::string, PrivateKey> chip_keys;
  uint64_t t = kT0;

  explicit Story(Policy policy = export_policy())
      : tc(make_consortium("verdict-ledger", 1, 1, std::move(policy))),
        ledger(open_memory_ledger(tc->consortium)) {}

  Transaction tx(const std::string& author, TxType type) const {
    return base_tx(*tc, type, author, t);
  }
  Hash last(const std::string& serial) const {
    auto rec = must(ledger->serial(serial));
    REQUIRE(rec.has_value());
    return rec->last_event;
  }
  SerialRecord record(const std::string& serial) const {
    auto rec = must(ledger->serial(serial));
    REQUIRE(rec.has_value());
    return *rec;
  }
  Transaction on(const std::string& author, TxType type, const std::string& serial) const {
    Transaction x = tx(author, type);
    x.refs.push_back({serial, last(serial)});
    return x;
  }
  // Applies `x` as one block; the ledger must accept it.
  void ok(const Transaction& x) {
    apply_all(*ledger, {sign(*tc, x)}, t);
    t += kSecond;
  }
  // Applies `x` as one block; the ledger must refuse it with `reason`.
  void refused(const Transaction& x, const std::string& reason) {
    auto out = must(ledger->apply_block({PendingTx{sign(*tc, x), false}}, t));
    REQUIRE(out.size() == 1);
    INFO(out[0].reason);
    REQUIRE_FALSE(out[0].accepted);
    REQUIRE_THAT(out[0].reason, Catch::Contains(reason));
  }

  void register_chips(const std::vector<std::string>& serials, const std::string& model = "H100") {
    Transaction x = tx("maker", TxType::register_chips);
    x.model = model;
    x.eccn = model == "H100" ? "3A090" : "";
    x.fab_site = "Fab 18";
    x.country = "TW";
    for (const auto& s : serials) {
      PrivateKey key = fresh_key(KeyAlgorithm::ecdsa_p256);
      x.registrations.push_back({s, key.public_key().der()});
      chip_keys.emplace(s, std::move(key));
    }
    ok(x);
  }
  Transaction transfer(const std::string& from, const std::string& serial, const std::string& to,
                       const std::string& ship_to, const std::string& license = "") const {
    Transaction x = on(from, TxType::transfer, serial);
    x.to = to;
    x.ship_to_country = ship_to;
    x.license_id = license;
    return x;
  }
  void hand_over(const std::string& from, const std::string& serial, const std::string& to,
                 const std::string& ship_to, const std::string& license = "") {
    ok(transfer(from, serial, to, ship_to, license));
    ok(on(to, TxType::accept, serial));
  }
  void install(const std::string& serial, const std::string& country = "US") {
    Transaction x = on("op", TxType::install, serial);
    x.site = "site-1";
    x.country = country;
    ok(x);
  }
  // The holder's attestation of `serial` (a chip, or a unit whose chips all
  // sign) over the ledger's latest checkpoint, each chip with its own key.
  void attest(const std::string& serial) {
    Transaction x = on("op", TxType::attest, serial);
    x.site = "site-1";
    x.checkpoint_size = ledger->size();
    x.checkpoint_root = must(ledger->root_at(x.checkpoint_size));
    std::vector<std::string> chips = record(serial).children;
    if (chips.empty()) chips.push_back(serial);
    for (const auto& chip : chips) {
      Bytes msg =
          attestation_message(tc->ledger_id, chip, x.site, x.checkpoint_size, x.checkpoint_root);
      x.chip_signatures.push_back({chip, must(chip_keys.at(chip).sign(msg))});
    }
    ok(x);
  }
  // maker -> dist (NL) -> op (US), installed and attested: the `ok` path.
  void deliver_installed_attested(const std::string& serial) {
    hand_over("maker", serial, "dist", "NL");
    hand_over("dist", serial, "op", "US");
    install(serial);
    attest(serial);
  }
  void license(const std::string& id, uint64_t quantity, const std::string& destination = "AE") {
    Transaction x = tx("reg", TxType::license);
    x.license = {id, "dist", "op", "H100", "", quantity, destination, t + 30 * 24 * kHour};
    ok(x);
  }

  // What a verifier holding `trust` (default: the ledger's own consortium)
  // concludes at clock `now` from the node's evidence at the latest size.
  VerifyReport verify(const std::string& serial, uint64_t now,
                      const Consortium* trust = nullptr) const {
    uint64_t size = ledger->size();
    Checkpoint cp = checkpoint_of(*ledger, size);
    std::string note = note_for(cp, {{tc->node_id(), &tc->node_key()}}, now / 1000);
    return verify_custody(trust ? *trust : tc->consortium, serial, note,
                          history_evidence(*ledger, serial, size), now);
  }
};

}  // namespace chipledger::testing
