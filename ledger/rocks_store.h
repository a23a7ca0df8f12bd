// KvStore on RocksDB: one column family per Column, a WriteBatch is one
// rocksdb::WriteBatch, sync=true sets WriteOptions::sync. RocksDB headers
// stay inside rocks_store.cc.
#pragma once

#include <memory>
#include <string>

#include "ledger/kv_store.h"

namespace chipledger {

class RocksStore final : public KvStore {
 public:
  struct Options {
    // A write that would leave less free space than this on the database's
    // file system is refused (io, "disk full") before RocksDB sees it: the
    // caller fail-stops cleanly instead of RocksDB meeting ENOSPC mid-write
    // (Debian's RocksDB asserts on a log writer that failed before). Must
    // exceed what a memtable flush needs (64 MiB of memtables). 0: no check.
    uint64_t reserve_bytes = 0;
  };
  // Opens (creating if missing) the database in directory `path`.
  static Result<std::unique_ptr<RocksStore>> open(const std::string& path);
  static Result<std::unique_ptr<RocksStore>> open(const std::string& path, Options options);
  ~RocksStore() override;

  Result<std::optional<std::string>> get(Column column, std::string_view key) const override;
  Result<std::vector<std::optional<std::string>>> multi_get(
      Column column, const std::vector<std::string>& keys) const override;
  Status write(const WriteBatch& batch, bool sync) override;
  Status scan(Column column, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  // One iterator (one implicit snapshot), sought to each range's start.
  Status scan_ranges(
      Column column, const std::vector<KeyRange>& ranges,
      const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const override;
  // A RocksDB snapshot (DB::GetSnapshot), read through ReadOptions::snapshot
  // and released when the view is destroyed, which must be before the store.
  Result<std::unique_ptr<KvView>> view() const override;
  // rocksdb::Checkpoint without a memtable flush: the live WAL is copied, so
  // the copy holds every acknowledged batch.
  Status checkpoint_to(const std::string& dir) const override;

 private:
  struct Impl;
  class View;
  explicit RocksStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
