// One custody engine, property-tested: random histories (members,
// registrations, transfers, answers, packs, unpacks, installs, attestations,
// flags, clears, reports, licenses, decommissions; many invalid on purpose,
// signed and block times apart within and beyond the clock skew) are
// applied through a real Ledger on a MemoryStore. Alongside, a model built
// only from the engine's own outputs (apply_event over concerns_of) must
// refuse what the ledger refused with the ledger's very reason (for
// refusals decided per serial) and hold, after every block, exactly the
// records the ledger stored. Then every serial's history, at the end and at
// earlier sizes, replayed by a CustodyVerifier from the API's evidence
// (single and batch answers) gives exactly that record, and no finding
// that an honest log cannot have.
//
// The random tests print their seed; set CHIPLEDGER_TEST_SEED=<n> to replay.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "client/node_client.h"
#include "ledger/custody_engine.h"
#include "tests/client/evidence.h"
#include "tests/test_seed.h"
#include "verify/custody_verifier.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;
using Records = std::map<std::string, SerialRecord>;

using chipledger::testing::test_seed;

constexpr uint64_t kSecond = 1000;
constexpr uint64_t kHour = 3600 * kSecond;

// Members of every role, two of them in a restricted country's reach.
struct World {
  struct Who {
    const char* id;
    Role role;
    const char* country;
  };
  static constexpr Who kMembers[] = {
      {"maker", Role::manufacturer, "TW"}, {"maker2", Role::manufacturer, "KR"},
      {"dist", Role::distributor, "SG"},   {"op", Role::operator_, "US"},
      {"east", Role::operator_, "AE"},     {"reg", Role::regulator, "US"},
      {"aud", Role::auditor, "DE"}};

  std::mt19937_64 rng;
  std::map<std::string, PrivateKey> keys;
  PrivateKey node_key = fresh_key();
  Consortium consortium;
  std::unique_ptr<Ledger> ledger;
  std::map<std::string, PrivateKey> chip_keys;
  std::vector<std::string> chips, units, serials;  // serials: every name ever used
  std::vector<std::string> license_ids;
  // The model: records and license terms built from the engine's outputs.
  Records model;
  std::map<std::string, LicenseTerms> licenses;
  std::set<Hash> txids;
  uint64_t t = kT0;
  // Counters, for the report and to see the run exercised what it should.
  std::map<std::string, int> accepted, refused_per_serial, refused_tx_level;

  static Policy policy() {
    Policy p;
    p.controlled_models = {"H100"};
    p.controlled_eccns = {"3A090"};
    p.restricted_destinations = {"AE", "CN"};
    return p;
  }

  explicit World(uint64_t seed)
      : rng(seed), consortium(must(Consortium::create("engine-ledger", 1, policy()))) {
    for (const auto& m : kMembers) {
      PrivateKey k = fresh_key();
      must_ok(
          consortium.add_member(Member{m.id, m.id, {m.role}, m.country, {k.public_key()}, false}));
      keys.emplace(m.id, std::move(k));
    }
    must_ok(consortium.add_node(NodeInfo{"node-1", "maker", node_key.public_key(), "", 0, ""}));
    ledger = open_memory_ledger(consortium);
    for (int i = 0; i < 14; ++i) chips.push_back("C" + std::to_string(i));
    for (int i = 0; i < 3; ++i) units.push_back("U" + std::to_string(i));
    serials = chips;
    serials.insert(serials.end(), units.begin(), units.end());
    serials.push_back("NEVER-1");
    for (const auto& c : chips) chip_keys.emplace(c, fresh_key());
  }

  // --- random choices ---
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  std::string member() { return kMembers[below(std::size(kMembers))].id; }
  std::string custodian() {
    static const std::vector<std::string> ids = {"maker", "maker2", "dist", "op", "east"};
    return chance(0.9) ? pick(ids) : member();
  }
  std::string country() {
    static const std::vector<std::string> c = {"NL", "US", "SG", "AE", "CN", "TW"};
    return pick(c);
  }
  const SerialRecord* rec(const std::string& s) const {
    auto it = model.find(s);
    return it == model.end() ? nullptr : &it->second;
  }
  // The holder mostly, someone else sometimes.
  std::string holder_or_other(const std::string& s) {
    const SerialRecord* r = rec(s);
    return r && chance(0.85) ? r->holder : member();
  }
  // The serial's latest event mostly, a stale or made-up prev sometimes.
  Hash prev_of(const std::string& s) {
    const SerialRecord* r = rec(s);
    if (r && chance(0.9)) return r->last_event;
    Hash h{};
    h[0] = static_cast<uint8_t>(below(256));
    return h;
  }
  std::string any_serial() { return chance(0.8) ? pick(chips) : pick(serials); }

