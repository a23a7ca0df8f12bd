// The pure cosignature book (ledger/cosignature_book.h) and the freshness
// verify_checkpoint reports (ledger/checkpoint.h): quorum with times, a newer
// signature of a node replacing its older one (never the reverse), future
// times refused, and the fail-stop rule. Times are plain arguments here.
#include "ledger/cosignature_book.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>

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
  REQUIRE(c.add_member(
      Member{"maker", "Maker", {Role::manufacturer}, "TW", {member.public_key()}, false}));
  std::vector<PrivateKey> keys;
  for (size_t i = 0; i < nodes; ++i) {
    keys.push_back(fresh_key());
    REQUIRE(c.add_node(
        NodeInfo{"node-" + std::to_string(i + 1), "maker", keys.back().public_key(), "", 0, ""}));
  }
  return std::unique_ptr<NodeSet>(new NodeSet{ledger_id, std::move(c), std::move(keys)});
}

constexpr uint64_t kNow = 1'790'000'000;  // POSIX seconds

Hash root_of(uint8_t b) {
  Hash h{};
  h.fill(b);
  return h;
}

// The state root the tests' ledgers have beside log root `root`.
Hash state_of(const Hash& root) {
  Hash h = root;
  for (auto& b : h) b ^= 0x80;
  return h;
}

struct Fixture {
  std::unique_ptr<NodeSet> tc = make_consortium("book-test", 2, 3);
  CosignatureBook book{tc->consortium, "node-1", CosignatureBook::Options{1024, 1024, 600}};

  // The checkpoint text at (size, root, state root), the state root being
  // state_of(root) unless given.
  std::string text(uint64_t size, const Hash& root, std::optional<Hash> state = {}) const {
    return book.text(size, root, state ? *state : state_of(root));
  }
  TimedSignature sig(size_t node, uint64_t size, const Hash& root, uint64_t time,
                     std::optional<Hash> state = {}) const {
    return TimedSignature{must(sign_cosignature(text(size, root, state), tc->node_id(node),
                                                tc->node_key(node), time)),
                          time};
  }
  // A peer's wire note at (size, root, state): one cosignature per (node, time).
  std::string note(uint64_t size, const Hash& root,
                   const std::vector<std::pair<size_t, uint64_t>>& sigs,
                   std::optional<Hash> state = {}) const {
    SignedNote n{text(size, root, state), {}};
    for (const auto& [node, time] : sigs) {
      n.signatures.push_back(sig(node, size, root, time, state).sig);
    }
    return format_note(n);
  }
  CheckedNote checked(uint64_t size, const Hash& root,
                      const std::vector<std::pair<size_t, uint64_t>>& sigs,
                      std::optional<Hash> state = {}) const {
    return must(book.check(note(size, root, sigs, state), kNow));
  }
  // This node's own signature at (size, root, state_of(root)).
  Result<CosignatureBook::Signed> sign_own(uint64_t size, const Hash& root, uint64_t time) {
    return book.sign_own(size, root, state_of(root), sig(0, size, root, time));
  }
  // A peer's note given to the book, this node's ledger being at own_size
  // with log root `own` (state root state_of(own)) at the note's size.
  CosignOutcome add(const CheckedNote& n, uint64_t own_size, std::optional<Hash> own) {
    return book.add(n, own_size, own,
                    own ? std::optional<Hash>(state_of(*own)) : std::optional<Hash>());
  }
};

}  // namespace

