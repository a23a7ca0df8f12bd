// Ledger state snapshots (docs/encoding.md, "Snapshots"): a snapshot
// restores the whole state into an empty ledger or one holding an earlier
// point of the same log (same size, root, records, proofs, replay
// protection), is only checked when the ledger has it already, and is
// refused whole when it is malformed, of another ledger, of another
// history, or behind the ledger.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <random>

#include "ledger/memory_store.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/ledger_fixture.h"
#include "tests/ledger/temp_dir.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

std::unique_ptr<Ledger> empty_ledger(const TestConsortium& tc) {
  return std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
}

// Applies one block of registrations of `serials`, as Raft entry `entry`.
void apply(Ledger& l, const TestConsortium& tc, std::vector<std::string> serials, uint64_t entry) {
  std::vector<PendingTx> txs;
  for (auto& s : serials) txs.push_back({tc.sign(tc.register_tx("maker", {s})), false});
  auto out = l.apply_block(std::move(txs), kNow, entry);
  REQUIRE(out);
  for (const auto& o : *out) REQUIRE(o.accepted);
}

}  // namespace

TEST_CASE("a snapshot restores the whole state into an empty or an earlier ledger",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  auto source = empty_ledger(tc);
  auto behind = empty_ledger(tc);
  apply(*source, tc, {"SN-1", "SN-2"}, 3);
  apply(*behind, tc, {"SN-1", "SN-2"}, 3);
  apply(*source, tc, {"SN-3"}, 5);
  // A transfer, so a record is overwritten after the earlier point.
  auto sn1 = *source->serial("SN-1");
  Transaction t = tc.tx("maker", TxType::transfer);
  t.to = "dist";
  t.ship_to_country = "SG";
  t.refs.push_back({"SN-1", sn1->last_event});
  SignedTransaction transfer = tc.sign(t);
  auto moved = source->apply_block({PendingTx{transfer, false}}, kNow, 9);
  REQUIRE(moved);
  REQUIRE((*moved)[0].accepted);
  REQUIRE(source->size() == 4);

  auto snap = source->snapshot();
  REQUIRE(snap);
  auto check = [&](Ledger& target) {
    auto restored = target.restore(*snap);
    INFO(restored.reason());
    REQUIRE(restored);
    CHECK(*restored);
    CHECK(target.size() == 4);
    CHECK(target.applied_entry() == 9);
    CHECK(*target.root_at(4) == *source->root_at(4));
    CHECK(*target.root_at(2) == *source->root_at(2));
    auto rec = *target.serial("SN-1");
    REQUIRE(rec.has_value());
    CHECK(rec->last_event == transfer.txid);
    CHECK(*target.inclusion_proof(1, 4) == *source->inclusion_proof(1, 4));
    CHECK(*target.consistency_proof(2, 4) == *source->consistency_proof(2, 4));
    // Replay protection came along; the restored ledger goes on applying.
    std::vector<PendingTx> replay{{tc.sign(tc.register_tx("maker", {"SN-3"})), false}};
    auto again = target.apply_block(std::move(replay), kNow, 10);
    REQUIRE(again);
    CHECK_FALSE((*again)[0].accepted);
    apply(target, tc, {"SN-4"}, 11);
    CHECK(target.size() == 5);
  };
  SECTION("into an empty ledger") { check(*empty_ledger(tc)); }
  SECTION("into a ledger at an earlier point of the same log") { check(*behind); }
}

