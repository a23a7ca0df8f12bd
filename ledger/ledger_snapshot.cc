// Ledger::snapshot / Ledger::restore: the whole state as one canonical byte
// string (docs/encoding.md, "Snapshots").
#include <algorithm>
#include <iterator>

#include "crypto/merkle.h"
#include "ledger/codec.h"
#include "ledger/ledger.h"
#include "ledger/memory_store.h"

namespace chipledger {
namespace {

constexpr uint8_t kSnapshotVersion = 1;
constexpr uint8_t kSnapshotKind = 2;  // blocks are kind 1
constexpr size_t kMaxSnapshotField = 64u << 20;
constexpr std::string_view kLedgerIdKey = "ledger_id";

// Every column a snapshot carries, in this order: the node's own
// checkpoints (Column::checkpoints) stay out.
constexpr Column kSnapshotColumns[] = {Column::meta,         Column::events, Column::serials,
                                       Column::serial_index, Column::tree,   Column::txids,
                                       Column::licenses};

bool carried(uint8_t id) {
  for (Column c : kSnapshotColumns) {
    if (static_cast<uint8_t>(c) == id) return true;
  }
  return false;
}

struct Decoded {
  uint64_t applied_entry = 0;
  uint64_t size = 0;
  Hash root{};
  WriteBatch batch;
};

Result<Decoded> decode_snapshot(ByteView bytes) {
  using R = Result<Decoded>;
  Reader r(bytes);
  Decoded d;
  auto version = r.u8("snapshot version");
  if (!version) return version.status();
  if (*version != kSnapshotVersion) {
    return R::error("snapshot version " + std::to_string(*version) + " is not supported");
  }
  auto kind = r.u8("snapshot kind");
  if (!kind) return kind.status();
  if (*kind != kSnapshotKind)
    return R::error("not a ledger snapshot (kind " + std::to_string(*kind) + ")");
  auto applied = r.u64("snapshot applied entry");
  auto size = r.u64("snapshot log size");
  if (!applied) return applied.status();
  if (!size) return size.status();
  auto root = r.hash("snapshot root");
  if (!root) return root.status();
  d.applied_entry = *applied;
  d.size = *size;
  d.root = *root;
  auto columns = r.u8("snapshot column count");
  if (!columns) return columns.status();
  int last = -1;
  for (uint8_t i = 0; i < *columns; ++i) {
    auto id = r.u8("snapshot column id");
    if (!id) return id.status();
    if (!carried(*id) || static_cast<int>(*id) <= last) {
      return R::error("snapshot column " + std::to_string(*id) + " is unknown or out of order");
    }
    last = *id;
    auto count = r.u64("snapshot column entry count");
    if (!count) return count.status();
    if (*count > r.remaining() / 8) return R::error("snapshot column count exceeds its bytes");
    std::string prev;
    for (uint64_t k = 0; k < *count; ++k) {
      auto key = r.str("snapshot key", kMaxSnapshotField);
      if (!key) return key.status();
      auto value = r.str("snapshot value", kMaxSnapshotField);
      if (!value) return value.status();
      if (k > 0 && *key <= prev) return R::error("snapshot keys are not in ascending order");
      prev = *key;
      d.batch.put(static_cast<Column>(*id), std::move(*key), std::move(*value));
    }
  }
  CL_TRY(r.expect_end("snapshot"));
  return d;
}

}  // namespace

Result<Ledger::SnapshotView> Ledger::snapshot_view() const {
  std::lock_guard lock(write_mu_);
  SnapshotView v;
  v.size = committed_size_.load();
  v.applied_entry = applied_entry_.load();
  auto root = MerkleLog::root_at(*store_, v.size);
  if (!root) return root.status().context("snapshot root");
  v.root = *root;
  auto store = store_->view();
  if (!store) return store.status().context("snapshot view");
  v.store = std::move(*store);
  return v;
}

Result<Bytes> Ledger::encode_snapshot(const SnapshotView& view) {
  if (!view.store) return Result<Bytes>::error("snapshot view without a store view");
  Writer w;
  w.u8(kSnapshotVersion).u8(kSnapshotKind).u64(view.applied_entry).u64(view.size).hash(view.root);
  w.u8(static_cast<uint8_t>(std::size(kSnapshotColumns)));
  for (Column c : kSnapshotColumns) {
    Writer entries;
    uint64_t count = 0;
    CL_TRY(view.store->scan(c, "", [&](std::string_view key, std::string_view value) {
      entries.str(key).str(value);
      ++count;
      return true;
    }));
    w.u8(static_cast<uint8_t>(c)).u64(count).raw(entries.data());
  }
  return w.take();
}

Result<Bytes> Ledger::snapshot() const {
  auto view = snapshot_view();
  if (!view) return view.status();
  return encode_snapshot(*view);
}

Result<bool> Ledger::restore(ByteView bytes) {
  using R = Result<bool>;
  auto d = decode_snapshot(bytes);
  if (!d) return R(d.status().context("ledger snapshot"));
  // Check the snapshot by itself first, in memory: its tree gives its root,
  // its ledger id is ours.
  MemoryStore scratch;
  if (auto st = scratch.write(d->batch, false); !st) return R(st);
  auto id = scratch.get(Column::meta, kLedgerIdKey);
  if (!id) return R(id.status());
  if (!id->has_value() || **id != consortium_.ledger_id()) {
    return R::error("the snapshot is of another ledger");
  }
  auto log = MerkleLog::open(scratch);
  if (!log) return R(log.status().context("snapshot"));
  if (log->size() != d->size) {
    return R::error("the snapshot says " + std::to_string(d->size) + " entries, its log has " +
                    std::to_string(log->size()));
  }
  auto root = MerkleLog::root_at(scratch, d->size);
  if (!root) return R(root.status().context("snapshot"));
  if (*root != d->root) return R::error("the snapshot's tree does not give its root");
  // Every leaf (signed transaction) is the one the tree commits to.
  for (uint64_t i = 0; i < d->size; ++i) {
    auto event = scratch.get(Column::events, encode_u64_key(i));
    auto committed = MerkleLog::leaf_hash_at(scratch, i);
    if (!event) return R(event.status());
    if (!committed) return R(committed.status());
    if (!event->has_value() || merkle::leaf_hash(as_bytes(**event)) != *committed) {
      return R::error("the snapshot's log entry " + std::to_string(i) +
                      " is not the one its tree commits to");
    }
  }

  std::lock_guard lock(write_mu_);
  if (failed_) return R::error("the ledger stopped after a storage failure");
  const uint64_t own_size = committed_size_.load();
  // Both are points of one log: the shorter one's root must be in the other.
  uint64_t common = std::min(own_size, d->size);
  auto own_root = MerkleLog::root_at(*store_, common);
  auto their_root = MerkleLog::root_at(scratch, common);
  if (!own_root) return R(own_root.status());
  if (!their_root) return R(their_root.status());
  if (*own_root != *their_root) {
    return R::error("the snapshot's log disagrees with this ledger's at size " +
                    std::to_string(common));
  }
  if (d->applied_entry <= applied_entry_.load()) return false;  // have it already
  if (d->size < own_size) {
    return R::error("the snapshot (entry " + std::to_string(d->applied_entry) + ", " +
                    std::to_string(d->size) + " log entries) is behind this ledger's " +
                    std::to_string(own_size) + " entries");
  }
  // The ledger never deletes a key, so the later state holds every key of
  // this one: writing the snapshot over it gives exactly the snapshot. The
  // state map is derived data, not in the snapshot: its leaves for every
  // serial of the snapshot go into the same synced write (they overwrite
  // every leaf this ledger had), and its arrays are rebuilt after it.
  StateMap::add_leaves_for_serials(d->batch);
  state_map_->suspend();
  Status written = store_->write(d->batch, /*sync=*/true);
  if (!written.is_ok()) {
    failed_ = true;
    return R(written.context("writing the snapshot"));
  }
  auto reopened = MerkleLog::open(*store_);
  if (!reopened) {
    failed_ = true;
    return R(reopened.status().context("reopening the log after the snapshot"));
  }
  log_ = std::move(*reopened);
  if (Status st = state_map_->reset(log_.size()); !st) {
    failed_ = true;
    return R(st.context("rebuilding the state map after the snapshot"));
  }
  committed_size_ = log_.size();
  applied_entry_ = d->applied_entry;
  // Roots of sizes this ledger had are unchanged (checked above); the tree
  // cache takes the snapshot's further nodes.
  tree_cache_.catch_up(*store_, log_.size());
  remember_root(log_.size(), d->root);
  return true;
}

}  // namespace chipledger
