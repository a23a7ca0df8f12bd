// The locate event's rules (docs/location.md, section 7): the holder of an
// installed chip records landmarks' statements; each must be by a landmark
// of the consortium, signed by it and answered by the chip's device key,
// over a recent checkpoint of this ledger, within the statement window of
// the transaction's time, and never recorded before. Everything is refused
// with its reason, and nothing of a refused locate is applied.
#include <catch2/catch.hpp>

#include "ledger/location.h"
#include "tests/ledger/rules_world.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

// dc holds CHIP0 and CHIP1 (device keys), installed at DC-1; the consortium
// lists landmark lm-1 (run by reg).
struct LocateWorld : RulesWorld {
  PrivateKey landmark_key = *PrivateKey::generate(KeyAlgorithm::ed25519);
  std::vector<PrivateKey> chip_keys;

  explicit LocateWorld(bool landmark_member_suspended = false) {
    if (landmark_member_suspended) tc.consortium.mutable_member("reg")->suspended = true;
    REQUIRE(tc.consortium.add_landmark(
        Landmark{"lm-1", "reg", landmark_key.public_key(), *geo_point(39.04, -77.49), "US", ""}));
    ledger = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
    Transaction reg = tc.register_tx("maker", {});
    for (int i = 0; i < 2; ++i) {
      chip_keys.push_back(*PrivateKey::generate(KeyAlgorithm::ecdsa_p256));
      reg.registrations.push_back(
          {"CHIP" + std::to_string(i), chip_keys.back().public_key().der()});
    }
    ok(reg);
    for (const char* chip : {"CHIP0", "CHIP1"}) {
      hand_over("maker", chip, "dc", "US");
      Transaction inst = move("dc", TxType::install, chip);
      inst.site = "DC-1";
      inst.country = "US";
      ok(inst);
    }
  }
  // A statement by `key` (the landmark's unless told) for `serial`, answered
  // with `chip`'s key, over the ledger's latest checkpoint.
  LocationStatement statement(const std::string& serial, size_t chip, uint8_t nonce_fill = 1,
                              const std::string& landmark = "lm-1",
                              const PrivateKey* key = nullptr) {
    LocationStatement s;
    s.ledger_id = tc.consortium.ledger_id();
    s.landmark = landmark;
    s.serial = serial;
    s.nonce.fill(nonce_fill);
    s.checkpoint_size = ledger->size();
    s.checkpoint_root = *ledger->root_at(s.checkpoint_size);
    s.round_trip_us = 500;
    s.time_ms = kNow;
    s.chip_signature = *chip_keys[chip].sign(s.chip_message());
    return *sign_statement(s, key ? *key : landmark_key);
  }
  Transaction locate(const std::vector<std::string>& serials,
                     std::vector<LocationStatement> statements) {
    Transaction t = tc.tx("dc", TxType::locate);
    for (const auto& s : serials) t.refs.push_back({s, last(s)});
    t.statements = std::move(statements);
    return t;
  }
};

}  // namespace

TEST_CASE("locate: the holder records landmarks' statements of installed chips",
          "[rules][locate]") {
  LocateWorld w;
  const Hash before = w.last("CHIP0");
  auto out = w.apply(
      w.locate({"CHIP0", "CHIP1"}, {w.statement("CHIP0", 0, 1), w.statement("CHIP1", 1, 2)}));
  INFO(out.reason);
  REQUIRE(out.accepted);
  CHECK(w.last("CHIP0") != before);  // the latest event: what the next must name
  CHECK(w.record("CHIP0").installed);
  // The statements stay in the log: the event decodes with them.
  auto events = w.ledger->history("CHIP0", w.ledger->size());
  REQUIRE(events);
  CHECK(events->back() == out.index);
}