namespace {

// A fresh directory under the system temp dir, removed with its contents.
struct SnapDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("chipledger-snapview-" + std::to_string(std::random_device()()));
  SnapDir() { std::filesystem::create_directories(path); }
  ~SnapDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Takes a snapshot view, applies more blocks, and checks that the snapshot
// encoded from the view is byte for byte the one snapshot() gave when the
// view was taken, and that it restores that point (not the later one).
void check_view_is_point_in_time(Ledger& l, const TestConsortium& tc) {
  apply(l, tc, {"V-1", "V-2"}, 2);
  apply(l, tc, {"V-3"}, 4);
  auto at_view = l.snapshot();
  REQUIRE(at_view);
  auto view = l.snapshot_view();
  INFO(view.reason());
  REQUIRE(view);
  CHECK(view->applied_entry == 4);
  CHECK(view->size == 3);
  CHECK(view->root == *l.root_at(3));

  // Applies go on, a record is overwritten, while the view is kept.
  apply(l, tc, {"V-4", "V-5"}, 6);
  auto v1 = *l.serial("V-1");
  Transaction t = tc.tx("maker", TxType::transfer);
  t.to = "dist";
  t.ship_to_country = "SG";
  t.refs.push_back({"V-1", v1->last_event});
  auto moved = l.apply_block({PendingTx{tc.sign(t), false}}, kNow, 7);
  REQUIRE(moved);
  REQUIRE((*moved)[0].accepted);
  REQUIRE(l.size() == 6);

  auto encoded = Ledger::encode_snapshot(*view);
  INFO(encoded.reason());
  REQUIRE(encoded);
  CHECK(*encoded == *at_view);
  // Encoding again from the same view gives the same bytes.
  auto again = Ledger::encode_snapshot(*view);
  REQUIRE(again);
  CHECK(*again == *at_view);
  auto now = l.snapshot();
  REQUIRE(now);
  CHECK(*now != *at_view);

  auto target = empty_ledger(tc);
  auto restored = target->restore(*encoded);
  INFO(restored.reason());
  REQUIRE(restored);
  CHECK(*restored);
  CHECK(target->size() == 3);
  CHECK(target->applied_entry() == 4);
  CHECK(*target->root_at(3) == *l.root_at(3));
  auto old_v1 = *target->serial("V-1");
  REQUIRE(old_v1);
  CHECK(old_v1->last_event == v1->last_event);  // not the transfer's
  CHECK((*l.serial("V-1"))->last_event != v1->last_event);
  CHECK(*target->serial("V-4") == std::nullopt);
}

}  // namespace

TEST_CASE("a snapshot encoded from a view is the snapshot at the view, on MemoryStore",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  auto l = empty_ledger(tc);
  check_view_is_point_in_time(*l, tc);
}

TEST_CASE("a snapshot encoded from a view is the snapshot at the view, on RocksStore",
          "[ledger][snapshot][rocks]") {
  auto tc = TestConsortium::make();
  SnapDir dir;
  {
    auto store = RocksStore::open((dir.path / "db").string());
    INFO(store.reason());
    REQUIRE(store);
    auto l = Ledger::open(std::move(*store), tc.consortium);
    REQUIRE(l);
    check_view_is_point_in_time(**l, tc);
  }
}

TEST_CASE("a snapshot the ledger has already is checked, not written", "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  auto l = empty_ledger(tc);
  apply(*l, tc, {"SN-1"}, 2);
  auto old_snap = *l->snapshot();
  apply(*l, tc, {"SN-2"}, 4);
  auto same = l->restore(*l->snapshot());
  REQUIRE(same);
  CHECK_FALSE(*same);
  auto older = l->restore(old_snap);
  REQUIRE(older);
  CHECK_FALSE(*older);
  CHECK(l->size() == 2);
  CHECK(l->applied_entry() == 4);
}