TEST_CASE("book: a quorum of signatures with their times, freshness the quorum-th newest",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(1);
  must(f.sign_own(1, r, kNow - 100));
  ServedCheckpoint alone = f.book.served();
  CHECK_FALSE(alone.quorum);
  CHECK(alone.fresh_as_of == 0);
  CosignOutcome o = f.add(f.checked(1, r, {{1, kNow - 30}, {2, kNow - 60}}), 1, r);
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
  must(f.sign_own(1, r, kNow - 100));
  REQUIRE(f.add(f.checked(1, r, {{1, kNow - 50}}), 1, r).changed);
  CHECK(f.book.served().fresh_as_of == kNow - 100);

  SECTION("the peer's newer signature replaces its older one") {
    CosignOutcome o = f.add(f.checked(1, r, {{1, kNow - 10}}), 1, r);
    CHECK(o.changed);
    CHECK(f.book.served().times == std::vector<uint64_t>{kNow - 100, kNow - 10});
  }
  SECTION("an older or equal one changes nothing") {
    CHECK_FALSE(f.add(f.checked(1, r, {{1, kNow - 80}}), 1, r).changed);
    CHECK_FALSE(f.add(f.checked(1, r, {{1, kNow - 50}}), 1, r).changed);
    CHECK(f.book.served().times == std::vector<uint64_t>{kNow - 100, kNow - 50});
  }
  SECTION("this node's own re-signature replaces its older one; freshness advances") {
    auto signed_again = must(f.sign_own(1, r, kNow));
    CHECK(f.book.own_time(1) == kNow);
    CHECK(f.book.served().fresh_as_of == kNow - 50);
    auto v = must(verify_checkpoint(f.tc->consortium, signed_again.note));
    CHECK(v.signed_at[0].time == kNow);
    // An older own signature does not take its place.
    must(f.sign_own(1, r, kNow - 500));
    CHECK(f.book.own_time(1) == kNow);
  }
  SECTION("a note with two signatures of one node keeps the newer") {
    CHECK(f.add(f.checked(1, r, {{2, kNow - 5}, {2, kNow - 40}}), 1, r).changed);
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
    SignedNote n{f.text(1, r), {must(sign_note(f.text(1, r), "node-2", f.tc->node_key(1)))}};
    CHECK_FALSE(f.book.check(format_note(n), kNow));
  }
  SECTION("a tampered time") {
    auto n = must(parse_note(f.note(1, r, {{1, kNow}})));
    n.signatures[0].signature[7] ^= 1;
    CHECK_THAT(f.book.check(format_note(n), kNow).reason(), Catch::Contains("does not verify"));
  }
  SECTION("an unlisted name") {
    SignedNote n{f.text(1, r), {must(sign_cosignature(f.text(1, r), "node-9", fresh_key(), kNow))}};
    CHECK_THAT(f.book.check(format_note(n), kNow).reason(), Catch::Contains("does not list"));
  }
  SECTION("extension lines") {
    SignedNote n{f.text(1, r) + "ext\n", {}};
    n.signatures.push_back(must(sign_cosignature(n.text, "node-2", f.tc->node_key(1), kNow)));
    CHECK_FALSE(f.book.check(format_note(n), kNow));
  }
}

TEST_CASE("book fail-stop: its own log differing from a size it signed", "[book][checkpoint]") {
  Fixture f;
  must(f.sign_own(1, root_of(5), kNow));
  auto again = f.sign_own(1, root_of(6), kNow);
  REQUIRE_FALSE(again);
  CHECK_THAT(again.reason(), Catch::Contains("signed checkpoint 1 with root"));
  CHECK(f.book.failed());
  // It signs nothing more and takes nothing.
  CHECK_FALSE(f.sign_own(2, root_of(7), kNow));
  CHECK(f.add(f.checked(1, root_of(5), {{1, kNow}}), 1, root_of(5)).kind ==
        CosignOutcome::Kind::stopped);
}

TEST_CASE("book fail-stop: shown its own valid signature on another root", "[book][checkpoint]") {
  Fixture f;
  Hash mine = root_of(8), other = root_of(9);
  must(f.sign_own(1, mine, kNow));
  SECTION("at a size it has: a conflict, and the book fails") {
    CosignOutcome o = f.add(f.checked(1, other, {{0, kNow}, {1, kNow}}), 1, mine);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK(f.book.failed());
    CHECK_THAT(f.book.failure(), Catch::Contains("its history disagrees"));
  }
  SECTION("a peer's signature on another root is only a conflict") {
    CosignOutcome o = f.add(f.checked(1, other, {{1, kNow}}), 1, mine);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK_FALSE(o.warning.empty());
    CHECK_FALSE(f.book.failed());
  }
  SECTION("waiting ahead, met when the log gets there") {
    CHECK(f.add(f.checked(2, other, {{0, kNow}}), 1, std::nullopt).kind ==
          CosignOutcome::Kind::pending);
    CHECK_FALSE(f.sign_own(2, mine, kNow));
    CHECK(f.book.failed());
  }
}