  Transaction base(TxType type, const std::string& author) {
    Transaction x;
    x.type = type;
    x.ledger_id = consortium.ledger_id();
    x.author = author;
    x.key_id = keys.at(author).public_key().key_id();
    x.time_ms = t;
    return x;
  }
  Transaction on(TxType type, const std::string& author, const std::string& serial) {
    Transaction x = base(type, author);
    x.refs.push_back({serial, prev_of(serial)});
    return x;
  }

  // --- one random transaction (valid or not) ---
  Transaction random_tx() {
    // Weights: mostly custody moves, a few flags, reports, licenses, and
    // rarely a decommission (terminal: it would end most histories).
    const uint64_t r = below(100);
    if (r < 10) return make_register();
    if (r < 30) return make_transfer();
    if (r < 50) return make_answer();
    if (r < 60) return make_install();
    if (r < 70) return make_attest();
    if (r < 78) return make_pack();
    if (r < 82) return make_unpack();
    if (r < 86) return make_flag();
    if (r < 88) return make_answer();
    if (r < 92) return make_report();
    if (r < 98) return make_license();
    return make_decommission();
  }

  // A serial whose record satisfies `want` mostly, any serial sometimes.
  template <typename Pred>
  std::string serial_where(Pred want) {
    std::vector<std::string> fit;
    for (const auto& [s, r] : model) {
      if (want(r)) fit.push_back(s);
    }
    return !fit.empty() && chance(0.85) ? pick(fit) : any_serial();
  }

  Transaction make_register() {
    Transaction x =
        base(TxType::register_chips, chance(0.85) ? (chance(0.5) ? "maker" : "maker2") : member());
    bool controlled = chance(0.7);
    x.model = controlled ? "H100" : "L4";
    x.eccn = controlled ? "3A090" : "";
    x.fab_site = "Fab 18";
    x.country = chance(0.9) ? "TW" : "CN";
    std::set<std::string> named;
    for (uint64_t n = 1 + below(3); n > 0; --n) {
      std::string s = pick(chips);
      if (!named.insert(s).second) continue;
      Bytes key;
      if (chance(0.8)) key = chip_keys.at(s).public_key().der();
      if (chance(0.03)) key = Bytes{1, 2, 3};  // not a key
      x.registrations.push_back({s, key});
    }
    return x;
  }

  Transaction make_transfer() {
    std::string s = serial_where([](const SerialRecord& r) {
      return r.status == CustodyStatus::held && r.parent.empty() && !r.flagged;
    });
    Transaction x = on(TxType::transfer, holder_or_other(s), s);
    x.to = custodian();
    if (x.to == x.author && chance(0.9)) x.to = x.author == "dist" ? "op" : "dist";
    x.ship_to_country = chance(0.5) && rec(s) ? rec(s)->location_country : country();
    if (!license_ids.empty() && chance(0.5)) x.license_id = pick(license_ids);
    if (chance(0.05)) x.license_id = "L-404";
    return x;
  }

  Transaction make_answer() {
    std::string s = serial_where([](const SerialRecord& r) {
      return r.status == CustodyStatus::in_transit && r.parent.empty();
    });
    const SerialRecord* r = rec(s);
    std::string author = r && !r->pending_to.empty() && chance(0.85) ? r->pending_to : member();
    Transaction x = on(chance(0.75) ? TxType::accept : TxType::reject, author, s);
    x.reason = x.type == TxType::reject ? "damaged" : "";
    return x;
  }

  Transaction make_install() {
    std::string s = serial_where([](const SerialRecord& r) {
      return r.status == CustodyStatus::held && r.parent.empty() &&
             (r.holder == "op" || r.holder == "east");
    });
    Transaction x = on(TxType::install, chance(0.7) ? holder_or_other(s) : "op", s);
    x.site = chance(0.5) ? "S1" : "S2";
    x.country = chance(0.8) ? "US" : country();
    return x;
  }

