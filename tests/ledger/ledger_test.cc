// The ledger over real storage: blocks survive reopening, a failed write
// leaves nothing behind and stops the ledger, a data folder refuses another
// consortium, and decoding refuses every malformed input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "crypto/merkle.h"
#include "ledger/memory_store.h"
#include "ledger/merkle_log.h"
#include "ledger/rocks_store.h"
#include "ledger/transaction_json.h"
#include "tests/ledger/ledger_fixture.h"

using namespace chipledger;
using namespace chipledger::testing;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("chipledger-ledger-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::random_device()()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Forwards to a MemoryStore until told to fail writes (as a full disk
// does) or reads of the serials' records (an I/O error).
class FailingStore final : public KvStore {
 public:
  explicit FailingStore(MemoryStore& inner) : inner_(inner) {}
  bool fail = false;
  bool fail_serial_reads = false;
  Result<std::optional<std::string>> get(Column c, std::string_view k) const override {
    if (fail_serial_reads && c == Column::serials) {
      return Status::io("read error on the serials (simulated)");
    }
    return inner_.get(c, k);
  }
  Status write(const WriteBatch& b, bool sync) override {
    if (fail) return Status::io("disk full (simulated)");
    return inner_.write(b, sync);
  }
  Status scan(Column c, std::string_view p,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return inner_.scan(c, p, fn);
  }
  Result<std::unique_ptr<KvView>> view() const override { return inner_.view(); }

 private:
  MemoryStore& inner_;
};

std::vector<PendingTx> registrations(const TestConsortium& tc, int first, int count) {
  std::vector<PendingTx> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back({tc.sign(tc.register_tx("maker", {"SN" + std::to_string(i)})), false});
  }
  return out;
}

}  // namespace

TEST_CASE("a RocksDB ledger keeps its blocks, roots and records across reopening", "[ledger]") {
  TempDir dir;
  auto tc = TestConsortium::make();
  Hash root{};
  {
    auto ledger = *Ledger::open(std::move(*RocksStore::open(dir.path.string())), tc.consortium);
    for (int b = 0; b < 5; ++b) {
      auto out = ledger->apply_block(registrations(tc, b * 10, 10), kNow);
      REQUIRE(out);
      for (const auto& o : *out) REQUIRE(o.accepted);
    }
    REQUIRE(ledger->size() == 50);
    root = *ledger->root_at(50);
  }
  auto ledger = *Ledger::open(std::move(*RocksStore::open(dir.path.string())), tc.consortium);
  CHECK(ledger->size() == 50);
  CHECK(*ledger->root_at(50) == root);
  CHECK((*ledger->serial("SN42"))->last_index == 42);
  // Every stored event is the leaf the root commits to.
  for (uint64_t i = 0; i < 50; i += 7) {
    auto leaf = ledger->event(i);
    REQUIRE(leaf);
    auto proof = ledger->inclusion_proof(i, 50);
    REQUIRE(proof);
    CHECK(merkle::verify_inclusion(i, 50, merkle::leaf_hash(*leaf), *proof, root));
  }
  // The replay set survived too.
  auto again = ledger->apply_block(registrations(tc, 3, 1), kNow);
  REQUIRE(again);
  CHECK_THAT((*again)[0].reason, Catch::Contains("replay"));
}