TEST_CASE("book: peers' signatures ahead of this node's log wait, newest time kept",
          "[book][checkpoint]") {
  Fixture f;
  Hash r = root_of(10);
  CHECK(f.add(f.checked(3, r, {{1, kNow - 20}}), 1, std::nullopt).kind ==
        CosignOutcome::Kind::pending);
  CHECK(f.add(f.checked(3, r, {{1, kNow - 2}}), 1, std::nullopt).kind ==
        CosignOutcome::Kind::pending);
  auto s = must(f.sign_own(3, r, kNow));
  CHECK(s.warning.empty());
  ServedCheckpoint v = f.book.served();
  CHECK(v.quorum);
  CHECK(v.times == std::vector<uint64_t>{kNow, kNow - 2});
  CHECK(v.fresh_as_of == kNow - 2);
}

TEST_CASE("book: a removed node's signature that waited ahead neither counts nor spoils the note",
          "[book][checkpoint][governance]") {
  // node-3 is removed by the entry at index 4 (quorum 2 of the 2 left).
  // node-2 lags: node-3's signature on size 6 reaches it while it knows only
  // the three nodes. Once node-2 applied the removal, its note on size 6
  // must carry its own signature only, and node-1 must take it.
  auto three = make_consortium("book-test", 2, 3);
  auto two = std::make_shared<Consortium>(three->consortium);
  REQUIRE(two->remove_node("node-3", 4));
  auto all =
      std::shared_ptr<const Consortium>(std::shared_ptr<const Consortium>(), &three->consortium);
  bool removal_applied = false;
  CosignatureBook lagging(
      [&](uint64_t size) -> std::shared_ptr<const Consortium> {
        if (removal_applied && size > 4) return two;
        return all;
      },
      "node-2", {});
  CosignatureBook leader(
      [&](uint64_t size) -> std::shared_ptr<const Consortium> { return size > 4 ? two : all; },
      "node-1", {});
  const Hash r = root_of(6);
  const std::string text = lagging.text(6, r, state_of(r));
  auto sign = [&](size_t node) {
    return must(sign_cosignature(text, three->node_id(node), three->node_key(node), kNow));
  };
  auto ahead = must(lagging.check(format_note(SignedNote{text, {sign(2)}}), kNow));
  REQUIRE(lagging.add(ahead, 3, std::nullopt, std::nullopt).kind == CosignOutcome::Kind::pending);

  removal_applied = true;
  auto own = must(lagging.sign_own(6, r, state_of(r), TimedSignature{sign(1), kNow}));
  CHECK(own.note.find("node-3") == std::string::npos);
  CHECK(lagging.newest().signers == std::vector<std::string>{"node-2"});

  // The leader takes node-2's note, and with its own signature has the quorum.
  auto taken = leader.check(own.note, kNow);
  INFO(taken.reason());
  REQUIRE(taken);
  must(leader.sign_own(6, r, state_of(r), TimedSignature{sign(0), kNow}));
  CHECK(leader.add(*taken, 6, r, state_of(r)).kind == CosignOutcome::Kind::kept);
  CHECK(leader.served().quorum);
  CHECK(leader.served().signers == std::vector<std::string>{"node-1", "node-2"});

  // A note of node-1 and the removed node-3 together: node-3's is left out.
  auto mixed = must(lagging.check(format_note(SignedNote{text, {sign(0), sign(2)}}), kNow));
  CHECK(mixed.entry.by_node.size() == 1);
  CHECK(mixed.entry.by_node.count("node-1") == 1);
  // node-3's alone: nothing to take, and the reason says why.
  CHECK_THAT(lagging.check(format_note(SignedNote{text, {sign(2)}}), kNow).reason(),
             Catch::Contains("does not list at that size"));
}