  Transaction make_attest() {
    std::string s =
        serial_where([](const SerialRecord& r) { return r.installed && r.parent.empty(); });
    Transaction x = on(TxType::attest, holder_or_other(s), s);
    const SerialRecord* r = rec(s);
    x.site = r && chance(0.85) ? r->site : "S9";
    x.checkpoint_size = ledger->size();
    x.checkpoint_root = must(ledger->root_at(x.checkpoint_size));
    if (chance(0.05)) x.checkpoint_root[0] ^= 1;
    std::vector<std::string> covered;
    if (r) covered = r->children;
    if (covered.empty()) covered.push_back(s);
    if (chance(0.05)) covered.push_back(pick(chips));  // a signature it does not cover
    for (const auto& chip : covered) {
      if (!chip_keys.count(chip) || chance(0.03)) continue;
      Bytes msg =
          attestation_message(x.ledger_id, chip, x.site, x.checkpoint_size, x.checkpoint_root);
      Bytes sig = must(chip_keys.at(chip).sign(msg));
      if (chance(0.03)) sig[0] ^= 1;
      bool dup = false;
      for (const auto& cs : x.chip_signatures) dup |= cs.serial == chip;
      if (!dup) x.chip_signatures.push_back({chip, sig});
    }
    return x;
  }

  Transaction make_pack() {
    auto packable = [](const SerialRecord& r) {
      return r.status == CustodyStatus::held && r.parent.empty() && r.children.empty() &&
             !r.installed && !r.flagged;
    };
    std::string first = serial_where(packable);
    Transaction x = base(TxType::pack, holder_or_other(first));
    const std::string author = x.author;
    // Mostly a unit the author holds, or a new one.
    std::string unit = pick(units);
    for (const auto& u : units) {
      const SerialRecord* r = rec(u);
      if (chance(0.5) && (!r || (r->holder == author && r->parent.empty()))) unit = u;
    }
    x.unit = unit;
    x.model = "HGX";
    const SerialRecord* u = rec(unit);
    x.unit_prev = u && chance(0.95) ? prev_of(unit) : Hash{};
    std::set<std::string> named{unit};
    auto add = [&](const std::string& s) {
      if (named.insert(s).second) x.refs.push_back({s, prev_of(s)});
    };
    add(first);
    for (uint64_t n = below(3); n > 0; --n) {
      add(chance(0.05) ? pick(units) : serial_where([&](const SerialRecord& r) {
        return packable(r) && r.holder == author;
      }));
    }
    if (x.refs.empty()) add(chips[0]);
    return x;
  }

  Transaction make_unpack() {
    std::string s = chance(0.85) ? pick(units) : any_serial();
    return on(TxType::unpack, holder_or_other(s), s);
  }

  Transaction make_flag() {
    std::string s = chance(0.3) ? pick(units) : any_serial();
    Transaction x =
        on(chance(0.6) ? TxType::flag : TxType::clear, chance(0.85) ? "reg" : member(), s);
    x.reason = x.type == TxType::flag ? "suspected diversion" : "inspected";
    // Sometimes a unit and a chip packed in it together.
    const SerialRecord* r = rec(s);
    if (r && !r->children.empty() && chance(0.3)) {
      std::string c = pick(r->children);
      x.refs.push_back({c, prev_of(c)});
    }
    return x;
  }

  Transaction make_report() {
    std::string s = chance(0.3) ? pick(units) : any_serial();
    Transaction x = on(TxType::report, member(), s);
    x.kind = chance(0.5) ? "stolen" : "lost";
    x.reason = "seen elsewhere";
    return x;
  }

  Transaction make_license() {
    Transaction x = base(TxType::license, chance(0.85) ? "reg" : member());
    std::string id =
        !license_ids.empty() && chance(0.1) ? pick(license_ids) : "L" + std::to_string(below(1000));
    bool by_model = chance(0.5);
    // Expiry from an hour ago to ten days ahead: some expire between a
    // transfer's signed time and its block's time.
    uint64_t expiry = t - kHour + below(10 * 24) * kHour + below(2 * 600) * kSecond;
    x.license = {id,
                 custodian(),
                 custodian(),
                 by_model ? "H100" : "",
                 by_model ? "" : "3A090",
                 1 + below(3),
                 chance(0.5) ? "AE" : "CN",
                 expiry};
    return x;
  }

  Transaction make_decommission() {
    std::string s = chance(0.2) ? pick(units) : any_serial();
    Transaction x = on(TxType::decommission, holder_or_other(s), s);
    x.kind = "destroyed";
    x.reason = "end of life";
    return x;
  }

