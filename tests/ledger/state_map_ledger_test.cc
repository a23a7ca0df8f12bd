// The state map inside the Ledger (docs/state-map.md): the root is the
// reference root of the serial records after registrations, transfers and
// flags; a serial's record and proof at a kept earlier size are the ones of
// then; readers proving at a fixed size while a writer applies blocks always
// get proofs of that size; a snapshot restore, a store made before the map
// (no state column) and a state column whose build was cut short all get
// the map rebuilt from the serial records; a RocksDB ledger reopens with
// the same map. The random tests print their seed; set
// CHIPLEDGER_TEST_SEED=<n> to replay.
#include <unistd.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger/memory_store.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/forwarding_store.h"
#include "tests/ledger/ledger_fixture.h"
#include "tests/test_seed.h"

using namespace chipledger;
using namespace chipledger::testing;
namespace fs = std::filesystem;

namespace {

using chipledger::testing::test_seed;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("chipledger-state-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::random_device()()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A KvStore that forwards to another (so a test keeps access to the store
// under a ledger).
class SharedStore final : public chipledger::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status scan_ranges(
      Column c, const std::vector<KeyRange>& r,
      const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const override {
    return inner_.scan_ranges(c, r, fn);
  }
};

// The reference root of these serials' records as the ledger keeps them.
Hash reference_root(const Ledger& l, const std::vector<std::string>& serials) {
  std::vector<StateLeaf> leaves;
  for (const auto& s : serials) {
    auto rec = l.serial(s);
    REQUIRE(rec);
    if (rec->has_value()) leaves.emplace_back(state_key(s), state_value_hash((*rec)->encode()));
  }
  std::sort(leaves.begin(), leaves.end());
  return state_root(leaves);
}

void register_block(Ledger& l, const TestConsortium& tc, std::vector<std::string> serials,
                    size_t per_tx = 50, std::optional<uint64_t> entry = std::nullopt) {
  std::vector<PendingTx> txs;
  for (size_t i = 0; i < serials.size(); i += per_tx) {
    std::vector<std::string> part(
        serials.begin() + static_cast<long>(i),
        serials.begin() + static_cast<long>(std::min(i + per_tx, serials.size())));
    txs.push_back({tc.sign(tc.register_tx("maker", part)), false});
  }
  auto out = l.apply_block(std::move(txs), kNow, entry);
  REQUIRE(out);
  for (const auto& o : *out) REQUIRE(o.accepted);
}

SignedTransaction transfer_tx(const Ledger& l, const TestConsortium& tc,
                              const std::string& serial) {
  auto rec = *l.serial(serial);
  Transaction t = tc.tx("maker", TxType::transfer);
  t.to = "dist";
  t.ship_to_country = "SG";
  t.refs.push_back({serial, rec->last_event});
  return tc.sign(t);
}

SignedTransaction flag_tx(const Ledger& l, const TestConsortium& tc, const std::string& serial) {
  auto rec = *l.serial(serial);
  Transaction t = tc.tx("reg", TxType::flag);
  t.reason = "test flag";
  t.refs.push_back({serial, rec->last_event});
  return tc.sign(t);
}

void apply_all(Ledger& l, std::vector<SignedTransaction> txs,
               std::optional<uint64_t> entry = std::nullopt) {
  std::vector<PendingTx> pending;
  for (auto& t : txs) pending.push_back({std::move(t), false});
  auto out = l.apply_block(std::move(pending), kNow, entry);
  REQUIRE(out);
  for (const auto& o : *out) {
    INFO(o.reason);
    REQUIRE(o.accepted);
  }
}

std::vector<std::string> names(const std::string& prefix, size_t from, size_t n) {
  std::vector<std::string> out;
  for (size_t i = from; i < from + n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

void check_serial(const Ledger& l, const std::string& serial, uint64_t size,
                  const std::optional<std::string>& expected, const Hash& root) {
  INFO("serial " << serial << " at size " << size);
  auto a = l.state_proof(serial, size);
  REQUIRE(a);
  REQUIRE(a->root == root);
  REQUIRE(a->record == expected);
  if (expected) {
    REQUIRE(verify_state_presence(root, serial, *expected, a->proof));
  } else {
    REQUIRE(verify_state_absence(root, serial, a->proof));
  }
}

std::optional<std::string> record_now(const Ledger& l, const std::string& serial) {
  auto rec = l.serial(serial);
  REQUIRE(rec);
  if (!rec->has_value()) return std::nullopt;
  return (*rec)->encode();
}

// Copies every column of `from` but those in `skip` into a new store.
std::unique_ptr<MemoryStore> copy_store(const KvStore& from, std::vector<Column> skip) {
  auto to = std::make_unique<MemoryStore>();
  for (int c = 0; c < kColumnCount; ++c) {
    auto col = static_cast<Column>(c);
    if (std::find(skip.begin(), skip.end(), col) != skip.end()) continue;
    WriteBatch b;
    REQUIRE(from.scan(col, "", [&](std::string_view k, std::string_view v) {
      b.put(col, std::string(k), std::string(v));
      return true;
    }));
    REQUIRE(to->write(b, true));
  }
  return to;
}

}  // namespace

TEST_CASE("the ledger's state root is the serial records' and proves them at kept sizes",
          "[ledger][state]") {
  auto tc = TestConsortium::make();
  auto l = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
  std::vector<std::string> all = names("SN-", 0, 120);
  REQUIRE(*l->state_root_at(0) == Hash{});
  register_block(*l, tc, std::vector<std::string>(all.begin(), all.begin() + 60), 7);
  const uint64_t q1 = l->size();
  std::map<std::string, std::optional<std::string>> at_q1;
  for (const auto& s : all) at_q1[s] = record_now(*l, s);
  const Hash root_q1 = reference_root(*l, all);
  REQUIRE(*l->state_root_at(q1) == root_q1);
  register_block(*l, tc, std::vector<std::string>(all.begin() + 60, all.end()), 9);
  apply_all(*l,
            {transfer_tx(*l, tc, "SN-1"), transfer_tx(*l, tc, "SN-2"), flag_tx(*l, tc, "SN-70")});
  apply_all(*l, {flag_tx(*l, tc, "SN-1")});
  const Hash root_now = reference_root(*l, all);
  REQUIRE(*l->state_root_at(l->size()) == root_now);
  REQUIRE(l->oldest_state_size() == 0);
  for (const auto& s : all) {
    check_serial(*l, s, l->size(), record_now(*l, s), root_now);
    check_serial(*l, s, q1, at_q1[s], root_q1);
  }
  check_serial(*l, "NEVER", l->size(), std::nullopt, root_now);
  check_serial(*l, "SN-1", 0, std::nullopt, Hash{});
  REQUIRE(at_q1["SN-1"] != record_now(*l, "SN-1"));  // the old record came from the undo log
  REQUIRE_FALSE(l->state_proof("SN-1", l->size() + 1));
  REQUIRE_FALSE(l->state_root_at(q1 - 1));  // inside the first block
}

TEST_CASE("the ledger keeps the state of its last blocks only", "[ledger][state]") {
  auto tc = TestConsortium::make();
  StateMap::Options o;
  o.max_undo_blocks = 4;
  auto l = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium, o));
  std::vector<uint64_t> sizes{0};
  for (int b = 0; b < 8; ++b) {
    register_block(*l, tc, names("B" + std::to_string(b) + "-", 0, 3), 1);
    sizes.push_back(l->size());
  }
  const uint64_t oldest = l->oldest_state_size();
  REQUIRE(oldest == sizes[sizes.size() - 5]);
  for (uint64_t s : sizes) CHECK(static_cast<bool>(l->state_root_at(s)) == (s >= oldest));
}

TEST_CASE("readers proving at a fixed size while blocks are applied get that size's proofs",
          "[ledger][state]") {
  const uint64_t seed = test_seed();
  WARN("state map concurrency seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  auto tc = TestConsortium::make();
  TempDir dir;
  for (bool rocks : {false, true}) {
    INFO((rocks ? "RocksStore" : "MemoryStore"));
    std::unique_ptr<KvStore> store;
    if (rocks) {
      store = std::move(*RocksStore::open((dir.path / "db").string()));
    } else {
      store = std::make_unique<MemoryStore>();
    }
    auto l = std::move(*Ledger::open(std::move(store), tc.consortium));
    std::vector<std::string> first = names("C-", 0, 300);
    register_block(*l, tc, first);
    const uint64_t q = l->size();
    const Hash root_q = *l->state_root_at(q);
    std::map<std::string, std::optional<std::string>> at_q;
    for (const auto& s : first) at_q[s] = record_now(*l, s);
    std::vector<std::string> later = names("L-", 0, 400);
    for (const auto& s : later) at_q[s] = std::nullopt;
    std::vector<std::string> asked;
    for (const auto& [s, r] : at_q) asked.push_back(s);

    std::atomic<bool> done{false};
    std::atomic<uint64_t> proofs{0};
    std::atomic<uint64_t> failures{0};
    std::string first_failure;
    std::thread reader([&] {
      std::mt19937_64 rng(seed);
      // At least a few proofs, and on until the writer is done.
      while (!done.load() || proofs.load() < 50) {
        const std::string& s = asked[rng() % asked.size()];
        auto a = l->state_proof(s, q);
        bool ok = a && a->root == root_q && a->record == at_q[s] &&
                  (a->record ? verify_state_presence(root_q, s, *a->record, a->proof)
                             : verify_state_absence(root_q, s, a->proof))
                      .is_ok();
        if (!ok && failures.fetch_add(1) == 0) {
          first_failure = s + ": " + (a ? "wrong proof or record" : a.reason());
        }
        proofs.fetch_add(1);
      }
    });
    for (int b = 0; b < 40; ++b) {
      std::vector<SignedTransaction> txs;
      for (int i = 0; i < 5; ++i)
        txs.push_back(transfer_tx(*l, tc, first[static_cast<size_t>(b * 5 + i)]));
      for (int i = 0; i < 2; ++i)
        txs.push_back(flag_tx(*l, tc, first[static_cast<size_t>(200 + b * 2 + i) % 300]));
      auto reg = tc.register_tx("maker", {later.begin() + b * 10, later.begin() + b * 10 + 10});
      txs.push_back(tc.sign(reg));
      apply_all(*l, std::move(txs));
    }
    done = true;
    reader.join();
    INFO(first_failure);
    CHECK(failures.load() == 0);
    CHECK(proofs.load() >= 50);
    WARN("state map concurrency: " << proofs.load() << " proofs at a fixed size during 40 blocks ("
                                   << (rocks ? "RocksStore" : "MemoryStore") << ")");
  }
}

TEST_CASE("a snapshot restore rebuilds the state map from the restored serial records",
          "[ledger][state][snapshot]") {
  auto tc = TestConsortium::make();
  auto source = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
  auto behind_store = std::make_unique<MemoryStore>();
  MemoryStore* behind_raw = behind_store.get();
  auto behind = std::move(*Ledger::open(std::make_unique<SharedStore>(*behind_raw), tc.consortium));
  std::vector<std::string> all = names("R-", 0, 50);
  auto first = std::vector<std::string>(all.begin(), all.begin() + 20);
  register_block(*source, tc, first, 50, 1);
  register_block(*behind, tc, first, 50, 1);
  register_block(*source, tc, std::vector<std::string>(all.begin() + 20, all.end()), 50, 2);
  apply_all(*source, {transfer_tx(*source, tc, "R-3")}, 3);
  auto snap = source->snapshot();
  REQUIRE(snap);
  for (Ledger* target : {behind.get()}) {
    auto restored = target->restore(*snap);
    INFO(restored.reason());
    REQUIRE(restored);
    REQUIRE(*restored);
  }
  auto empty = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
  REQUIRE(empty->restore(*snap));
  const Hash root = *source->state_root_at(source->size());
  for (Ledger* target : {behind.get(), empty.get()}) {
    REQUIRE(target->size() == source->size());
    REQUIRE(*target->state_root_at(target->size()) == root);
    REQUIRE(target->oldest_state_size() == target->size());
    for (const auto& s : all)
      check_serial(*target, s, target->size(), record_now(*source, s), root);
    // It goes on applying blocks.
    apply_all(*target, {transfer_tx(*target, tc, "R-30")}, 4);
    REQUIRE(*target->state_root_at(target->size()) == reference_root(*target, all));
  }
  // The state column is in the restored store, with its count: reopening
  // reads it (and finds it complete).
  behind.reset();
  auto reopened =
      std::move(*Ledger::open(std::make_unique<SharedStore>(*behind_raw), tc.consortium));
  REQUIRE(*reopened->state_root_at(reopened->size()) == reference_root(*reopened, all));
}

TEST_CASE("a store without a complete state column gets it built from the serial records",
          "[ledger][state]") {
  auto tc = TestConsortium::make();
  MemoryStore original;
  std::vector<std::string> all = names("U-", 0, 80);
  Hash root{};
  uint64_t size = 0;
  {
    auto l = std::move(*Ledger::open(std::make_unique<SharedStore>(original), tc.consortium));
    register_block(*l, tc, all, 9);
    apply_all(*l, {transfer_tx(*l, tc, "U-5")});
    root = *l->state_root_at(l->size());
    size = l->size();
  }
  SECTION("a store made before the map: no state column at all") {
    auto store = copy_store(original, {Column::state});
    MemoryStore* raw = store.get();
    auto l = Ledger::open(std::move(store), tc.consortium);
    REQUIRE(l);
    REQUIRE(*(*l)->state_root_at(size) == root);
    size_t entries = 0;
    REQUIRE(raw->scan(Column::state, "", [&](std::string_view, std::string_view) {
      ++entries;
      return true;
    }));
    CHECK(entries == all.size() + 1);  // the leaves and their count
  }
  SECTION("a build cut short: some leaves, no count") {
    auto store = copy_store(original, {Column::state});
    WriteBatch partial;
    for (size_t i = 0; i < 10; ++i) {
      auto rec = *store->get(Column::serials, all[i]);
      partial.put(Column::state,
                  std::string(reinterpret_cast<const char*>(state_key(all[i]).data()), 32),
                  std::string(reinterpret_cast<const char*>(state_value_hash(*rec).data()), 32));
    }
    REQUIRE(store->write(partial, true));
    auto l = Ledger::open(std::move(store), tc.consortium);
    REQUIRE(l);
    REQUIRE(*(*l)->state_root_at(size) == root);
  }
  SECTION("a count that disagrees with the leaves") {
    auto store = copy_store(original, {});
    WriteBatch wrong;
    wrong.put(Column::state, "", encode_u64_key(all.size() + 3));
    REQUIRE(store->write(wrong, true));
    auto l = Ledger::open(std::move(store), tc.consortium);
    REQUIRE(l);
    REQUIRE(*(*l)->state_root_at(size) == root);
  }
}

TEST_CASE("a RocksDB ledger reopens with the same state map, also across depth rebuilds",
          "[ledger][state]") {
  auto tc = TestConsortium::make();
  TempDir dir;
  const std::string path = (dir.path / "db").string();
  StateMap::Options o;
  o.min_depth = 1;
  o.max_depth = 5;
  std::vector<std::string> all = names("K-", 0, 400);
  Hash root{};
  {
    auto l = std::move(*Ledger::open(std::move(*RocksStore::open(path)), tc.consortium, o));
    for (size_t b = 0; b < 8; ++b) {
      register_block(*l, tc,
                     std::vector<std::string>(all.begin() + static_cast<long>(b * 50),
                                              all.begin() + static_cast<long>(b * 50 + 50)));
      REQUIRE(*l->state_root_at(l->size()) == reference_root(*l, all));
    }
    CHECK(l->state_map().depth() == 5);
    root = *l->state_root_at(l->size());
  }
  auto l = std::move(*Ledger::open(std::move(*RocksStore::open(path)), tc.consortium, o));
  REQUIRE(*l->state_root_at(l->size()) == root);
  for (size_t i = 0; i < all.size(); i += 37) {
    check_serial(*l, all[i], l->size(), record_now(*l, all[i]), root);
  }
}

// Not a test: instruction counts of apply_block with the state map, for
// docs/state-map.md ("Cost"). Run under
//   valgrind --tool=callgrind --collect-atstart=no
//     --toggle-collect='*measured_block*' build/ledger_tests "[.state-callgrind]"
// (CHIPLEDGER_STATE_PRELOAD serials first, default 200,000, 10,000 per block).
namespace {

void apply_checked(Ledger& l, std::vector<PendingTx> txs) {
  auto out = l.apply_block(std::move(txs), kNow);
  REQUIRE(out);
  for (const auto& o : *out) REQUIRE(o.accepted);
}
[[gnu::noinline]] void measured_block_register(Ledger& l, std::vector<PendingTx> txs) {
  apply_checked(l, std::move(txs));
}
[[gnu::noinline]] void measured_block_transfers(Ledger& l, std::vector<PendingTx> txs) {
  apply_checked(l, std::move(txs));
}

std::vector<PendingTx> checked(std::vector<SignedTransaction> txs) {
  std::vector<PendingTx> out;
  for (auto& t : txs) out.push_back({std::move(t), true});  // signatures checked on arrival
  return out;
}

}  // namespace

TEST_CASE("apply_block instruction counts with the state map", "[.state-callgrind]") {
  auto tc = TestConsortium::make();
  TempDir dir;
  uint64_t preload = 200000;
  if (const char* env = std::getenv("CHIPLEDGER_STATE_PRELOAD"))
    preload = std::strtoull(env, nullptr, 10);
  StateMap::Options o;
  if (const char* env = std::getenv("CHIPLEDGER_STATE_CACHE")) {
    o.bucket_cache_bytes = std::strtoull(env, nullptr, 10);
  }
  auto l = std::move(
      *Ledger::open(std::move(*RocksStore::open((dir.path / "db").string())), tc.consortium, o));
  for (uint64_t i = 0; i < preload; i += 10000) {
    auto block = checked({tc.sign(tc.register_tx("maker", names("P-", i, 10000)))});
    auto out = l->apply_block(std::move(block), kNow);
    REQUIRE(out);
  }
  // One register block of 10,000 new serials (one transaction), then one
  // block of 1,000 transfers of distinct serials.
  measured_block_register(*l, checked({tc.sign(tc.register_tx("maker", names("NEW-", 0, 10000)))}));
  std::vector<SignedTransaction> transfers;
  for (uint64_t i = 0; i < 1000; ++i)
    transfers.push_back(transfer_tx(*l, tc, "P-" + std::to_string(i * 7)));
  measured_block_transfers(*l, checked(std::move(transfers)));
  WARN("state map depth " << l->state_map().depth() << " at " << l->state_map().leaf_count()
                          << " leaves");
}
