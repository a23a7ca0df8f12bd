#include "ledger/rocks_store.h"

#include <filesystem>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>

namespace chipledger {

namespace {

// Memory budgets. The ledger is write-heavy (append-only log plus a few index
// rows per transaction) with point lookups and short prefix scans; these are
// deliberately modest so a node fits on a small machine.
constexpr size_t kBlockCacheBytes = 32u << 20;    // shared by every column family
constexpr size_t kWriteBufferBytes = 16u << 20;   // one memtable of one family
constexpr size_t kAllMemtablesBytes = 64u << 20;  // cap on all memtables together
constexpr int kBackgroundThreads = 2;             // flush + compaction

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // Two background threads: one flush and one compaction can run at once, so
  // a long compaction does not block memtable flushes (and thus writers).
  o.IncreaseParallelism(kBackgroundThreads);
  // Nine families with their own memtables: cap their sum so memory stays
  // bounded; the largest memtable is flushed when the cap is reached.
  o.db_write_buffer_size = kAllMemtablesBytes;
  // The default, stated because the ledger relies on it: after a crash the
  // WAL is replayed up to the last complete record, so a torn final batch is
  // dropped whole and every synced batch is kept.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Keep the human-readable info LOG from growing without bound.
  o.keep_log_file_num = 5;
  return o;
}

rocksdb::ColumnFamilyOptions column_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  // Level compaction (RocksDB's default, stated explicitly): bounded space and
  // read amplification, which suits lookups of old log entries and records.
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  // Size levels from the last level up: keeps space amplification near 1.1x
  // for a store that only grows.
  o.level_compaction_dynamic_level_bytes = true;
  o.write_buffer_size = kWriteBufferBytes;

  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;  // one cache for all families, not one per family
  // ~10 bits per key (~1% false positives): a get() for an absent key (txid
  // replay checks, unknown serials) usually skips reading data blocks.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// The state map's leaves (Column::state) are SHA-256 outputs: compression
// only costs CPU; small blocks make the short range scans of its buckets
// read and checksum less per seek.
rocksdb::ColumnFamilyOptions state_column_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o = column_options(cache);
  o.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = 1024;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// Column::txids is looked up once for every transaction applied (the
// replay check), and nearly always misses: a Bloom filter over the
// memtable's whole keys answers most misses without a skiplist search.
rocksdb::ColumnFamilyOptions txid_column_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o = column_options(cache);
  o.memtable_prefix_bloom_size_ratio = 0.05;
  o.memtable_whole_key_filtering = true;
  return o;
}

std::string quoted_column(Column c) { return "column '" + std::string(column_name(c)) + "'"; }

// The smallest key greater than every key starting with `prefix`, or "" when
// there is none (empty prefix, or a prefix of only 0xff bytes).
std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view as_view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

struct RocksStore::Impl {
  std::string path;
  RocksStore::Options options;
  // Set by the first failed write: RocksDB's log writer is not used again.
  std::optional<Status> broken;  // under broken_mu
  std::mutex broken_mu;
  std::optional<Status> broken_status() {
    std::lock_guard lock(broken_mu);
    return broken;
  }
  std::unique_ptr<rocksdb::DB> db;
  // Every family the database was opened with (RocksDB requires all of them),
  // including "default" and any we do not know about.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::array<rocksdb::ColumnFamilyHandle*, kColumnCount> columns{};

  ~Impl() {
    if (!db) return;
    for (auto* h : handles) {
      // Destroying a handle only fails for a null handle; nothing to do then.
      (void)db->DestroyColumnFamilyHandle(h);
    }
    // Close() waits for background work. Its status cannot be reported from a
    // destructor; every acknowledged write is already in the WAL.
    (void)db->Close();
  }

  Result<rocksdb::ColumnFamilyHandle*> handle(Column c, std::string_view op) const {
    auto i = static_cast<size_t>(c);
    if (i >= columns.size() || columns[i] == nullptr) {
      return Result<rocksdb::ColumnFamilyHandle*>::error(
          "rocksdb at " + path + ": " + std::string(op) + ": unknown column " + std::to_string(i));
    }
    return columns[i];
  }

  // A corruption is `corrupt`; anything else RocksDB reports (a full disk,
  // an I/O error, a busy or shut-down database) is `io`.
  Status fail(const rocksdb::Status& s, const std::string& what) const {
    const StatusCode code = s.IsCorruption() ? StatusCode::corrupt : StatusCode::io;
    return Status::error(code, s.ToString()).context("rocksdb at " + path + ": " + what);
  }