TEST_CASE("snapshots that are malformed, foreign, of another history or behind are refused",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  auto source = empty_ledger(tc);
  apply(*source, tc, {"SN-1", "SN-2"}, 3);
  Bytes snap = *source->snapshot();

  SECTION("every truncation and a trailing byte") {
    for (size_t n = 0; n < snap.size(); n += std::max<size_t>(1, snap.size() / 97)) {
      auto l = empty_ledger(tc);
      CHECK_FALSE(l->restore(ByteView(snap.data(), n)));
      CHECK(l->size() == 0);
    }
    Bytes longer = snap;
    longer.push_back(0);
    CHECK_FALSE(empty_ledger(tc)->restore(longer));
  }
  SECTION("a changed byte in a stored leaf: not the leaf the tree commits to") {
    Bytes leaf = *source->event(1);
    Bytes bad = snap;
    auto at = std::search(bad.begin(), bad.end(), leaf.begin(), leaf.end());
    REQUIRE(at != bad.end());
    *(at + static_cast<long>(leaf.size() / 2)) ^= 0x01;
    auto l = empty_ledger(tc);
    CHECK_FALSE(l->restore(bad));
    CHECK(l->size() == 0);
  }
  SECTION("a changed byte in a tree node: the tree does not give the root") {
    // The root of the 2 leaves is a stored tree node (level 1, index 0);
    // skip the header (version, kind, entry, size, root: 50 bytes).
    Hash node = *source->root_at(2);
    Bytes bad = snap;
    auto at = std::search(bad.begin() + 50, bad.end(), node.begin(), node.end());
    REQUIRE(at != bad.end());
    *at ^= 0x80;
    auto r = empty_ledger(tc)->restore(bad);
    CHECK_FALSE(r);
  }
  SECTION("another ledger's snapshot") {
    auto other_tc = TestConsortium::make();
    auto c = Consortium::create("chipledger.test/other", 1, Policy{});
    REQUIRE(c);
    auto other = std::move(*Ledger::open(std::make_unique<MemoryStore>(), std::move(*c)));
    auto r = other->restore(snap);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains("another ledger"));
  }
  SECTION("a ledger with another history") {
    auto l = empty_ledger(tc);
    apply(*l, tc, {"SN-OTHER"}, 2);
    auto r = l->restore(snap);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains("disagrees"));
    CHECK(l->size() == 1);
  }
  SECTION("a snapshot behind the ledger's log at a later entry") {
    auto l = empty_ledger(tc);
    apply(*l, tc, {"SN-1", "SN-2"}, 1);
    apply(*l, tc, {"SN-3"}, 2);
    // Same history, but the snapshot names entry 3, beyond this ledger's 2,
    // with fewer log entries: not a later point of this log.
    auto r = l->restore(snap);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains("behind"));
  }
}

TEST_CASE("a snapshot whose derived state is not what its log gives is refused",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  // The sender's store is tampered with below its ledger, as a lying node
  // would: its log stays valid, its records lie.
  auto store = std::make_unique<MemoryStore>();
  MemoryStore* raw = store.get();
  auto source = std::move(*Ledger::open(std::move(store), tc.consortium));
  apply(*source, tc, {"SN-1", "SN-2"}, 3);
  apply(*source, tc, {"SN-3"}, 5);
  REQUIRE(empty_ledger(tc)->restore(*source->snapshot()));  // honest: restored

  struct Forgery {
    const char* what;
    Column column;
    std::string key;
    std::string value;  // empty: a copy of SN-2's record
    const char* names;
  };
  std::string sn2 = **raw->get(Column::serials, "SN-2");
  std::vector<Forgery> forgeries = {
      {"a record that says another thing (SN-2's record under SN-1)", Column::serials, "SN-1", sn2,
       "serials disagree"},
      {"a serial no event registered", Column::serials, "SN-GHOST", sn2, "serials disagree"},
      {"an event in a serial's history that is not its", Column::serial_index,
       serial_index_key("SN-3", 0), "", "serial_index disagree"},
      {"a transaction id the log does not hold", Column::txids, std::string(32, 'x'),
       std::string(8, '\0'), "txids disagree"},
  };
  for (const auto& f : forgeries) {
    INFO(f.what);
    auto s = std::make_unique<MemoryStore>();
    MemoryStore* fs_raw = s.get();
    auto lying = std::move(*Ledger::open(std::move(s), tc.consortium));
    apply(*lying, tc, {"SN-1", "SN-2"}, 3);
    apply(*lying, tc, {"SN-3"}, 5);
    WriteBatch b;
    b.put(f.column, f.key, f.value);
    REQUIRE(fs_raw->write(b, false));
    auto target = empty_ledger(tc);
    auto r = target->restore(*lying->snapshot());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains(f.names));
    CHECK(target->size() == 0);
  }
}

// Found by tests/fuzz/snapshot_fuzz.cc: the meta column was written as the
// sender gave it.
TEST_CASE("a snapshot whose meta column is not what a ledger writes is refused",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  struct Forgery {
    const char* what;
    std::string key;
    std::string value;
    const char* names;
  };
  std::vector<Forgery> forgeries = {
      {"an applied entry other than the header's (skipped entries after a restart)",
       "applied_entry", encode_u64_key(1000), "applied_entry is not its header's"},
      {"a key no ledger writes", "junk", "x", "unknown key"},
      {"a block time whose size does not decode", "block_time/abc", encode_u64_key(kNow),
       "malformed block time"},
      {"a block time whose time does not decode", "block_time/" + encode_u64_key(2), "abc",
       "malformed block time"},
  };
  for (const auto& f : forgeries) {
    INFO(f.what);
    auto s = std::make_unique<MemoryStore>();
    MemoryStore* raw = s.get();
    auto lying = std::move(*Ledger::open(std::move(s), tc.consortium));
    apply(*lying, tc, {"SN-1", "SN-2"}, 3);
    WriteBatch b;
    b.put(Column::meta, f.key, f.value);
    REQUIRE(raw->write(b, false));
    auto target = empty_ledger(tc);
    auto r = target->restore(*lying->snapshot());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains(f.names));
    CHECK(target->size() == 0);
    CHECK(target->applied_entry() == 0);
  }
}

