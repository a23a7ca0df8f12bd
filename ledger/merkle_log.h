// The ledger's append-only Merkle log (RFC 9162 hashing) over a KvStore.
// Every complete subtree's hash is stored once under Column::tree as
// (level, index), so roots and proofs for any committed size are built from
// O(log n) reads, never by rehashing leaves. Appends go into the caller's
// WriteBatch; the in-memory right frontier follows them, so the caller must
// commit the batch (or stop the process) before appending again.
// Concurrency: one writer; proof and root reads only touch committed,
// immutable tree nodes and may run on other threads.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "crypto/merkle.h"
#include "ledger/kv_store.h"

namespace chipledger {

class TreeCache;

class MerkleLog {
 public:
  // Loads the size (Column::meta key "log_size") and the right frontier.
  static Result<MerkleLog> open(const KvStore& store);

  uint64_t size() const { return size_; }
  Hash root() const;  // root of the current (possibly uncommitted) tree

  // Adds a leaf hash: writes the leaf node, every subtree it completes and
  // the new "log_size" into `batch`.
  void append(const Hash& leaf_hash, WriteBatch& batch) {
    append_nodes(leaf_hash, batch);
    put_size(batch);
  }
  // The same in two steps, for a batch of many leaves: append_nodes() writes
  // only the nodes; put_size() writes "log_size" for the current size and
  // must follow the batch's last append_nodes(). The batch then commits
  // exactly what one append() per leaf would have (each later "log_size"
  // overwrote the one before within the batch). With `written`,
  // append_nodes() also appends each node it put there, in put order.
  struct Node {
    int level;
    uint64_t index;
    Hash hash;
  };
  void append_nodes(const Hash& leaf_hash, WriteBatch& batch, std::vector<Node>* written = nullptr);
  void put_size(WriteBatch& batch) const;

  // From committed nodes only; size must be <= the committed size (read
  // from the store's "log_size").
  static Result<Hash> root_at(const KvStore& store, uint64_t size);
  static Result<std::vector<Hash>> inclusion_proof(const KvStore& store, uint64_t index,
                                                   uint64_t size);
  static Result<std::vector<Hash>> consistency_proof(const KvStore& store, uint64_t size1,
                                                     uint64_t size2);
  static Result<Hash> leaf_hash_at(const KvStore& store, uint64_t index);

 private:
  MerkleLog() = default;
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // roots of the complete subtrees, largest first
};

// Roots and proofs of a tree whose committed size the caller knows, byte for
// byte those of MerkleLog's static readers. A root or proof first lists the
// nodes it needs (the RFC's recursion, without hashing), takes those of the
// cached levels from `cache` and reads the rest with one multi_get, then
// folds them. Errors: out-of-range sizes, and a missing or corrupt node
// (the first one in the RFC's order) exactly as the static readers report
// them. Thread-safe when the store and cache are.
class TreeReader {
 public:
  TreeReader(const KvStore& store, uint64_t committed_size, const TreeCache* cache = nullptr)
      : store_(store), committed_(committed_size), cache_(cache) {}

  Result<Hash> root_at(uint64_t size) const;
  Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2) const;

 private:
  const KvStore& store_;
  uint64_t committed_;
  const TreeCache* cache_;
};

// The committed tree nodes of the upper levels (level >= min_level()) in
// memory, so a proof reads only its few lowest nodes, if any, from the
// store. Each level holds a gap-free prefix of its nodes, only ever taken
// after their commit (read back from the store, or handed over by the writer
// from the batch it committed), so it never holds a node that is not
// committed; nodes never change, so a cached node is the stored one. A
// missing or corrupt stored node ends its level's prefix (readers then go to
// the store, which reports it). Memory is bounded: when a level would hold
// more than max_nodes_per_level nodes it is dropped and min_level() rises,
// so the cache holds fewer than 2 x max_nodes_per_level nodes of 32 bytes
// (32 MiB at the defaults, twice that at most in vector capacity). At the
// defaults the whole tree is in memory up to 512 K log entries; each time
// the log doubles after that, its lowest cached level is dropped. One writer
// calls catch_up() and add_committed(); the getters may run on any thread at
// the same time.
class TreeCache {
 public:
  static constexpr int kDefaultMinLevel = 0;
  static constexpr uint64_t kDefaultMaxNodesPerLevel = uint64_t{1} << 19;
  explicit TreeCache(int min_level = kDefaultMinLevel,
                     uint64_t max_nodes_per_level = kDefaultMaxNodesPerLevel);

  // Reads the nodes of a committed tree of `committed_size` leaves that the
  // cached levels do not hold yet (all of them the first time).
  void catch_up(const KvStore& store, uint64_t committed_size);
  // The same without reading: `nodes` are the ones MerkleLog::append_nodes
  // wrote (its `written`) into a batch that is now committed, the log's
  // committed size `committed_size`. Each extends its level when it is the
  // level's next node (a level stuck at a damaged node stays stuck).
  void add_committed(const std::vector<MerkleLog::Node>& nodes, uint64_t committed_size);

  int min_level() const;
  std::optional<Hash> get(int level, uint64_t index) const;
  // Fills out[i] for each refs[i] the cache holds; found[i] says which.
  struct Ref {
    int level;
    uint64_t index;
  };
  void get_many(const std::vector<Ref>& refs, std::vector<Hash>& out,
                std::vector<bool>& found) const;
  uint64_t cached_nodes() const;

 private:
  uint64_t max_per_level_;
  mutable std::shared_mutex mu_;
  void drop_levels(uint64_t committed_size);  // over the cap; the writer only
  int min_level_;                             // changed by the writer under mu_
  std::vector<std::vector<Hash>> levels_;     // levels_[level], 64 of them
};

}  // namespace chipledger