  // --- the engine's prediction over the model ---

  // The serials a transaction changes, in the ledger's order
  // (custody_rules: Apply::affected).
  std::vector<std::string> affected(const Transaction& x) const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& s) {
      if (seen.insert(s).second) out.push_back(s);
    };
    if (x.type == TxType::register_chips) {
      for (const auto& r : x.registrations) add(r.serial);
      return out;
    }
    if (x.type == TxType::pack) add(x.unit);
    for (const auto& ref : x.refs) {
      add(ref.serial);
      if (!applies_to_unit(x.type)) continue;
      if (const SerialRecord* r = rec(ref.serial)) {
        for (const auto& c : r->children) add(c);
      }
    }
    return out;
  }

  struct Prediction {
    std::optional<std::string> refusal;  // the first serial's refusal, if any
    Records records;                     // else every affected serial's new record
  };

  Prediction predict(const SignedTransaction& stx, uint64_t index) const {
    Prediction p;
    const Transaction& x = stx.tx;
    EventContext context;
    auto lic = licenses.find(x.license_id);
    if (x.type == TxType::transfer && lic != licenses.end()) context.license = &lic->second;
    for (const auto& s : affected(x)) {
      std::optional<SerialRecord> before;
      if (const SerialRecord* r = rec(s)) before = *r;
      StepOutcome step =
          apply_event(consortium, s, before, stx, index, concerns_of(x, s, before), context);
      if (!step.ok()) {
        p.refusal = step.reason;
        return p;
      }
      p.records[s] = *step.record;
    }
    return p;
  }

  // Refusals custody_rules decides before the engine runs, on the whole
  // ledger: its reason, so that the engine's is not expected.
  static bool decided_before_engine(const std::string& reason) {
    for (const char* part : {"away from the ledger's clock", "replay:", "the attested root",
                             "the attested checkpoint"}) {
      if (reason.find(part) != std::string::npos) return true;
    }
    return false;
  }
  // Refusals custody_rules decides after every serial's step (quantity,
  // uncovered chip signatures, flagged chips already in a unit).
  static bool decided_after_engine(const std::string& reason) {
    for (const char* part : {"chip(s) left", "which this attestation does not cover",
                             "the unit cannot be packed into"}) {
      if (reason.find(part) != std::string::npos) return true;
    }
    return false;
  }

  // Applies one random block and checks it against the model.
  void step() {
    t += chance(0.05) ? 2 * kHour : 1 + below(60) * kSecond;
    uint64_t block_time = t;
    size_t n = 1 + below(3);
    std::vector<SignedTransaction> txs;
    std::vector<PendingTx> pending;
    for (size_t i = 0; i < n; ++i) {
      Transaction x = random_tx();
      // Signed before or after the block's time, within the skew mostly.
      int64_t skew = static_cast<int64_t>(below(1000 * kSecond)) - 500 * int64_t(kSecond);
      if (chance(0.03)) skew = 700 * int64_t(kSecond);
      x.time_ms = static_cast<uint64_t>(static_cast<int64_t>(t) + skew);
      auto stx = sign_transaction(x, keys.at(x.author));
      if (!stx) continue;  // the generator made something decode refuses
      if (!txs.empty() && chance(0.03)) stx = txs.back();  // a replay in the block
      txs.push_back(*stx);
      pending.push_back(PendingTx{*stx, false});
    }
    uint64_t index = ledger->size();
    auto outcomes = must(ledger->apply_block(std::move(pending), block_time));
    REQUIRE(outcomes.size() == txs.size());
    for (size_t i = 0; i < txs.size(); ++i) check_outcome(txs[i], outcomes[i], index);
    for (const auto& s : serials) {
      auto stored = must(ledger->serial(s));
      const SerialRecord* mine = rec(s);
      INFO("serial " << s << " after the block at size " << ledger->size());
      REQUIRE(stored.has_value() == (mine != nullptr));
      if (mine) REQUIRE(*stored == *mine);
    }
  }

  void check_outcome(const SignedTransaction& stx, const TxOutcome& out, uint64_t& index) {
    const Transaction& x = stx.tx;
    const std::string type(tx_type_name(x.type));
    INFO(type << " by " << x.author << ": " << (out.accepted ? "accepted" : out.reason));
    if (x.type == TxType::license) {
      Status issue = check_license_issue(consortium, x);
      if (out.accepted) {
        REQUIRE(issue);
        licenses[x.license.id] = x.license;
        license_ids.push_back(x.license.id);
        ++accepted[type];
        ++index;
      } else if (!issue && !decided_before_engine(out.reason)) {
        REQUIRE(out.reason == issue.reason());
        ++refused_per_serial[type];
      } else {
        ++refused_tx_level[type];
      }
      txids.insert(stx.txid);
      return;
    }
    Prediction p = predict(stx, index);
    if (out.accepted) {
      REQUIRE_FALSE(p.refusal.has_value());
      REQUIRE(out.index == index);
      for (auto& [s, r] : p.records) model[s] = std::move(r);
      ++accepted[type];
      ++index;
    } else if (decided_before_engine(out.reason)) {
      ++refused_tx_level[type];
    } else if (p.refusal) {
      REQUIRE(out.reason == *p.refusal);  // the engine's refusal, word for word
      ++refused_per_serial[type];
    } else {
      REQUIRE(decided_after_engine(out.reason));
      ++refused_tx_level[type];
    }
  }

  // --- the verifier's path ---

  std::string note_at(uint64_t size) const {
    Checkpoint cp = Checkpoint::make(consortium.ledger_id(), size, must(ledger->root_at(size)),
                                     must(ledger->state_root_at(size)));
    return note_for(cp, {{"node-1", &node_key}});
  }

  // Every serial's evidence at `size`, single and batch, replayed by one
  // CustodyVerifier: exactly `expected`, with no finding an honest log
  // cannot have.
  void require_replays(const Records& expected, uint64_t size) const {
    CustodyVerifier v(consortium, note_at(size));
    v.assume_no_governance();  // a ledger without governance
    REQUIRE(v.checkpoint());
    Result<HistoryEvidence> batch = decode_histories(histories_json(*ledger, serials, size));
    REQUIRE(batch);
    for (const auto& s : serials) {
      auto it = expected.find(s);
      std::optional<SerialRecord> want;
      if (it != expected.end()) want = it->second;
      for (bool in_batch : {false, true}) {
        VerifyReport r =
            in_batch ? v.verify(s, batch, t) : v.verify(s, history_evidence(*ledger, s, size), t);
        INFO("serial " << s << " at size " << size << (in_batch ? " (batch)" : "") << ": "
                       << describe(r));
        for (const auto& [f, reason] : r.findings) {
          REQUIRE(f != Finding::proof_failure);
          REQUIRE(f != Finding::unlicensed_export);
        }
        REQUIRE(v.replayed() == want);
        REQUIRE((r.verdict() == "not-registered") == !want.has_value());
      }
    }
  }
};

