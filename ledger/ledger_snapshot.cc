// Ledger::snapshot / Ledger::restore: the whole state as one canonical byte
// string (docs/encoding.md, "Snapshots").
#include <algorithm>
#include <iterator>
#include <map>

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
constexpr std::string_view kLogSizeKey = "log_size";            // ledger/merkle_log.cc
constexpr std::string_view kAppliedEntryKey = "applied_entry";  // ledger/ledger.cc

// Every column a snapshot carries, in this order: the node's own
// checkpoints (Column::checkpoints) stay out.
constexpr Column kSnapshotColumns[] = {Column::meta,         Column::events,    Column::serials,
                                       Column::serial_index, Column::tree,      Column::txids,
                                       Column::licenses,     Column::governance};

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
  // Every carried column, each once (an empty one with count 0): one
  // encoding per state, so that a snapshot re-encodes to its own bytes.
  if (*columns != std::size(kSnapshotColumns)) {
    return R::error("a snapshot carries " + std::to_string(std::size(kSnapshotColumns)) +
                    " columns, not " + std::to_string(*columns));
  }
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

// The columns a ledger derives from its log: a snapshot's are checked
// against a replay, never believed.
constexpr Column kDerivedColumns[] = {Column::serials, Column::serial_index, Column::txids,
                                      Column::licenses, Column::governance};
constexpr std::string_view kBlockTimePrefix = "block_time/";

// The block ends and times a store's meta column holds ("block_time/"
// u64 log size -> u64 ms), those at sizes up to `max_size`.
Result<std::map<uint64_t, uint64_t>> block_times(const KvStore& store, uint64_t max_size) {
  std::map<uint64_t, uint64_t> out;
  Status bad = Status::ok();
  Status scanned =
      store.scan(Column::meta, kBlockTimePrefix, [&](std::string_view k, std::string_view v) {
        auto end = decode_u64_key(k.substr(kBlockTimePrefix.size()));
        auto time = decode_u64_key(v);
        if (!end || !time) {
          bad = Status::error("the snapshot has a malformed block time (key " +
                              hex_encode(as_bytes(k)).substr(0, 80) + ")");
          return false;
        }
        if (*end <= max_size) out[*end] = *time;
        return true;
      });
  CL_TRY(scanned);
  CL_TRY(bad);
  return out;
}

// A snapshot's meta column holds exactly what a ledger writes there, as
// its header says: the ledger id (checked by the caller), the log size,
// the applied entry and well-formed block times. Anything else would be
// written into this node's store unchecked: an "applied_entry" other than
// the header's, say, makes the node skip (or re-apply) Raft entries after
// its next restart.
Status check_snapshot_meta(const KvStore& snapshot, uint64_t size, uint64_t applied_entry) {
  Status bad = Status::ok();
  bool has_applied = false;
  auto expect_u64 = [&](std::string_view key, std::string_view value, uint64_t want) {
    auto v = decode_u64_key(value);
    if (!v || *v != want) {
      bad = Status::error("the snapshot's " + std::string(key) + " is not its header's (" +
                          std::to_string(want) + ")");
      return false;
    }
    return true;
  };
  Status scanned = snapshot.scan(Column::meta, "", [&](std::string_view k, std::string_view v) {
    if (k == kLedgerIdKey || k.starts_with(kBlockTimePrefix)) return true;
    if (k == kLogSizeKey) return expect_u64(k, v, size);
    if (k == kAppliedEntryKey) {
      has_applied = true;
      return expect_u64(k, v, applied_entry);
    }
    bad = Status::error("the snapshot's meta column has an unknown key " +
                        hex_encode(as_bytes(k)).substr(0, 80));
    return false;
  });
  CL_TRY(scanned);
  CL_TRY(bad);
  if (!has_applied && applied_entry > 0) {
    return Status::error("the snapshot's meta column lacks its applied entry");
  }
  return block_times(snapshot, UINT64_MAX).status();
}