TEST_CASE("the ledger's cached roots and proofs are the stored tree's, at every size", "[ledger]") {
  const char* env = std::getenv("CHIPLEDGER_TEST_SEED");
  const uint64_t seed = env ? std::strtoull(env, nullptr, 10) : std::random_device()();
  WARN("ledger cache seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  auto tc = TestConsortium::make();
  MemoryStore memory;
  auto ledger = *Ledger::open(std::make_unique<FailingStore>(memory), tc.consortium);
  int next = 0;
  while (ledger->size() < 300) {
    const int n = 1 + static_cast<int>(rng() % 12);
    REQUIRE(ledger->apply_block(registrations(tc, next, n), kNow));
    next += n;
    const uint64_t size = ledger->size();
    // The root of each block, as the checkpoint takes it.
    REQUIRE(*ledger->root_at(size) == *MerkleLog::root_at(memory, size));
  }
  const uint64_t total = ledger->size();
  auto check_all = [&](const Ledger& l) {
    for (uint64_t size = 0; size <= total; ++size) {
      INFO("size " << size);
      REQUIRE(*l.root_at(size) == *MerkleLog::root_at(memory, size));
    }
    for (int k = 0; k < 400; ++k) {
      const uint64_t size = 1 + rng() % total;
      const uint64_t index = rng() % size;
      const uint64_t size1 = rng() % (size + 1);
      INFO("index " << index << " size " << size << " size1 " << size1);
      REQUIRE(*l.inclusion_proof(index, size) == *MerkleLog::inclusion_proof(memory, index, size));
      REQUIRE(*l.consistency_proof(size1, size) ==
              *MerkleLog::consistency_proof(memory, size1, size));
    }
    // Out of range stays refused.
    CHECK_FALSE(l.root_at(total + 1));
    CHECK_FALSE(l.inclusion_proof(total, total));
    CHECK_FALSE(l.inclusion_proof(0, total + 1));
    // events() is event() per index, in the order asked.
    std::vector<uint64_t> some = {total - 1, 0, 5, 5, 17};
    auto many = l.events(some);
    REQUIRE(many);
    for (size_t i = 0; i < some.size(); ++i) CHECK((*many)[i] == *l.event(some[i]));
    CHECK_FALSE(l.events({0, total}));
    // event_views() decodes and renders what event() reads, cached or not,
    // in order.
    for (int round = 0; round < 2; ++round) {
      std::vector<uint64_t> asked;
      for (int k = 0; k < 50; ++k) asked.push_back(rng() % total);
      auto views = l.event_views(asked);
      REQUIRE(views);
      REQUIRE(views->size() == asked.size());
      for (size_t i = 0; i < asked.size(); ++i) {
        const Bytes wire = *l.event(asked[i]);
        const auto stx = *SignedTransaction::decode(wire);
        CHECK((*views)[i]->tx.wire() == wire);
        CHECK((*views)[i]->tx.txid == stx.txid);
        CHECK((*views)[i]->tx_base64 == base64_encode(wire));
        CHECK((*views)[i]->view_json == transaction_view(stx.tx).dump());
      }
    }
    CHECK_FALSE(l.event_views({total}));
  };
  check_all(*ledger);
  // A reopened ledger (its caches rebuilt from the store) answers the same.
  ledger.reset();
  auto reopened = *Ledger::open(std::make_unique<FailingStore>(memory), tc.consortium);
  check_all(*reopened);
}

TEST_CASE("event views stay right when the cache of them is full and evicts", "[ledger]") {
  auto tc = TestConsortium::make();
  auto ledger = *Ledger::open(std::make_unique<MemoryStore>(), tc.consortium);
  const int total = static_cast<int>(Ledger::kEventViews) + 300;
  for (int first = 0; first < total; first += 500) {
    REQUIRE(ledger->apply_block(registrations(tc, first, std::min(500, total - first)), kNow));
  }
  REQUIRE(ledger->size() == static_cast<uint64_t>(total));
  for (int pass = 0; pass < 2; ++pass) {
    for (int first = 0; first < total; first += 700) {
      std::vector<uint64_t> asked;
      for (int i = first; i < std::min(total, first + 700); ++i) asked.push_back(i);
      if (pass == 1) std::reverse(asked.begin(), asked.end());
      auto views = ledger->event_views(asked);
      REQUIRE(views);
      for (size_t i = 0; i < asked.size(); ++i) {
        const Bytes wire = *ledger->event(asked[i]);
        REQUIRE((*views)[i]->tx.wire() == wire);
        REQUIRE((*views)[i]->tx_base64 == base64_encode(wire));
      }
    }
  }
}

TEST_CASE("a data folder refuses a different consortium", "[ledger]") {
  TempDir dir;
  auto tc = TestConsortium::make();
  { REQUIRE(Ledger::open(std::move(*RocksStore::open(dir.path.string())), tc.consortium)); }
  auto other = Consortium::create("chipledger.test/other", 1, Policy{});
  REQUIRE(other->add_member(Member{"m",
                                   "m",
                                   {Role::manufacturer},
                                   "TW",
                                   {PrivateKey::generate(KeyAlgorithm::ed25519)->public_key()},
                                   false}));
  auto refused = Ledger::open(std::move(*RocksStore::open(dir.path.string())), *other);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.reason(), Catch::Contains("holds ledger 'chipledger.test/ledger'"));
}

