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
#include <vector>

#include "crypto/merkle.h"
#include "ledger/kv_store.h"

namespace chipledger {

class MerkleLog {
 public:
  // Loads the size (Column::meta key "log_size") and the right frontier.
  static Result<MerkleLog> open(const KvStore& store);

  uint64_t size() const { return size_; }
  Hash root() const;  // root of the current (possibly uncommitted) tree

  // Adds a leaf hash: writes the leaf node, every subtree it completes and
  // the new "log_size" into `batch`.
  void append(const Hash& leaf_hash, WriteBatch& batch);

  // From committed nodes only; size must be <= the committed size.
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

}  // namespace chipledger