TEST_CASE("a snapshot that cuts the ledger's own blocks otherwise is refused",
          "[ledger][snapshot]") {
  auto tc = TestConsortium::make();
  // The same three leaves: the follower applied them as two blocks, the
  // sender's snapshot says one. A replay accepts either, but the block ends
  // decide which checkpoints later attestations may name.
  auto follower = empty_ledger(tc);
  apply(*follower, tc, {"SN-1", "SN-2"}, 3);
  auto merged = empty_ledger(tc);
  apply(*merged, tc, {"SN-1", "SN-2", "SN-3"}, 5);
  REQUIRE(*follower->root_at(2) == *merged->root_at(2));
  auto r = follower->restore(*merged->snapshot());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("block ends or times up to size 2"));
  CHECK(follower->size() == 2);
  // Into an empty ledger it is a state the rules derive: installed.
  auto fresh = empty_ledger(tc);
  CHECK(fresh->restore(*merged->snapshot()));
}

// Backups (docs/backup.md): a RocksDB checkpoint taken from a ledger opens
// as the same ledger, and its snapshot restores into an empty ledger with
// the Raft entry forgotten (a new cluster), only into an empty one.
TEST_CASE("a ledger's checkpoint restores into a new cluster with its Raft entry forgotten",
          "[ledger][snapshot][backup]") {
  auto tc = TestConsortium::make();
  chipledger::testing::ScratchDir dir("chipledger-backup-");
  auto store = RocksStore::open((dir.path() / "live").string());
  REQUIRE(store);
  auto live = std::move(*Ledger::open(std::move(*store), tc.consortium));
  apply(*live, tc, {"SN-1", "SN-2"}, 4);
  apply(*live, tc, {"SN-3"}, 7);

  auto point = live->checkpoint_to((dir.path() / "copy").string());
  INFO(point.reason());
  REQUIRE(point);
  CHECK(point->size == 3);
  CHECK(point->applied_entry == 7);
  CHECK(point->root == *live->root_at(3));
  CHECK(point->state_root == *live->state_root_at(3));
  // Later blocks are not in the copy; the folder cannot be reused.
  apply(*live, tc, {"SN-4"}, 8);
  CHECK_FALSE(live->checkpoint_to((dir.path() / "copy").string()));

  auto copied_store = RocksStore::open((dir.path() / "copy").string());
  REQUIRE(copied_store);
  auto copy = std::move(*Ledger::open(std::move(*copied_store), tc.consortium));
  CHECK(copy->size() == 3);
  CHECK(copy->applied_entry() == 7);
  CHECK(*copy->root_at(3) == point->root);
  auto snap = copy->snapshot();
  REQUIRE(snap);

  auto fresh = empty_ledger(tc);
  auto restored = fresh->restore(*snap, Ledger::RestoreOptions{.forget_raft_entry = true});
  INFO(restored.reason());
  REQUIRE(restored);
  CHECK(*restored);
  CHECK(fresh->size() == 3);
  CHECK(fresh->applied_entry() == 0);
  CHECK(*fresh->state_root_at(3) == point->state_root);
  CHECK((*fresh->serial("SN-3")).has_value());
  // A new Raft log's first entries apply after it.
  apply(*fresh, tc, {"SN-9"}, 2);
  CHECK(fresh->size() == 4);
  // Never over a ledger that holds entries.
  auto again = fresh->restore(*snap, Ledger::RestoreOptions{.forget_raft_entry = true});
  CHECK_FALSE(again);
  CHECK(again.reason().find("only into an empty ledger") != std::string::npos);
  CHECK(fresh->size() == 4);
  // A MemoryStore makes no checkpoint.
  CHECK_FALSE(fresh->checkpoint_to((dir.path() / "memory").string()));
}
