// The ledger's storage seam: a small ordered key-value interface with column
// families and atomic write batches. Two implementations: RocksDB on disk
// (rocks_store.h) and memory (memory_store.h, for unit tests and simulation).
// Guarantees: a WriteBatch is applied entirely or not at all; with sync=true
// it is durable when write() returns ok. Reads may run concurrently with a
// write and see either all of a batch or none of it. view() gives a
// point-in-time, read-only view (KvView) that later writes do not change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace chipledger {

enum class Column : uint8_t {
  meta = 0,          // ledger metadata (log size, genesis, ...)
  events = 1,        // log index -> signed transaction bytes (the log's leaves)
  serials = 2,       // serial -> current serial record
  serial_index = 3,  // serial || log index -> "" (per-serial history)
  tree = 4,          // level || index -> hash of a complete Merkle subtree
  checkpoints = 5,   // log size -> signed checkpoint note
  txids = 6,         // transaction id -> log index (replay protection)
  licenses = 7,      // license id -> license record
  state = 8,         // SHA-256(serial) -> SHA-256(record): the state map's leaves
  governance = 9,    // the consortium in force, and the proposals (docs/storage.md)
};
constexpr int kColumnCount = 10;
std::string_view column_name(Column c);

// Keys from `begin` (included) to `end` (excluded); an empty `end` means to
// the column's last key.
struct KeyRange {
  std::string begin;
  std::string end;
};

class WriteBatch {
 public:
  struct Op {
    Column column;
    std::string key;
    std::string value;
  };
  void put(Column column, std::string key, std::string value) {
    ops_.push_back({column, std::move(key), std::move(value)});
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

// A read-only view of a store at one point in time: it sees exactly the
// batches written before view() returned, none written after, however long
// it is kept. It may be read from any thread, concurrently with writes to
// its store; it must not outlive its store. Reads have get()/scan()'s
// contract.
class KvView {
 public:
  virtual ~KvView() = default;
  virtual Result<std::optional<std::string>> get(Column column, std::string_view key) const = 0;
  virtual Status scan(
      Column column, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const = 0;
};

class KvStore {
 public:
  virtual ~KvStore() = default;
  // nullopt when the key is absent; a failed Result only on an I/O error.
  virtual Result<std::optional<std::string>> get(Column column, std::string_view key) const = 0;
  // The values of `keys` in `column`, in the same order (nullopt: absent),
  // all from one consistent view of the store; a failed Result only on an
  // I/O error. The default calls get() per key (each key then sees the
  // latest committed batch, which for the ledger's immutable tree nodes is
  // the same answer); RocksStore reads them with one MultiGet.
  virtual Result<std::vector<std::optional<std::string>>> multi_get(
      Column column, const std::vector<std::string>& keys) const;
  virtual Status write(const WriteBatch& batch, bool sync) = 0;
  // Calls fn(key, value) for keys starting with `prefix` in ascending byte
  // order, while fn returns true.
  virtual Status scan(
      Column column, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const = 0;
  // Calls fn(range number, key, value) for the keys of each range in turn,
  // ascending within a range, all from one consistent view of the store,
  // while fn returns true. The default scans each range's common prefix
  // and filters; RocksStore seeks one iterator to each range.
  virtual Status scan_ranges(Column column, const std::vector<KeyRange>& ranges,
                             const std::function<bool(size_t range, std::string_view key,
                                                      std::string_view value)>& fn) const;
  // A point-in-time view of the whole store (KvView). RocksStore's is a
  // RocksDB snapshot (cheap to take; it pins the versions it sees until it
  // is released); MemoryStore's is a copy of its data.
  virtual Result<std::unique_ptr<KvView>> view() const = 0;
  // A consistent copy of the whole store in folder `dir` (which must not
  // exist), readable by open() later: every batch written before the call,
  // none after (docs/backup.md). RocksStore's is a RocksDB checkpoint (hard
  // links where the file system allows); the default refuses.
  virtual Status checkpoint_to(const std::string& dir) const;
};

// Big-endian fixed-width integer keys so byte order equals numeric order.
std::string encode_u64_key(uint64_t v);
Result<uint64_t> decode_u64_key(std::string_view key);

}  // namespace chipledger