  // get() and scan() with the given read options (the latest state, or a
  // view's snapshot).
  Result<std::optional<std::string>> get(const rocksdb::ReadOptions& ro, Column column,
                                         std::string_view key) const {
    auto h = handle(column, "get");
    CL_TRY(h);
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db->Get(ro, *h, slice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return fail(s, "get in " + quoted_column(column));
    return std::optional<std::string>(value.ToString());
  }

  Status scan(const rocksdb::ReadOptions& base, Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const {
    auto h = handle(column, "scan");
    CL_TRY(h);
    // The iterator reads from an implicit snapshot (or the view's), so a
    // scan sees each batch entirely or not at all. The upper bound lets
    // RocksDB stop at the end of the prefix without visiting later keys.
    const std::string upper = prefix_successor(prefix);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro = base;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, *h));
    for (it->Seek(slice(prefix)); it->Valid(); it->Next()) {
      std::string_view k = as_view(it->key());
      if (k.substr(0, prefix.size()) != prefix) break;
      if (!fn(k, as_view(it->value()))) break;
    }
    if (!it->status().ok()) {
      return fail(it->status(), "scan of " + quoted_column(column) + " with a prefix of " +
                                    std::to_string(prefix.size()) + " bytes");
    }
    return Status::ok();
  }
};

RocksStore::RocksStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksStore::~RocksStore() = default;

Result<std::unique_ptr<RocksStore>> RocksStore::open(const std::string& path) {
  return open(path, Options{});
}

Result<std::unique_ptr<RocksStore>> RocksStore::open(const std::string& path, Options options) {
  const rocksdb::DBOptions dbo = db_options();
  const auto cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  const rocksdb::ColumnFamilyOptions cfo = column_options(cache);
  const rocksdb::ColumnFamilyOptions state_cfo = state_column_options(cache);
  const rocksdb::ColumnFamilyOptions txid_cfo = txid_column_options(cache);

  // An existing database must be opened with every family it has. Listing
  // fails when there is no database yet; Open() reports any real problem.
  std::vector<std::string> existing;
  (void)rocksdb::DB::ListColumnFamilies(dbo, path, &existing);

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cfo);
  for (int i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    descriptors.emplace_back(std::string(column_name(c)), c == Column::state   ? state_cfo
                                                          : c == Column::txids ? txid_cfo
                                                                               : cfo);
  }
  for (const auto& name : existing) {
    bool known = std::any_of(descriptors.begin(), descriptors.end(),
                             [&](const auto& d) { return d.name == name; });
    if (!known) descriptors.emplace_back(name, cfo);
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(dbo, path, descriptors, &impl->handles, &raw);
  if (!s.ok()) {
    std::string hint;
    // RocksDB holds an exclusive lock on <path>/LOCK while a database is open,
    // in this process or another.
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      hint = " (is the database already open by another store or process?)";
    }
    return Status::error(s.IsCorruption() ? StatusCode::corrupt : StatusCode::io,
                         s.ToString() + hint)
        .context("opening rocksdb at " + path);
  }
  impl->db.reset(raw);
  // Open() returns handles in descriptor order: default, then our columns.
  for (int i = 0; i < kColumnCount; ++i) {
    impl->columns[static_cast<size_t>(i)] = impl->handles[static_cast<size_t>(i) + 1];
  }
  return std::unique_ptr<RocksStore>(new RocksStore(std::move(impl)));
}

Result<std::optional<std::string>> RocksStore::get(Column column, std::string_view key) const {
  return impl_->get(rocksdb::ReadOptions(), column, key);
}

Result<std::vector<std::optional<std::string>>> RocksStore::multi_get(
    Column column, const std::vector<std::string>& keys) const {
  using R = Result<std::vector<std::optional<std::string>>>;
  auto h = impl_->handle(column, "multi_get");
  CL_TRY(h);
  std::vector<std::optional<std::string>> out(keys.size());
  if (keys.empty()) return out;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& k : keys) slices.push_back(slice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  // One consistent view (an implicit snapshot) for all the keys.
  impl_->db->MultiGet(rocksdb::ReadOptions(), *h, keys.size(), slices.data(), values.data(),
                      statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return R(impl_->fail(statuses[i], "multi_get of " + std::to_string(keys.size()) +
                                            " keys in " + quoted_column(column)));
    }
    out[i].emplace(values[i].data(), values[i].size());
  }
  return out;
}