TEST_CASE("locate: every wrong statement is refused with its reason, nothing applied",
          "[rules][locate]") {
  LocateWorld w;
  Hash chip0 = w.last("CHIP0");
  Hash chip1 = w.last("CHIP1");
  auto refused = [&](const Transaction& t, const std::string& why) {
    require_refused(w.apply(t), why);
    CHECK(w.last("CHIP0") == chip0);
    CHECK(w.last("CHIP1") == chip1);
  };
  SECTION("answered by another chip's key") {
    refused(w.locate({"CHIP0"}, {w.statement("CHIP0", 1)}),
            "is not signed by the device key of CHIP0");
  }
  SECTION("a landmark the consortium does not list") {
    PrivateKey other = *PrivateKey::generate(KeyAlgorithm::ed25519);
    refused(w.locate({"CHIP0"}, {w.statement("CHIP0", 0, 1, "lm-2", &other)}),
            "landmark lm-2 is not one of the consortium's");
  }
  SECTION("signed by another key than the landmark's") {
    PrivateKey other = *PrivateKey::generate(KeyAlgorithm::ed25519);
    refused(w.locate({"CHIP0"}, {w.statement("CHIP0", 0, 1, "lm-1", &other)}),
            "not signed by landmark lm-1's key");
  }
  SECTION("a forged round trip") {
    LocationStatement s = w.statement("CHIP0", 0);
    s.round_trip_us = 1;  // the landmark signed 500
    refused(w.locate({"CHIP0"}, {s}), "not signed by landmark lm-1's key");
  }
  SECTION("a statement older than the window") {
    LocationStatement s = w.statement("CHIP0", 0);
    s.time_ms = kNow - 11 * 60 * 1000;
    s = *sign_statement(s, w.landmark_key);
    refused(w.locate({"CHIP0"}, {s}), "at most 600 s is allowed");
  }
  SECTION("over a checkpoint that is not the ledger's") {
    LocationStatement s = w.statement("CHIP0", 0);
    s.checkpoint_root[0] ^= 1;
    s.chip_signature = *w.chip_keys[0].sign(s.chip_message());
    s = *sign_statement(s, w.landmark_key);
    refused(w.locate({"CHIP0"}, {s}), "the located root is not the ledger's checkpoint");
  }
  SECTION("a chip that is not installed") {
    w.hand_over("dc", "CHIP1", "dist", "SG");  // held by dist, not installed
    chip1 = w.last("CHIP1");
    Transaction t = w.locate({"CHIP1"}, {w.statement("CHIP1", 1)});
    t.author = "dist";
    t.key_id = w.tc.keys.at("dist").public_key().key_id();
    refused(t, "serial CHIP1 is not installed; only an installed chip is located");
  }
  SECTION("by someone who does not hold the chip") {
    Transaction t = w.locate({"CHIP0"}, {w.statement("CHIP0", 0)});
    t.author = "east";
    t.key_id = w.tc.keys.at("east").public_key().key_id();
    refused(t, "serial CHIP0 is held by dc, not by east");
  }
  SECTION("one good statement beside a bad one: neither is applied") {
    refused(w.locate({"CHIP0", "CHIP1"}, {w.statement("CHIP0", 0, 1), w.statement("CHIP1", 0, 2)}),
            "is not signed by the device key of CHIP1");
  }
}

TEST_CASE("locate: a suspended member's landmark counts for nothing", "[rules][locate]") {
  LocateWorld w(true);
  require_refused(w.apply(w.locate({"CHIP0"}, {w.statement("CHIP0", 0)})),
                  "landmark lm-1 is run by reg, who is suspended");
}

TEST_CASE("locate: a statement is recorded once, its replay is refused", "[rules][locate]") {
  LocateWorld w;
  LocationStatement s = w.statement("CHIP0", 0, 7);
  w.ok(w.locate({"CHIP0"}, {s}));
  require_refused(w.apply(w.locate({"CHIP0"}, {s})), "its nonce is used): a replay");
  // Also within one block: the second of two locates with one nonce.
  LocationStatement s1 = w.statement("CHIP1", 1, 9);
  auto a = w.tc.sign(w.locate({"CHIP1"}, {s1}));
  Transaction second = w.locate({"CHIP1"}, {s1});
  second.time_ms += 1;  // another transaction, the same statement
  auto b = w.tc.sign(second);
  auto out = w.ledger->apply_block({PendingTx{a, false}, PendingTx{b, false}}, kNow);
  REQUIRE(out);
  CHECK((*out)[0].accepted);
  CHECK_FALSE((*out)[1].accepted);
  CHECK_THAT((*out)[1].reason, Catch::Contains("a replay"));
}

TEST_CASE("locate: malformed transactions do not encode", "[rules][locate][encoding]") {
  LocateWorld w;
  auto reason = [&](const Transaction& t) {
    auto body = encode_body(t);
    return body ? std::string("encoded") : body.reason();
  };
  CHECK_THAT(reason(w.locate({"CHIP0"}, {})), Catch::Contains("no statement for serial CHIP0"));
  CHECK_THAT(reason(w.locate({"CHIP0"}, {w.statement("CHIP1", 1)})),
             Catch::Contains("which this locate does not name"));
  CHECK_THAT(reason(w.locate({"CHIP0"}, {w.statement("CHIP0", 0, 3), w.statement("CHIP0", 0, 3)})),
             Catch::Contains("with one nonce"));
  LocationStatement other_ledger = w.statement("CHIP0", 0);
  other_ledger.ledger_id = "another";
  CHECK_THAT(reason(w.locate({"CHIP0"}, {other_ledger})), Catch::Contains("not this one"));
  Transaction transfer = w.transfer("dc", "CHIP0", "dist");
  transfer.statements = {w.statement("CHIP0", 0)};
  CHECK_THAT(reason(transfer), Catch::Contains("only a locate carries location statements"));
  // A good one round-trips byte for byte.
  Transaction good = w.locate({"CHIP0"}, {w.statement("CHIP0", 0)});
  auto body = encode_body(good);
  REQUIRE(body);
  auto decoded = decode_body(*body);
  REQUIRE(decoded);
  REQUIRE(decoded->statements.size() == 1);
  CHECK(decoded->statements[0] == good.statements[0]);
  CHECK(*encode_body(*decoded) == *body);
}