TEST_CASE(
    "custody engine: random histories give the ledger's records and refusals, and the "
    "verifier replays exactly the ledger's records",
    "[engine][property]") {
  const uint64_t seed = test_seed();
  WARN("custody engine property seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  for (int run = 0; run < 4; ++run) {
    World w(seed + static_cast<uint64_t>(run));
    std::vector<std::pair<uint64_t, Records>> earlier;  // (size, model) at some block ends
    for (int block = 0; block < 400; ++block) {
      w.step();
      if (block % 50 == 25) earlier.emplace_back(w.ledger->size(), w.model);
    }
    w.require_replays(w.model, w.ledger->size());
    for (const auto& [size, records] : earlier) w.require_replays(records, size);

    int accepted = 0, per_serial = 0, tx_level = 0;
    for (const auto& [type, n] : w.accepted) accepted += n;
    for (const auto& [type, n] : w.refused_per_serial) per_serial += n;
    for (const auto& [type, n] : w.refused_tx_level) tx_level += n;
    auto list = [](const std::map<std::string, int>& m) {
      std::string out;
      for (const auto& [type, n] : m) out += " " + type + "=" + std::to_string(n);
      return out;
    };
    INFO("accepted:" << list(w.accepted) << "; refused by the engine:" << list(w.refused_per_serial)
                     << "; by the ledger's own checks:" << list(w.refused_tx_level));
    INFO("accepted " << accepted << ", refused by the engine " << per_serial
                     << ", refused by the ledger's own checks " << tx_level);
    // The run exercised both sides of most rules.
    CHECK(accepted > 50);
    CHECK(per_serial > 50);
    CHECK(w.accepted.size() >= 8);
    CHECK(w.refused_per_serial.size() >= 8);
  }
}

}  // namespace
}  // namespace chipledger
