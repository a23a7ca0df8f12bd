#include "ledger/memory_store.h"

#include <mutex>

namespace chipledger {

namespace {
size_t index_of(Column c) { return static_cast<size_t>(c); }
bool valid(Column c) { return index_of(c) < static_cast<size_t>(kColumnCount); }
Status bad_column(Column c, std::string_view op) {
  return Status::error(std::string(op) + ": unknown column " + std::to_string(index_of(c)));
}
}  // namespace

Status MemoryStore::scan_map(const Map& m, std::string_view prefix,
                             const std::function<bool(std::string_view, std::string_view)>& fn) {
  for (auto it = m.lower_bound(prefix); it != m.end(); ++it) {
    std::string_view k = it->first;
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, it->second)) break;
  }
  return Status::ok();
}

// A copy of the columns: nothing else refers to it, so it needs no lock.
class MemoryStore::Copy final : public KvView {
 public:
  explicit Copy(const MemoryStore& store) {
    std::shared_lock lock(store.mu_);
    for (size_t i = 0; i < static_cast<size_t>(kColumnCount); ++i) columns_[i] = store.columns_[i];
  }
  Result<std::optional<std::string>> get(Column column, std::string_view key) const override {
    if (!valid(column)) return bad_column(column, "memory store view get");
    const auto& m = columns_[index_of(column)];
    auto it = m.find(key);
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status scan(Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    if (!valid(column)) return bad_column(column, "memory store view scan");
    return scan_map(columns_[index_of(column)], prefix, fn);
  }

 private:
  Map columns_[kColumnCount];
};

Result<std::unique_ptr<KvView>> MemoryStore::view() const {
  return std::unique_ptr<KvView>(std::make_unique<Copy>(*this));
}

Result<std::optional<std::string>> MemoryStore::get(Column column, std::string_view key) const {
  if (!valid(column)) return bad_column(column, "memory store get");
  std::shared_lock lock(mu_);
  const auto& m = columns_[index_of(column)];
  auto it = m.find(key);
  if (it == m.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::vector<std::optional<std::string>>> MemoryStore::multi_get(
    Column column, const std::vector<std::string>& keys) const {
  if (!valid(column)) return bad_column(column, "memory store multi_get");
  std::shared_lock lock(mu_);  // one consistent view, like a RocksDB MultiGet
  const auto& m = columns_[index_of(column)];
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    auto it = m.find(key);
    if (it == m.end()) {
      out.emplace_back();
    } else {
      out.emplace_back(it->second);
    }
  }
  return out;
}

Status MemoryStore::write(const WriteBatch& batch, bool /*sync*/) {
  // Validate first so a bad batch changes nothing (all or nothing).
  for (const auto& op : batch.ops()) {
    if (!valid(op.column)) return bad_column(op.column, "memory store write");
  }
  std::unique_lock lock(mu_);
  for (const auto& op : batch.ops()) {
    columns_[index_of(op.column)].insert_or_assign(op.key, op.value);
  }
  return Status::ok();
}

Status MemoryStore::scan(Column column, std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& fn) const {
  if (!valid(column)) return bad_column(column, "memory store scan");
  // Holds the shared lock during the callbacks: fn must not write to this
  // store (it would deadlock), matching a RocksDB iterator's snapshot view.
  std::shared_lock lock(mu_);
  return scan_map(columns_[index_of(column)], prefix, fn);
}

Status MemoryStore::scan_ranges(
    Column column, const std::vector<KeyRange>& ranges,
    const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const {
  if (!valid(column)) return bad_column(column, "memory store scan_ranges");
  std::shared_lock lock(mu_);  // one consistent view for every range
  const auto& m = columns_[index_of(column)];
  for (size_t i = 0; i < ranges.size(); ++i) {
    const KeyRange& r = ranges[i];
    for (auto it = m.lower_bound(r.begin); it != m.end(); ++it) {
      if (!r.end.empty() && it->first >= r.end) break;
      if (!fn(i, it->first, it->second)) return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace chipledger
