// The pure cosignature book (ledger/cosignature_book.h) and the freshness
// verify_checkpoint reports (ledger/checkpoint.h): quorum with times, a newer
// signature of a node replacing its older one (never the reverse), future
// times refused, and the fail-stop rule. Times are plain arguments here.
#include "ledger/cosignature_book.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/checkpoint.h"

namespace chipledger {
namespace {

// (Not tests/node/test_consortium.h: ledger_tests has its own
// chipledger::testing::TestConsortium, tests/ledger/ledger_fixture.h.)
template <typename T>
T must(Result<T> r) {
  INFO(r.reason());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

PrivateKey fresh_key() { return must(PrivateKey::generate(KeyAlgorithm::ed25519)); }

// A consortium of `nodes` nodes "node-1".. run by one member, with `quorum`.
struct NodeSet {
  std::string ledger_id;
  Consortium consortium;
  std::vector<PrivateKey> keys;
  std::string node_id(size_t i) const { return "node-" + std::to_string(i + 1); }
  const PrivateKey& node_key(size_t i) const { return keys.at(i); }
};

std::unique_ptr<NodeSet> make_consortium(const std::string& ledger_id, uint32_t quorum,
                                         size_t nodes) {
  auto c = must(Consortium::create(ledger_id, quorum, Policy{}));
  PrivateKey member = fresh_key();
  REQUIRE(
      c.add_member(Member{"maker", "Maker", {Role::manufacturer}, "TW", {member.public_key()}}));
  std::vector<PrivateKey> keys;
  for (size_t i = 0; i < nodes; ++i) {
    keys.push_back(fresh_key());
    REQUIRE(
        c.add_node(NodeInfo{"node-" + std::to_string(i + 1), "maker", keys.back().public_key()}));
  }
  return std::unique_ptr<NodeSet>(new NodeSet{ledger_id, std::move(c), std::move(keys)});
}

constexpr uint64_t kNow = 1'790'000'000;  // POSIX seconds

Hash root_of(uint8_t b) {
  Hash h{};
  h.fill(b);
  return h;
}

struct Fixture {
  std::unique_ptr<NodeSet> tc = make_consortium("book-test", 2, 3);
  CosignatureBook book{tc->consortium, "node-1", CosignatureBook::Options{1024, 1024, 600}};

  TimedSignature sig(size_t node, uint64_t size, const Hash& root, uint64_t time) const {
    return TimedSignature{
        must(sign_cosignature(book.text(size, root), tc->node_id(node), tc->node_key(node), time)),
        time};
  }
  // A peer's wire note at (size, root): one cosignature per (node, time).
  std::string note(uint64_t size, const Hash& root,
                   const std::vector<std::pair<size_t, uint64_t>>& sigs) const {
    SignedNote n{book.text(size, root), {}};
    for (const auto& [node, time] : sigs) n.signatures.push_back(sig(node, size, root, time).sig);
    return format_note(n);
  }
  CheckedNote checked(uint64_t size, const Hash& root,
                      const std::vector<std::pair<size_t, uint64_t>>& sigs) const {
    return must(book.check(note(size, root, sigs), kNow));
  }
};

}  // namespace

TEST_CASE("book: a quorum of signatures with their times, freshness the quorum-th newest",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(1);
  must(f.book.sign_own(1, r, f.sig(0, 1, r, kNow - 100)));
  ServedCheckpoint alone = f.book.served();
  CHECK_FALSE(alone.quorum);
  CHECK(alone.fresh_as_of == 0);
  CosignOutcome o = f.book.add(f.checked(1, r, {{1, kNow - 30}, {2, kNow - 60}}), 1, r);
  REQUIRE(o.kind == CosignOutcome::Kind::kept);
  CHECK(o.changed);
  CHECK_FALSE(o.needs_own);
  ServedCheckpoint s = f.book.served();
  REQUIRE(s.quorum);
  CHECK(s.signers == std::vector<std::string>{"node-1", "node-2", "node-3"});
  CHECK(s.times == std::vector<uint64_t>{kNow - 100, kNow - 30, kNow - 60});
  CHECK(s.fresh_as_of == kNow - 60);  // two (the quorum) signed at or after it
  // The served note says the same to a client.
  auto v = must(verify_checkpoint(f.tc->consortium, s.note));
  CHECK(v.fresh_as_of == kNow - 60);
  REQUIRE(v.signed_at.size() == 3);
  CHECK(v.signed_at[1].node_id == "node-2");
  CHECK(v.signed_at[1].time == kNow - 30);
}

TEST_CASE("book: a newer signature of a node replaces its older one, never the reverse",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(2);
  must(f.book.sign_own(1, r, f.sig(0, 1, r, kNow - 100)));
  REQUIRE(f.book.add(f.checked(1, r, {{1, kNow - 50}}), 1, r).changed);
  CHECK(f.book.served().fresh_as_of == kNow - 100);

  SECTION("the peer's newer signature replaces its older one") {
    CosignOutcome o = f.book.add(f.checked(1, r, {{1, kNow - 10}}), 1, r);
    CHECK(o.changed);
    CHECK(f.book.served().times == std::vector<uint64_t>{kNow - 100, kNow - 10});
  }
  SECTION("an older or equal one changes nothing") {
    CHECK_FALSE(f.book.add(f.checked(1, r, {{1, kNow - 80}}), 1, r).changed);
    CHECK_FALSE(f.book.add(f.checked(1, r, {{1, kNow - 50}}), 1, r).changed);
    CHECK(f.book.served().times == std::vector<uint64_t>{kNow - 100, kNow - 50});
  }
  SECTION("this node's own re-signature replaces its older one; freshness advances") {
    auto signed_again = must(f.book.sign_own(1, r, f.sig(0, 1, r, kNow)));
    CHECK(f.book.own_time(1) == kNow);
    CHECK(f.book.served().fresh_as_of == kNow - 50);
    auto v = must(verify_checkpoint(f.tc->consortium, signed_again.note));
    CHECK(v.signed_at[0].time == kNow);
    // An older own signature does not take its place.
    must(f.book.sign_own(1, r, f.sig(0, 1, r, kNow - 500)));
    CHECK(f.book.own_time(1) == kNow);
  }
  SECTION("a note with two signatures of one node keeps the newer") {
    CHECK(f.book.add(f.checked(1, r, {{2, kNow - 5}, {2, kNow - 40}}), 1, r).changed);
    CHECK(f.book.served().times == std::vector<uint64_t>{kNow - 100, kNow - 50, kNow - 5});
  }
}

TEST_CASE("book: a signature dated too far in the future is refused whole", "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(3);
  CHECK(f.book.check(f.note(1, r, {{1, kNow + 600}}), kNow));
  auto late = f.book.check(f.note(1, r, {{1, kNow - 5}, {2, kNow + 601}}), kNow);
  REQUIRE_FALSE(late);
  CHECK_THAT(late.reason(), Catch::Contains("future"));
}

TEST_CASE("book: only valid cosignatures by listed nodes on this ledger's text are taken",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(4);
  SECTION("a plain signed-note signature (type 0x01) is no cosignature") {
    SignedNote n{f.book.text(1, r),
                 {must(sign_note(f.book.text(1, r), "node-2", f.tc->node_key(1)))}};
    CHECK_FALSE(f.book.check(format_note(n), kNow));
  }
  SECTION("a tampered time") {
    auto n = must(parse_note(f.note(1, r, {{1, kNow}})));
    n.signatures[0].signature[7] ^= 1;
    CHECK_THAT(f.book.check(format_note(n), kNow).reason(), Catch::Contains("does not verify"));
  }
  SECTION("an unlisted name") {
    SignedNote n{f.book.text(1, r),
                 {must(sign_cosignature(f.book.text(1, r), "node-9", fresh_key(), kNow))}};
    CHECK_THAT(f.book.check(format_note(n), kNow).reason(), Catch::Contains("does not list"));
  }
  SECTION("extension lines") {
    SignedNote n{f.book.text(1, r) + "ext\n", {}};
    n.signatures.push_back(must(sign_cosignature(n.text, "node-2", f.tc->node_key(1), kNow)));
    CHECK_FALSE(f.book.check(format_note(n), kNow));
  }
}

TEST_CASE("book fail-stop: its own log differing from a size it signed", "[book][checkpoint]") {
  Fixture f;
  must(f.book.sign_own(1, root_of(5), f.sig(0, 1, root_of(5), kNow)));
  auto again = f.book.sign_own(1, root_of(6), f.sig(0, 1, root_of(6), kNow));
  REQUIRE_FALSE(again);
  CHECK_THAT(again.reason(), Catch::Contains("signed checkpoint 1 with root"));
  CHECK(f.book.failed());
  // It signs nothing more and takes nothing.
  CHECK_FALSE(f.book.sign_own(2, root_of(7), f.sig(0, 2, root_of(7), kNow)));
  CHECK(f.book.add(f.checked(1, root_of(5), {{1, kNow}}), 1, root_of(5)).kind ==
        CosignOutcome::Kind::stopped);
}

TEST_CASE("book fail-stop: shown its own valid signature on another root", "[book][checkpoint]") {
  Fixture f;
  Hash mine = root_of(8), other = root_of(9);
  must(f.book.sign_own(1, mine, f.sig(0, 1, mine, kNow)));
  SECTION("at a size it has: a conflict, and the book fails") {
    CosignOutcome o = f.book.add(f.checked(1, other, {{0, kNow}, {1, kNow}}), 1, mine);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK(f.book.failed());
    CHECK_THAT(f.book.failure(), Catch::Contains("its history disagrees"));
  }
  SECTION("a peer's signature on another root is only a conflict") {
    CosignOutcome o = f.book.add(f.checked(1, other, {{1, kNow}}), 1, mine);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK_FALSE(o.warning.empty());
    CHECK_FALSE(f.book.failed());
  }
  SECTION("waiting ahead, met when the log gets there") {
    CHECK(f.book.add(f.checked(2, other, {{0, kNow}}), 1, std::nullopt).kind ==
          CosignOutcome::Kind::pending);
    CHECK_FALSE(f.book.sign_own(2, mine, f.sig(0, 2, mine, kNow)));
    CHECK(f.book.failed());
  }
}

TEST_CASE("book: peers' signatures ahead of this node's log wait, newest time kept",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(10);
  CHECK(f.book.add(f.checked(3, r, {{1, kNow - 20}}), 1, std::nullopt).kind ==
        CosignOutcome::Kind::pending);
  CHECK(f.book.add(f.checked(3, r, {{1, kNow - 2}}), 1, std::nullopt).kind ==
        CosignOutcome::Kind::pending);
  auto s = must(f.book.sign_own(3, r, f.sig(0, 3, r, kNow)));
  CHECK(s.warning.empty());
  ServedCheckpoint v = f.book.served();
  CHECK(v.quorum);
  CHECK(v.times == std::vector<uint64_t>{kNow, kNow - 2});
  CHECK(v.fresh_as_of == kNow - 2);
}

TEST_CASE("quorum_time: the quorum-th newest of the signers' times", "[checkpoint]") {
  CHECK(quorum_time({10, 30, 20}, 1) == 30);
  CHECK(quorum_time({10, 30, 20}, 2) == 20);
  CHECK(quorum_time({10, 30, 20}, 3) == 10);
  CHECK(quorum_time({10, 30}, 3) == 0);
  CHECK(quorum_time({}, 1) == 0);
}

TEST_CASE("verify_checkpoint: freshness, per-signer times and the age rule", "[checkpoint]") {
  auto tc = make_consortium("fresh-test", 2, 3);
  Checkpoint cp{tc->ledger_id, 4, root_of(11), {}};
  SignedNote n{cp.text(), {}};
  auto add = [&](size_t node, uint64_t time) {
    n.signatures.push_back(
        must(sign_cosignature(n.text, tc->node_id(node), tc->node_key(node), time)));
  };
  add(0, kNow - 700);
  add(1, kNow - 20);
  add(2, kNow - 900);
  add(0, kNow - 10);  // node-1 again, newer: its newest counts
  auto v = must(verify_checkpoint(tc->consortium, format_note(n)));
  CHECK(v.signers == std::vector<std::string>{"node-1", "node-2", "node-3"});
  REQUIRE(v.signed_at.size() == 3);
  CHECK(v.signed_at[0].time == kNow - 10);
  CHECK(v.signed_at[1].time == kNow - 20);
  CHECK(v.signed_at[2].time == kNow - 900);
  CHECK(v.fresh_as_of == kNow - 20);
  CHECK(v.age_ms(kNow * 1000) == 20'000);
  CHECK(v.age_ms((kNow - 30) * 1000) == 0);  // in the verifier's future: age 0

  Policy p;
  p.max_checkpoint_age_ms = 20'000;
  CHECK(checkpoint_age_status(v, p, kNow * 1000));
  Status stale = checkpoint_age_status(v, p, kNow * 1000 + 1000);
  REQUIRE_FALSE(stale);
  CHECK_THAT(stale.reason(), Catch::Contains("21 s old") && Catch::Contains("allows 20 s"));

  SECTION("one fresh signer of a quorum of two is not fresh") {
    SignedNote only{cp.text(), {n.signatures[3], n.signatures[2]}};  // node-1 new, node-3 old
    auto w = must(verify_checkpoint(tc->consortium, format_note(only)));
    CHECK(w.fresh_as_of == kNow - 900);
    CHECK_FALSE(checkpoint_age_status(w, Policy{}, kNow * 1000));
  }
  SECTION("a plain signed-note signature by a node does not count") {
    SignedNote mixed{cp.text(), {n.signatures[3]}};
    mixed.signatures.push_back(must(sign_note(cp.text(), tc->node_id(1), tc->node_key(1))));
    CHECK_FALSE(verify_checkpoint(tc->consortium, format_note(mixed)));
  }
}

}  // namespace chipledger

namespace chipledger {

TEST_CASE("docs/checkpoint.md example: a checkpoint cosigned by two nodes, byte for byte",
          "[checkpoint][vectors]") {
  // Computed independently (Python `cryptography`) from the C2SP text.
  const std::string expected =
      "chipledger.dev/dev-267d1253\n5\nwEbomEB2b9feKYUsX0SvZKt7CEEiVS48IbymlvAA8nY=\n\n"
      "\xE2\x80\x94 node-maker "
      "9LZ0zAAAAABqsTuAl1nh4EfMRXSdLxa+2XJxz16Kvdpf1Iut8fKeEEsNRyqOUFEH1wSnDzxSxNuNwrY0mikXaavx/"
      "4LcQH2ynnIWBg==\n"
      "\xE2\x80\x94 node-dist "
      "EM8OigAAAABqsTuqA7v6DDWjkvQeWJlvuV4sEjjb3Xr+757iYtC6RVDVd42DZk0n0R/"
      "beoAAqakSMHvNgiry+Co6Iaeg2eJi5xfEDg==\n";
  auto maker = must(PrivateKey::ed25519_from_seed(
      *hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));
  auto dist = must(PrivateKey::ed25519_from_seed(
      *hex_decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")));
  Checkpoint cp{"chipledger.dev/dev-267d1253", 5, sha256("chipledger example root"), {}};
  SignedNote note{cp.text(), {}};
  note.signatures.push_back(must(sign_cosignature(note.text, "node-maker", maker, 1'790'000'000)));
  note.signatures.push_back(must(sign_cosignature(note.text, "node-dist", dist, 1'790'000'042)));
  CHECK(format_note(note) == expected);
  CHECK(must(NoteVerifier{"node-maker", maker.public_key()}.cosignature_key_hash()) ==
        std::array<uint8_t, 4>{0xf4, 0xb6, 0x74, 0xcc});
  auto parsed = must(parse_note(expected));
  CHECK(must(verify_cosignature(parsed.text, parsed.signatures[1],
                                NoteVerifier{"node-dist", dist.public_key()})) == 1'790'000'042);
}

}  // namespace chipledger

namespace chipledger {

TEST_CASE("policy.max_checkpoint_age_seconds: default 600, read, written, 0 refused",
          "[checkpoint][consortium]") {
  auto tc = make_consortium("policy-test", 1, 1);
  CHECK(tc->consortium.policy().max_checkpoint_age_ms == 600'000);
  auto j = nlohmann::json::parse(tc->consortium.to_json());
  CHECK(j["policy"]["max_checkpoint_age_seconds"] == 600);
  j["policy"]["max_checkpoint_age_seconds"] = 90;
  auto c = must(Consortium::from_json(j.dump()));
  CHECK(c.policy().max_checkpoint_age_ms == 90'000);
  CHECK(nlohmann::json::parse(c.to_json())["policy"]["max_checkpoint_age_seconds"] == 90);
  j["policy"]["max_checkpoint_age_seconds"] = 0;
  CHECK_FALSE(Consortium::from_json(j.dump()));
  j["policy"].erase("max_checkpoint_age_seconds");
  CHECK(must(Consortium::from_json(j.dump())).policy().max_checkpoint_age_ms == 600'000);
}

}  // namespace chipledger