TEST_CASE("a failed block write leaves nothing and stops the ledger", "[ledger]") {
  auto tc = TestConsortium::make();
  MemoryStore memory;
  auto store = std::make_unique<FailingStore>(memory);
  FailingStore* failing = store.get();
  auto ledger = *Ledger::open(std::move(store), tc.consortium);
  REQUIRE(ledger->apply_block(registrations(tc, 0, 3), kNow));
  failing->fail = true;
  auto out = ledger->apply_block(registrations(tc, 3, 3), kNow);
  REQUIRE_FALSE(out);
  CHECK_THAT(out.reason(), Catch::Contains("disk full"));
  CHECK(out.status().is_io());
  CHECK(ledger->size() == 3);
  failing->fail = false;
  auto later = ledger->apply_block(registrations(tc, 6, 1), kNow);
  REQUIRE_FALSE(later);
  CHECK_THAT(later.reason(), Catch::Contains("stopped after a storage failure"));
  CHECK(later.status().is_unavailable());
  // Restarting from storage sees exactly the three committed registrations.
  auto reopened = *Ledger::open(std::make_unique<FailingStore>(memory), tc.consortium);
  CHECK(reopened->size() == 3);
  CHECK_FALSE(reopened->serial("SN3")->has_value());
  REQUIRE(reopened->apply_block(registrations(tc, 3, 1), kNow));
  CHECK(reopened->size() == 4);
}

TEST_CASE("a read error while a block is applied stops the ledger, it is no refusal", "[ledger]") {
  auto tc = TestConsortium::make();
  MemoryStore memory;
  auto store = std::make_unique<FailingStore>(memory);
  FailingStore* failing = store.get();
  auto ledger = *Ledger::open(std::move(store), tc.consortium);
  REQUIRE(ledger->apply_block(registrations(tc, 0, 3), kNow));
  failing->fail_serial_reads = true;
  // The second registration's read fails, after the first one was taken.
  auto out = ledger->apply_block(registrations(tc, 3, 2), kNow);
  REQUIRE_FALSE(out);  // not outcomes with a "refused" in them
  CHECK(out.status().is_io());
  CHECK(out.status().is_storage_failure());
  CHECK_THAT(out.reason(), Catch::Contains("read error on the serials"));
  CHECK(ledger->size() == 3);
  failing->fail_serial_reads = false;
  auto later = ledger->apply_block(registrations(tc, 5, 1), kNow);
  REQUIRE_FALSE(later);
  CHECK(later.status().is_unavailable());
  // Restarted, the node applies the same block as every other replica does.
  auto reopened = *Ledger::open(std::make_unique<FailingStore>(memory), tc.consortium);
  CHECK(reopened->size() == 3);
  auto again = reopened->apply_block(registrations(tc, 3, 2), kNow);
  REQUIRE(again);
  CHECK((*again)[0].accepted);
  CHECK((*again)[1].accepted);
}

TEST_CASE("a stored record that does not decode is corrupt: the ledger stops", "[ledger]") {
  auto tc = TestConsortium::make();
  MemoryStore memory;
  auto ledger = *Ledger::open(std::make_unique<FailingStore>(memory), tc.consortium);
  REQUIRE(ledger->apply_block(registrations(tc, 0, 2), kNow));
  WriteBatch damage;
  damage.put(Column::serials, "SN1", "not a serial record");
  REQUIRE(memory.write(damage, true));
  // Registering SN1 again (another transaction: not a replay) reads its
  // record: a corrupt store, not "already registered".
  Transaction again = tc.register_tx("maker", {"SN1"});
  again.time_ms = kNow + 1;
  auto out = ledger->apply_block({PendingTx{tc.sign(again), false}}, kNow);
  REQUIRE_FALSE(out);
  CHECK(out.status().is_corrupt());
  CHECK_THAT(out.reason(), Catch::Contains("stored record of serial SN1"));
  CHECK_FALSE(ledger->apply_block(registrations(tc, 5, 1), kNow));
}

TEST_CASE("a block of only refused transactions writes nothing", "[ledger]") {
  auto tc = TestConsortium::make();
  auto ledger = *Ledger::open(std::make_unique<MemoryStore>(), tc.consortium);
  auto out = ledger->apply_block({{tc.sign(tc.register_tx("dist", {"SN1"})), false}}, kNow);
  REQUIRE(out);
  CHECK_FALSE((*out)[0].accepted);
  CHECK(ledger->size() == 0);
}