// Every key and value of `column` in `store`, in order.
Result<std::vector<std::pair<std::string, std::string>>> column_contents(const KvStore& store,
                                                                         Column column) {
  std::vector<std::pair<std::string, std::string>> out;
  Status st = store.scan(column, "", [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  if (!st) return st;
  return out;
}

}  // namespace

// A snapshot is checked, not believed (docs/encoding.md, "Snapshots"): its
// log is replayed from genesis through the rules, block by block (the
// blocks' ends and times are the snapshot's own "block_time/" entries:
// times decide only what is accepted, never a record), in memory, and the
// state the replay derives must be exactly the snapshot's.
Status Ledger::check_snapshot_state(const KvStore& snapshot, uint64_t size) const {
  // Size at a block's end -> its time.
  auto ends = block_times(snapshot, UINT64_MAX);
  if (!ends) return ends.status();
  const std::map<uint64_t, uint64_t>& block_ends = *ends;
  auto replay = Ledger::open(std::make_unique<MemoryStore>(), genesis_);
  if (!replay) return replay.status().context("replaying the snapshot");
  uint64_t at = 0;
  for (const auto& [end, time] : block_ends) {
    if (end <= at || end > size) {
      return Status::error("the snapshot's block ends are not in its log (size " +
                           std::to_string(end) + ")");
    }
    std::vector<PendingTx> txs;
    for (uint64_t i = at; i < end; ++i) {
      auto wire = snapshot.get(Column::events, encode_u64_key(i));
      if (!wire) return wire.status();
      if (!wire->has_value()) {
        return Status::error("the snapshot lacks log entry " + std::to_string(i));
      }
      auto tx = SignedTransaction::decode(as_bytes(**wire));
      if (!tx) return tx.status().context("the snapshot's log entry " + std::to_string(i));
      txs.push_back(PendingTx{std::move(*tx), false});
    }
    auto outcomes = (*replay)->apply_block(std::move(txs), time);
    if (!outcomes) return outcomes.status().context("replaying the snapshot");
    for (size_t k = 0; k < outcomes->size(); ++k) {
      if (!(*outcomes)[k].accepted) {
        return Status::error("the snapshot's log entry " + std::to_string(at + k) +
                             " is refused by the rules on replay: " + (*outcomes)[k].reason);
      }
    }
    at = end;
  }
  if (at != size) {
    return Status::error("the snapshot's blocks end at " + std::to_string(at) + ", its log at " +
                         std::to_string(size));
  }
  for (Column c : kDerivedColumns) {
    auto theirs = column_contents(snapshot, c);
    if (!theirs) return theirs.status();
    auto derived = column_contents(*(*replay)->store_, c);
    if (!derived) return derived.status();
    if (*theirs == *derived) continue;
    size_t n = std::min(theirs->size(), derived->size());
    size_t first = 0;
    while (first < n && (*theirs)[first] == (*derived)[first]) ++first;
    std::string where = first < theirs->size()    ? hex_encode(as_bytes((*theirs)[first].first))
                        : first < derived->size() ? hex_encode(as_bytes((*derived)[first].first))
                                                  : std::string("?");
    return Status::error("the snapshot's " + std::string(column_name(c)) +
                         " disagree with a replay of its log (first at key " + where.substr(0, 80) +
                         "): refused");
  }
  return Status::ok();
}

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

Result<Ledger::BackupPoint> Ledger::checkpoint_to(const std::string& dir) const {
  std::lock_guard lock(write_mu_);
  if (failed_) return Status::error("the ledger stopped after a storage failure");
  BackupPoint p;
  p.size = committed_size_.load();
  p.applied_entry = applied_entry_.load();
  auto root = MerkleLog::root_at(*store_, p.size);
  if (!root) return root.status().context("backup root");
  p.root = *root;
  auto state_root = state_map_->root_at(p.size);
  if (!state_root) return state_root.status().context("backup state root");
  p.state_root = *state_root;
  CL_TRY(store_->checkpoint_to(dir));
  return p;
}

Result<bool> Ledger::restore(ByteView bytes) { return restore(bytes, RestoreOptions{}); }

Result<bool> Ledger::restore(ByteView bytes, RestoreOptions options) {
  using R = Result<bool>;
  auto d = decode_snapshot(bytes);
  if (!d) return R(d.status().context("ledger snapshot"));
  // Check the snapshot by itself first, in memory: its tree gives its root,
  // its ledger id is ours.
  MemoryStore scratch;
  if (auto st = scratch.write(d->batch, false); !st) return R(st);
  auto id = scratch.get(Column::meta, kLedgerIdKey);
  if (!id) return R(id.status());
  if (!id->has_value() || **id != genesis_.ledger_id()) {
    return R::error("the snapshot is of another ledger");
  }
  if (auto st = check_snapshot_meta(scratch, d->size, d->applied_entry); !st) return R(st);
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
  if (options.forget_raft_entry) {
    if (own_size != 0 || applied_entry_.load() != 0) {
      return R::error("a backup is restored only into an empty ledger");
    }
    // Checked as the snapshot says (above and below); written as entry 0
    // (the later put of the key wins).
    d->batch.put(Column::meta, std::string(kAppliedEntryKey), encode_u64_key(0));
    d->applied_entry = 0;
  } else if (d->applied_entry <= applied_entry_.load()) {
    return false;  // have it already
  }
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
  // Only a snapshot that is to be written is replayed (a restarted node's
  // own newest snapshot is not): the Raft thread is the only writer, so
  // holding the lock meanwhile holds up nothing else.
  // The blocks of the log both have are the same: their ends and times
  // decide what later transactions may do (an attestation names a block's
  // end; block times never go backwards), so a snapshot that cut this
  // ledger's blocks otherwise would leave it deciding unlike its peers.
  auto own_blocks = block_times(*store_, own_size);
  auto their_blocks = block_times(scratch, own_size);
  if (!own_blocks) return R(own_blocks.status());
  if (!their_blocks) return R(their_blocks.status());
  if (*own_blocks != *their_blocks) {
    return R::error("the snapshot's block ends or times up to size " + std::to_string(own_size) +
                    " are not this ledger's");
  }
  if (Status st = check_snapshot_state(scratch, d->size); !st) return R(st);
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
  if (Status st = load_consortium(); !st) {
    failed_ = true;
    return R(st.context("loading the consortium after the snapshot"));
  }
  if (Status st = load_open_proposals(); !st) {
    failed_ = true;
    return R(st.context("loading the open proposals after the snapshot"));
  }
  // (committed_size_ is published by load_consortium, with the history.)
  applied_entry_ = d->applied_entry;
  // Roots of sizes this ledger had are unchanged (checked above); the tree
  // cache takes the snapshot's further nodes.
  tree_cache_.catch_up(*store_, log_.size());
  remember_root(log_.size(), d->root);
  return true;
}

}  // namespace chipledger