TEST_CASE("book: a peer's note on this log root but another state root is a conflict",
          "[book][checkpoint][state]") {
  Fixture f;
  Hash r = root_of(20);
  Hash other_state = root_of(21);
  must(f.sign_own(1, r, kNow));
  SECTION("at a size this node has: 409, logged, nothing kept, no fail-stop") {
    CosignOutcome o = f.add(f.checked(1, r, {{1, kNow}}, other_state), 1, r);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK_THAT(o.reason, Catch::Contains("state root"));
    CHECK_FALSE(o.warning.empty());
    CHECK_FALSE(f.book.failed());
    CHECK(f.book.served().signers == std::vector<std::string>{"node-1"});
  }
  SECTION("the same log and state root is kept") {
    CHECK(f.add(f.checked(1, r, {{1, kNow}}), 1, r).kind == CosignOutcome::Kind::kept);
    CHECK(f.book.served().quorum);
    CHECK(f.book.served().state_root == state_of(r));
  }
  SECTION("waiting ahead: dropped with a warning when the size is reached") {
    CHECK(f.add(f.checked(2, r, {{1, kNow}}, other_state), 1, std::nullopt).kind ==
          CosignOutcome::Kind::pending);
    auto s = must(f.sign_own(2, r, kNow));
    CHECK_THAT(s.warning, Catch::Contains("not kept"));
    CHECK(f.book.served().signers == std::vector<std::string>{"node-1"});
    CHECK_FALSE(f.book.failed());
  }
  SECTION("waiting ahead: a second note on other roots is a conflict there") {
    CHECK(f.add(f.checked(2, r, {{1, kNow}}), 1, std::nullopt).kind ==
          CosignOutcome::Kind::pending);
    CHECK(f.add(f.checked(2, r, {{2, kNow}}, other_state), 1, std::nullopt).kind ==
          CosignOutcome::Kind::conflict);
  }
}

TEST_CASE("book fail-stop: the state root differing from what it signed",
          "[book][checkpoint][state]") {
  Fixture f;
  Hash r = root_of(22);
  Hash other_state = root_of(23);
  must(f.sign_own(1, r, kNow));
  SECTION("signing another state root at a size it signed") {
    auto again = f.book.sign_own(1, r, other_state, f.sig(0, 1, r, kNow, other_state));
    REQUIRE_FALSE(again);
    CHECK_THAT(again.reason(), Catch::Contains("state root"));
    CHECK(f.book.failed());
  }
  SECTION("shown its own valid signature on this log root with another state root") {
    CosignOutcome o = f.add(f.checked(1, r, {{0, kNow}, {1, kNow}}, other_state), 1, r);
    CHECK(o.kind == CosignOutcome::Kind::conflict);
    CHECK(f.book.failed());
    CHECK_THAT(f.book.failure(), Catch::Contains("its history disagrees"));
  }
  SECTION("shown it ahead, met when its ledger gets there") {
    CHECK(f.add(f.checked(2, r, {{0, kNow}}, other_state), 1, std::nullopt).kind ==
          CosignOutcome::Kind::pending);
    CHECK_FALSE(f.sign_own(2, r, kNow));
    CHECK(f.book.failed());
  }
}

TEST_CASE("book: a note that commits to no state root, or with more lines, is refused",
          "[book][checkpoint][state]") {
  Fixture f;
  Hash r = root_of(24);
  auto sign = [&](const std::string& text) {
    SignedNote n{text, {}};
    n.signatures.push_back(must(sign_cosignature(text, "node-2", f.tc->node_key(1), kNow)));
    return format_note(n);
  };
  std::string legacy = Checkpoint{f.tc->ledger_id, 1, r, {}}.text();
  auto none = f.book.check(sign(legacy), kNow);
  REQUIRE_FALSE(none);
  CHECK_THAT(none.reason(), Catch::Contains("no state root"));
  CHECK_FALSE(f.book.check(sign(f.text(1, r) + state_root_line(state_of(r)) + "\n"), kNow));
  CHECK_FALSE(f.book.check(sign(f.text(1, r) + "other extension\n"), kNow));
  CHECK(f.book.check(sign(f.text(1, r)), kNow));
  // A note stored before checkpoints had a state root is not read back.
  CHECK_FALSE(f.book.parse_stored(sign(legacy), 1));
  CHECK(f.book.parse_stored(sign(f.text(1, r)), 1));
}