TEST_CASE("decoding refuses every truncation and any trailing byte", "[encoding]") {
  auto tc = TestConsortium::make();
  Transaction t = tc.register_tx("maker", {"SN1", "SN2"});
  Bytes wire = tc.sign(t).wire();
  for (size_t n = 0; n < wire.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(SignedTransaction::decode(ByteView(wire).first(n)));
  }
  Bytes longer = wire;
  longer.push_back(0);
  auto r = SignedTransaction::decode(longer);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("trailing"));
  CHECK(SignedTransaction::decode(wire));
}

TEST_CASE("txid_of_wire gives decode's txid and refuses what decode refuses for framing",
          "[encoding]") {
  auto tc = TestConsortium::make();
  for (const auto& t : {tc.register_tx("maker", {"SN1", "SN2"}), tc.register_tx("maker", {"X"})}) {
    Bytes wire = tc.sign(t).wire();
    auto txid = SignedTransaction::txid_of_wire(wire);
    REQUIRE(txid);
    CHECK(*txid == SignedTransaction::decode(wire)->txid);
    for (size_t n = 0; n < wire.size(); ++n) {
      INFO("prefix of " << n << " bytes");
      CHECK_FALSE(SignedTransaction::txid_of_wire(ByteView(wire).first(n)));
    }
    Bytes longer = wire;
    longer.push_back(0);
    CHECK_FALSE(SignedTransaction::txid_of_wire(longer));
  }
  // A signature length over the limit, as decode refuses it.
  Bytes odd = {0, 0, 0, 1, 0x01, 0, 0, 1, 1};
  odd.resize(odd.size() + 257, 0);
  CHECK_FALSE(SignedTransaction::txid_of_wire(odd));
}

TEST_CASE("decoding refuses malformed fields with a reason", "[encoding]") {
  auto tc = TestConsortium::make();
  auto body_of = [&](Transaction t) {
    // Encode without the encoder's checks by patching a valid body.
    return *encode_body(t);
  };
  Bytes body = body_of(tc.register_tx("maker", {"SN1"}));
  SECTION("unknown version") {
    body[0] = 2;
    CHECK_THAT(decode_body(body).reason(), Catch::Contains("unsupported transaction version 2"));
  }
  SECTION("unknown type") {
    body[1] = 99;
    CHECK_THAT(decode_body(body).reason(), Catch::Contains("unknown transaction type 99"));
  }
  SECTION("a length that runs past the end") {
    body[2] = 0x7f;
    CHECK_THAT(decode_body(body).reason(), Catch::Contains("over the limit"));
  }
  SECTION("the encoder refuses what the decoder would") {
    Transaction bad = tc.register_tx("maker", {"SN1", "SN1"});
    CHECK_THAT(encode_body(bad).reason(), Catch::Contains("serial SN1 appears twice"));
    bad = tc.register_tx("maker", {"bad serial"});
    CHECK_THAT(encode_body(bad).reason(), Catch::Contains("may only contain"));
    bad = tc.register_tx("maker", {});
    CHECK_THAT(encode_body(bad).reason(), Catch::Contains("names no serial"));
    bad = tc.register_tx("maker", {"SN1"});
    bad.country = "tw";
    CHECK_THAT(encode_body(bad).reason(), Catch::Contains("ISO 3166-1"));
    bad = tc.tx("maker", TxType::transfer);
    bad.to = "Dist";
    bad.ship_to_country = "SG";
    bad.refs = {{"SN1", {}}};
    CHECK_THAT(encode_body(bad).reason(), Catch::Contains("member id 'Dist'"));
  }
}

TEST_CASE("random byte flips never crash the decoder", "[encoding]") {
  auto tc = TestConsortium::make();
  Transaction t = tc.register_tx("maker", {"SN1", "SN2"});
  Bytes wire = tc.sign(t).wire();
  const char* env = std::getenv("CHIPLEDGER_TEST_SEED");
  auto seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device()();
  WARN("decoder byte-flip seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  std::mt19937 rng(seed);
  int decoded = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes m = wire;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    auto r = SignedTransaction::decode(m);
    if (r) {
      ++decoded;
      CHECK(*encode_body(r->tx) == r->body);  // whatever decodes is canonical
    }
  }
  SUCCEED("decoded " << decoded << " of 5000 mutations");
}