Status RocksStore::write(const WriteBatch& batch, bool sync) {
  if (auto broken = impl_->broken_status()) return *broken;
  uint64_t bytes = 0;
  for (const auto& op : batch.ops()) bytes += op.key.size() + op.value.size();
  if (impl_->options.reserve_bytes > 0) {
    std::error_code ec;
    const auto space = std::filesystem::space(impl_->path, ec);
    if (ec) {
      return Status::io("cannot read the free space of " + impl_->path + ": " + ec.message());
    }
    // The batch goes to the WAL now and to an SST file later.
    if (space.available < impl_->options.reserve_bytes + 2 * bytes) {
      return Status::io(
          "disk full: " + impl_->path + " has " + std::to_string(space.available >> 20) +
          " MiB free, below the " + std::to_string(impl_->options.reserve_bytes >> 20) +
          " MiB reserve; the write of " + std::to_string(bytes) + " bytes was not attempted");
    }
  }
  // Sized once (a block's batch is ~700 bytes per transfer: growing it
  // by doubling copied it several times); 16 bytes a put for its tag,
  // column id and lengths.
  rocksdb::WriteBatch wb(64 + bytes + 16 * batch.ops().size());
  std::string columns;  // for error context: which families the batch touched
  bool touched[kColumnCount] = {};
  // The puts in column and key order: each column's memtable skiplist then
  // takes its inserts in ascending order and starts each search from the
  // last insert's position instead of its top (docs/performance.md,
  // "Session 34"; RocksDB's single-writer insert path, which the one
  // thread that writes blocks takes). Stable, so that the later of two puts of one key still
  // wins. The batch stays atomic whatever its order.
  std::vector<uint32_t> order(batch.ops().size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const auto& x = batch.ops()[a];
    const auto& y = batch.ops()[b];
    if (x.column != y.column) return x.column < y.column;
    return x.key < y.key;
  });
  for (uint32_t i : order) {
    const auto& op = batch.ops()[i];
    auto h = impl_->handle(op.column, "write");
    CL_TRY(h);
    rocksdb::Status s = wb.Put(*h, slice(op.key), slice(op.value));
    if (!s.ok()) return impl_->fail(s, "adding a put to a batch for " + quoted_column(op.column));
    auto c = static_cast<size_t>(op.column);
    if (!touched[c]) {
      touched[c] = true;
      if (!columns.empty()) columns += ",";
      columns += column_name(op.column);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = impl_->db->Write(wo, &wb);
  if (!s.ok()) {
    Status failed =
        impl_->fail(s, "write of a batch of " + std::to_string(batch.size()) + " puts (columns " +
                           columns + ", sync=" + (sync ? "true" : "false") + ")");
    std::lock_guard lock(impl_->broken_mu);
    impl_->broken = failed.context("an earlier write failed");
    return failed;
  }
  return Status::ok();
}

Status RocksStore::scan(Column column, std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return impl_->scan(rocksdb::ReadOptions(), column, prefix, fn);
}

Status RocksStore::scan_ranges(
    Column column, const std::vector<KeyRange>& ranges,
    const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const {
  auto h = impl_->handle(column, "scan_ranges");
  CL_TRY(h);
  if (ranges.empty()) return Status::ok();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), *h));
  constexpr int kStepsBeforeSeek = 8;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const KeyRange& r = ranges[i];
    // After range i-1 the iterator is at the first key >= its end: when
    // this range starts at or after that end, a few Next() steps may reach
    // it more cheaply than a Seek (which searches every level again).
    bool positioned = false;
    if (i > 0 && it->Valid() && !ranges[i - 1].end.empty() && ranges[i - 1].end <= r.begin) {
      for (int step = 0; step < kStepsBeforeSeek && it->Valid(); ++step) {
        if (as_view(it->key()) >= std::string_view(r.begin)) {
          positioned = true;
          break;
        }
        it->Next();
      }
    }
    if (!positioned) it->Seek(slice(r.begin));
    bool go_on = true;
    for (; it->Valid(); it->Next()) {
      std::string_view k = as_view(it->key());
      if (!r.end.empty() && k >= std::string_view(r.end)) break;
      if (!fn(i, k, as_view(it->value()))) {
        go_on = false;
        break;
      }
    }
    if (!it->status().ok()) {
      return impl_->fail(it->status(), "scan of " + std::to_string(ranges.size()) + " ranges of " +
                                           quoted_column(column));
    }
    if (!go_on) break;
  }
  return Status::ok();
}

// Reads at one RocksDB snapshot. RocksDB's snapshots and reads through them
// are thread-safe; the snapshot is released with the view.
class RocksStore::View final : public KvView {
 public:
  View(const Impl& impl, const rocksdb::Snapshot* snapshot) : impl_(impl), snapshot_(snapshot) {
    read_.snapshot = snapshot_;
  }
  ~View() override { impl_.db->ReleaseSnapshot(snapshot_); }
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  Result<std::optional<std::string>> get(Column column, std::string_view key) const override {
    return impl_.get(read_, column, key);
  }
  Status scan(Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return impl_.scan(read_, column, prefix, fn);
  }

 private:
  const Impl& impl_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions read_;
};

Result<std::unique_ptr<KvView>> RocksStore::view() const {
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  if (snapshot == nullptr) {
    return Status::io("rocksdb at " + impl_->path + ": no snapshot could be taken");
  }
  return std::unique_ptr<KvView>(std::make_unique<View>(*impl_, snapshot));
}

Status RocksStore::checkpoint_to(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return impl_->fail(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // No flush (log_size_for_flush at its maximum): the WAL goes with the
  // files, and the node's writes are not held up by a memtable flush.
  s = checkpoint->CreateCheckpoint(dir, std::numeric_limits<uint64_t>::max());
  if (!s.ok()) return impl_->fail(s, "checkpoint into " + dir);
  return Status::ok();
}

}  // namespace chipledger