TEST_CASE("Checkpoint::state_root: the one well-formed state-root line", "[checkpoint][state]") {
  Hash st = root_of(30);
  Checkpoint cp = Checkpoint::make("x", 3, root_of(31), st);
  REQUIRE(cp.extensions.size() == 1);
  CHECK(cp.extensions[0] == "state-root " + base64_encode(st));
  CHECK(cp.state_root() == st);
  CHECK(must(Checkpoint::parse(cp.text())).state_root() == st);
  auto with = [&](std::vector<std::string> ext) {
    Checkpoint c = cp;
    c.extensions = std::move(ext);
    return c.state_root();
  };
  std::string b64 = base64_encode(st);
  CHECK_FALSE(with({}));
  CHECK(with({"other", "state-root " + b64}) == st);  // other extensions are ignored
  CHECK(with({"state-roots " + b64}) == std::nullopt);
  CHECK_FALSE(with({"state-root " + b64, "state-root " + b64}));  // twice
  CHECK_FALSE(with({"state-root"}));
  CHECK_FALSE(with({"state-root  " + b64}));
  CHECK_FALSE(with({"state-root " + base64_encode(Bytes(31, 1))}));  // not 32 bytes
  CHECK_FALSE(with({"state-root " + b64.substr(0, b64.size() - 1)}));
  CHECK_FALSE(with({"state-root " + b64 + " "}));
}

TEST_CASE("verify_checkpoint: a note without a state root is refused", "[checkpoint][state]") {
  auto tc = make_consortium("state-test", 1, 1);
  Checkpoint legacy{tc->ledger_id, 2, root_of(40), {}};
  auto note_of = [&](const Checkpoint& cp) {
    SignedNote n{cp.text(), {}};
    n.signatures.push_back(must(sign_cosignature(n.text, tc->node_id(0), tc->node_key(0), kNow)));
    return format_note(n);
  };
  auto v = verify_checkpoint(tc->consortium, note_of(legacy));
  REQUIRE_FALSE(v);
  CHECK_THAT(v.reason(), Catch::Contains("commits to no state root"));
  Checkpoint bad = legacy;
  bad.extensions = {"state-root nonsense"};
  CHECK_FALSE(verify_checkpoint(tc->consortium, note_of(bad)));
  Checkpoint good = Checkpoint::make(tc->ledger_id, 2, root_of(40), root_of(41));
  CHECK(must(verify_checkpoint(tc->consortium, note_of(good))).checkpoint.state_root() ==
        root_of(41));
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
  Checkpoint cp = Checkpoint::make(tc->ledger_id, 4, root_of(11), state_of(root_of(11)));
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
      "chipledger.dev/dev-267d1253\n5\nwEbomEB2b9feKYUsX0SvZKt7CEEiVS48IbymlvAA8nY=\n"
      "state-root hy7bs/EQoBt8jRLDUig3m01iVKbrehONGInWENad6Oc=\n\n"
      "\xE2\x80\x94 node-maker "
      "9LZ0zAAAAABqsTuAC2st6unBeP8rGxwad2dCPqbhLcYrUONPDYmOkjcjrLWqcwsrMSurgrFcH6QgziHVc6hmjCPwGKqx"
      "Jq"
      "ypPq/cCQ==\n"
      "\xE2\x80\x94 node-dist "
      "EM8OigAAAABqsTuqxGUaBIAvc23uI3zWMAxjPODuKJqftTmRYDwruUlPptHutf+"
      "PpdXgrNjyaU56K7A7hYm3SSbKWpMAco"
      "G0HiJ/CA==\n";
  auto maker = must(PrivateKey::ed25519_from_seed(
      *hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));
  auto dist = must(PrivateKey::ed25519_from_seed(
      *hex_decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")));
  Checkpoint cp =
      Checkpoint::make("chipledger.dev/dev-267d1253", 5, sha256("chipledger example root"),
                       sha256("chipledger example state root"));
  SignedNote note{cp.text(), {}};
  note.signatures.push_back(must(sign_cosignature(note.text, "node-maker", maker, 1'790'000'000)));
  note.signatures.push_back(must(sign_cosignature(note.text, "node-dist", dist, 1'790'000'042)));
  CHECK(format_note(note) == expected);
  CHECK(cp.state_root() == sha256("chipledger example state root"));
  CHECK(must(Checkpoint::parse(cp.text())).state_root() == cp.state_root());
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
