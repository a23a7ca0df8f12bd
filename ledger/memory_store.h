// An in-memory KvStore: same contract as the RocksDB store, no durability.
// Thread-safe. For unit tests and deterministic simulation.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>

#include "ledger/kv_store.h"

namespace chipledger {

class MemoryStore final : public KvStore {
 public:
  Result<std::optional<std::string>> get(Column column, std::string_view key) const override;
  Result<std::vector<std::optional<std::string>>> multi_get(
      Column column, const std::vector<std::string>& keys) const override;
  Status write(const WriteBatch& batch, bool sync) override;
  Status scan(Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  Status scan_ranges(
      Column column, const std::vector<KeyRange>& ranges,
      const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const override;
  // A copy of every column, taken under the read lock (O(data) on the
  // caller's thread; this store is for tests and simulation).
  Result<std::unique_ptr<KvView>> view() const override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  class Copy;
  static Status scan_map(const Map& m, std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& fn);
  mutable std::shared_mutex mu_;
  Map columns_[kColumnCount];
};

}  // namespace chipledger
