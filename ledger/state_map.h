// The stored, incremental state map (docs/state-map.md): the authenticated
// map serial -> current record of state_proof.h, kept in Column::state
// (SHA-256(serial) -> SHA-256(record)) and, in memory, as dense arrays of
// the node hashes of the top D levels (D adapts to the number of leaves),
// each with its leaf count capped at 2; the subtrees below depth D
// ("buckets", ~8 leaves) are hashed from their leaves, read by one range
// scan. The Ledger hands it each block's changed serials: prepare() adds the
// leaves to the block's WriteBatch and computes the new nodes,
// publish_undo() (before the batch is written) and commit() (after) make
// them visible. Reads (root_at, prove) answer at the current size and at
// every size that ended one of the last blocks (an undo log of at most
// Options::max_undo_blocks blocks and max_undo_bytes bytes), on any thread,
// concurrently with the writer; one writer thread.
//
// Why a read at size Q is right while a block B is being written: a reader
// holds the shared lock for the whole read. B's undo entry (the old values
// of every node, leaf and record B changes) is pushed under the exclusive
// lock before B's batch is written, and B's node changes are applied to the
// arrays under the exclusive lock after. So a reader either runs before the
// push (the store and the arrays are both still at Q), or it sees B's undo,
// which restores every value B changed, whichever of the old or new store
// values and arrays it reads. Undo entries are dropped (oldest first) only
// under the exclusive lock, and a reader checks Q against the oldest kept
// size under its shared lock.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/kv_store.h"
#include "ledger/state_proof.h"

namespace chipledger {

// A serial's state at one log size, with its proof.
struct StateAnswer {
  std::optional<std::string> record;  // its record's encoding, absent if not registered then
  StateProof proof;                   // presence when record, else absence
  Hash root{};                        // the state root at that size
};

class StateMap {
 public:
  struct Undo;  // one block's old values (state_map.cc)
  struct Options {
    int min_depth = 8;   // D's bounds: D = clamp(ceil(log2(leaves / 8)), min, max)
    int max_depth = 20;  // at most 24
    size_t max_undo_blocks = 256;
    size_t max_undo_bytes = 64u << 20;
    // The writer's cache of bucket contents (saves the range scans of
    // buckets it read or wrote before); 0: none.
    size_t bucket_cache_bytes = 64u << 20;
  };

  // The map of `store`, whose log has `size` entries. A store without a
  // complete state column (made before the map existed, or a build cut
  // short) gets it built from Column::serials first.
  static Result<std::unique_ptr<StateMap>> open(KvStore& store, uint64_t size, Options options);

  // One serial's new record in a block, and the one it replaces.
  struct Change {
    std::string serial;
    std::string record;                     // SerialRecord::encode()
    std::optional<std::string> old_record;  // its committed record, if any
  };
  // A block's update between prepare() and commit().
  class Update {
   public:
    const Hash& root() const { return root_; }

   private:
    friend class StateMap;
    std::shared_ptr<Undo> undo_;
    std::vector<std::pair<uint64_t, std::pair<Hash, uint8_t>>> nodes_;  // (level, index) -> new
    std::vector<std::pair<uint64_t, std::vector<StateLeaf>>> buckets_;  // changed buckets' leaves
    uint64_t leaves_after_ = 0;
    Hash root_{};
  };
  // For a block taking the log from size() to size_after, with each changed
  // serial once: puts its leaves (and the leaf count) into `batch` and
  // computes the new nodes and root. Nothing visible changes.
  Result<Update> prepare(const std::vector<Change>& changes, uint64_t size_after,
                         WriteBatch& batch) const;
  // Before the batch is written: makes the block's old values known to
  // readers (and drops the oldest undo beyond the bounds).
  void publish_undo(Update& update);
  // After the batch was written: the new nodes and size become current. A
  // failed rebuild (when D grows) is a storage error.
  Status commit(Update update);

  // Replacing the whole store (a snapshot restore): suspend() before the
  // write (reads fail meanwhile), reset() after it rebuilds from the state
  // column and forgets the undo log.
  void suspend();
  Status reset(uint64_t size);
  // Adds to a batch holding every serial record (Column::serials puts) the
  // state column's leaves and count for exactly those serials.
  static void add_leaves_for_serials(WriteBatch& batch);

  uint64_t size() const;
  uint64_t oldest_size() const;  // sizes below it are no longer answerable
  uint64_t leaf_count() const;
  int depth() const;
  // At `size`: the current size, or one that ended a kept block.
  Result<Hash> root_at(uint64_t size) const;
  Result<StateAnswer> prove(std::string_view serial, uint64_t size) const;

  struct Levels {
    int depth = 0;
    std::vector<std::vector<Hash>> hash;      // hash[d][i], d = 0..depth
    std::vector<std::vector<uint8_t>> count;  // leaves under it, capped at 2
    uint64_t leaves = 0;
  };
  // Bucket -> its leaves (sorted), least recently used first out. Touched
  // by the writer only (prepare, commit, open, reset), never by readers.
  class BucketCache {
   public:
    explicit BucketCache(size_t budget) : budget_(budget) {}
    const std::vector<StateLeaf>* find(uint64_t bucket);
    void put(uint64_t bucket, std::vector<StateLeaf> leaves);
    void clear();
    bool full() const { return bytes_ >= budget_; }

   private:
    static size_t cost(const std::vector<StateLeaf>& l) {
      return 96 + l.size() * sizeof(StateLeaf);
    }
    size_t budget_;
    size_t bytes_ = 0;
    std::list<uint64_t> order_;  // most recently used first
    std::unordered_map<uint64_t, std::pair<std::vector<StateLeaf>, std::list<uint64_t>::iterator>>
        map_;
  };

 private:
  StateMap(KvStore& store, Options options)
      : store_(store), options_(options), cache_(options.bucket_cache_bytes) {}
  int depth_for(uint64_t leaves) const;
  // The first undo entry a read at `size` applies (mu_ held), or why
  // `size` cannot be read.
  Result<size_t> first_after(uint64_t size) const;
  class Reading;  // a read at one size, under the shared lock

  KvStore& store_;
  const Options options_;
  // Writer preference: the writer takes turnstile_ then mu_ exclusively;
  // readers pass through turnstile_ before taking mu_ shared, so a stream of
  // readers cannot starve the writer.
  mutable std::mutex turnstile_;
  mutable std::shared_mutex mu_;
  Levels levels_;                           // guarded by mu_ (the writer reads it unlocked)
  std::deque<std::shared_ptr<Undo>> undo_;  // oldest first; guarded by mu_
  size_t undo_bytes_ = 0;
  mutable BucketCache cache_;  // the writer's (see BucketCache)
  uint64_t size_ = 0;
  bool suspended_ = false;
};

}  // namespace chipledger
