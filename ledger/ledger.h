// The ledger: custody rules + Merkle log + storage. apply_block() applies a
// block of signed transactions in order, each accepted or refused with a
// reason, and commits all its effects (log leaves, tree nodes, serial
// records, indexes, size) in one WriteBatch synced once: after a crash a
// block is either wholly there or not at all. Reads are thread-safe and see
// committed blocks only. A failed storage write stops the ledger (fail-stop):
// every later write is refused and the process should restart from disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ledger/consortium.h"
#include "ledger/custody_rules.h"
#include "ledger/governance.h"
#include "ledger/kv_store.h"
#include "ledger/merkle_log.h"
#include "ledger/open_proposals.h"
#include "ledger/serial_record.h"
#include "ledger/state_map.h"
#include "ledger/transaction.h"

namespace chipledger {

struct PendingTx {
  SignedTransaction tx;
  bool signature_checked = false;  // set only by this node's own check_signature
};

struct TxOutcome {
  bool accepted = false;
  uint64_t index = 0;  // log index, when accepted (or when already_in_ledger)
  Hash txid{};
  std::string reason;  // why it was refused
  // Refused as a replay: the same transaction is already in the ledger, at
  // `index` (a resubmission of one that landed: accepted there, not now).
  bool already_in_ledger = false;
  uint32_t serials = 0;  // accepted: the serials whose record it changed
};

class Ledger {
 public:
  static Result<std::unique_ptr<Ledger>> open(std::unique_ptr<KvStore> store,
                                              Consortium consortium);
  // The same with the state map's options (tests use small depths).
  static Result<std::unique_ptr<Ledger>> open(std::unique_ptr<KvStore> store, Consortium consortium,
                                              StateMap::Options state_options);

  // The consortium in force: the trust file's (genesis), changed by every
  // governance transaction applied since (docs/governance.md). Safe to
  // call from any thread; a block's changes are seen once it is committed.
  std::shared_ptr<const Consortium> consortium() const;
  const Consortium& genesis() const { return genesis_; }
  // A consortium whose nodes and quorum are those in force for a checkpoint
  // of `size` entries: after every governance change at an index below
  // `size` (they judge that checkpoint's signatures; docs/governance.md,
  // section 6). Only blocks that change the nodes or the quorum are
  // recorded, so its members and policy are those of the last such block
  // (consortium() has the ones in force). For a size beyond the log: the
  // consortium in force now.
  std::shared_ptr<const Consortium> consortium_at(uint64_t size) const;
  // A proposal as the ledger keeps it (applied ones too), and all of them.
  Result<std::optional<Proposal>> proposal(const Hash& id) const;
  Result<std::vector<Proposal>> proposals() const;
  // The pseudo-serial whose history() lists the governance transactions
  // (no serial can have this name: '#' is not a serial character).
  static constexpr std::string_view kGovernanceHistory = chipledger::kGovernanceHistory;

  // Checks the signature of a transaction arriving at this node; a
  // PendingTx built after an ok check is not checked again.
  Status check_arrival(const SignedTransaction& tx) const;

  // With `entry` (replication: the Raft log index of the block), also records
  // it as the last applied entry in the block's own write, even when every
  // transaction is refused; an entry at or below applied_entry() is refused
  // and changes nothing. After a restart, entries at or below it are skipped.
  Result<std::vector<TxOutcome>> apply_block(std::vector<PendingTx> txs, uint64_t block_time_ms,
                                             std::optional<uint64_t> entry = std::nullopt);
  // The last replication entry applied (0: none).
  uint64_t applied_entry() const { return applied_entry_.load(); }

  // Committed reads. Roots and proofs are those of MerkleLog's static
  // readers (the store's tree), from cheaper sources: the roots of the last
  // kRecentRoots committed sizes are kept in memory (each block's from the
  // in-memory frontier, others once read), the upper tree levels are cached
  // (TreeCache), and a proof's other nodes are read with one multi_get.
  static constexpr size_t kRecentRoots = 64;
  uint64_t size() const { return committed_size_.load(); }
  Result<Hash> root_at(uint64_t size) const;
  Result<std::optional<SerialRecord>> serial(std::string_view serial) const;
  Result<std::optional<LicenseRecord>> license(std::string_view id) const;
  // The log index of the committed transaction with this id, if any.
  Result<std::optional<uint64_t>> transaction_index(const Hash& txid) const;
  // Log indices of the serial's events below `size`, oldest first.
  Result<std::vector<uint64_t>> history(std::string_view serial, uint64_t size) const;
  Result<Bytes> event(uint64_t index) const;  // the signed transaction (leaf)
  // The same for several indices (each below size()), in order, read with
  // one multi_get.
  Result<std::vector<Bytes>> events(const std::vector<uint64_t>& indices) const;
  // The same decoded, with what a history answer shows of each: the wire in
  // base64 and the readable view (transaction_view) as compact JSON text. A
  // stored event that does not decode is an error. Events never change, so
  // the most recently used ones stay in memory (at most kEventViews of them
  // and kEventViewBytes of wire, base64 and view text): a pallet's register,
  // in every one of its serials' histories, is decoded and rendered once,
  // not per request. The others are read with one multi_get.
  struct EventView {
    SignedTransaction tx;
    std::string tx_base64;  // base64_encode(tx.wire()), the stored bytes
    std::string view_json;  // transaction_view(tx.tx).dump()
  };
  static constexpr size_t kEventViews = 4096;
  static constexpr size_t kEventViewBytes = 32u << 20;
  Result<std::vector<std::shared_ptr<const EventView>>> event_views(
      const std::vector<uint64_t>& indices) const;
  Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2) const;

  // The state map (ledger/state_map.h, docs/state-map.md): the
  // authenticated map serial -> current record, updated in each block's
  // write. Its root and a serial's record with its presence or absence
  // proof, at the current size or any size that ended one of the last
  // blocks (at most StateMap::Options::max_undo_blocks of them); sizes
  // below oldest_state_size() are no longer answerable. Thread-safe, and
  // concurrent with apply_block.
  Result<Hash> state_root_at(uint64_t size) const;
  Result<StateAnswer> state_proof(std::string_view serial, uint64_t size) const;
  uint64_t oldest_state_size() const;
  const StateMap& state_map() const { return *state_map_; }

  // State snapshots for replication (docs/encoding.md, "Snapshots"): every
  // column but the node's own checkpoints, with the applied entry, size and
  // root. snapshot() must not run concurrently with apply_block (the Raft
  // thread calls both); it is snapshot_view() then encode_snapshot(). restore() takes the state of
  // a later point of the same log: it checks that the snapshot is well formed, for this ledger,
  // that its tree gives its root and extends this ledger's log (the root
  // at this ledger's size is unchanged) and that its derived state is what
  // its log gives (check_snapshot_state), then writes it in one synced
  // write (true). A snapshot at or below applied_entry() is only checked
  // against this ledger and nothing is written (false): a restarted node
  // already has it.
  Result<Bytes> snapshot() const;
  Result<bool> restore(ByteView snapshot);
  // restore() from a backup into an empty ledger (docs/backup.md).
  // forget_raft_entry: the ledger is to start a new Raft log, so the
  // snapshot's applied entry is not kept (it becomes 0). Refused unless this
  // ledger is empty; the snapshot is checked exactly as restore() checks it.
  struct RestoreOptions {
    bool forget_raft_entry = false;
  };
  Result<bool> restore(ByteView snapshot, RestoreOptions options);

  // A backup (docs/backup.md): the store's checkpoint_to(dir), taken at a
  // block boundary (no block is applied meanwhile), and the point it holds.
  struct BackupPoint {
    uint64_t applied_entry = 0;
    uint64_t size = 0;
    Hash root{};
    Hash state_root{};
  };
  Result<BackupPoint> checkpoint_to(const std::string& dir) const;
  // What restore() checks of a snapshot's derived state (serial records,
  // histories, transaction ids, licenses): exactly what replaying its log
  // through the rules gives. `snapshot` holds its columns.
  Status check_snapshot_state(const KvStore& snapshot, uint64_t size) const;

  // snapshot() in two steps, so that the long one can run on another thread
  // while blocks are applied. snapshot_view() is quick (it takes the store's
  // point-in-time view, KvStore::view, and copies the applied entry, size and
  // root); like snapshot() it must not run concurrently with apply_block.
  // encode_snapshot() reads only the view and the copied values (never this
  // ledger, its caches or its frontier), so it may run on any thread while
  // blocks are applied: it gives the bytes snapshot() gave when the view was
  // taken. A SnapshotView must not outlive the ledger's store.
  struct SnapshotView {
    uint64_t applied_entry = 0;
    uint64_t size = 0;
    Hash root{};
    std::unique_ptr<KvView> store;
  };
  Result<SnapshotView> snapshot_view() const;
  static Result<Bytes> encode_snapshot(const SnapshotView& view);

  // Signed checkpoint notes kept by log size (Column::checkpoints). Written
  // without a sync: a lost one is simply signed again.
  Status save_checkpoint(uint64_t size, const std::string& note);
  Result<std::optional<std::string>> checkpoint_at(uint64_t size) const;
  Result<std::optional<std::string>> latest_checkpoint() const;

 private:
  Ledger(std::unique_ptr<KvStore> store, Consortium consortium, MerkleLog log,
         std::unique_ptr<StateMap> state_map);
  TreeReader tree() const { return TreeReader(*store_, size(), &tree_cache_); }
  void remember_root(uint64_t size, const Hash& root) const;

  // Applies one governance transaction at `index` (after its signature
  // check); `current` and `proposals` are the block's running state.
  // `open`: the open proposals as the block goes (open_proposals_ and the
  // block's own).
  Result<GovernanceStep> apply_governance_tx(const SignedTransaction& tx, const StateView& state,
                                             const Consortium& current,
                                             std::map<Hash, Proposal>& proposals,
                                             const OpenProposals& open, uint64_t block_time_ms,
                                             uint64_t index) const;
  Status load_consortium();      // the governance column's, or genesis
  Status load_open_proposals();  // open_proposals_ from the stored proposals
  Result<std::shared_ptr<const Consortium>> parse_stored_consortium(std::string_view text) const;

  std::unique_ptr<KvStore> store_;
  const Consortium genesis_;
  const std::shared_ptr<const Consortium> genesis_shared_;  // one copy, for consortium_at
  mutable std::mutex consortium_mu_;
  std::shared_ptr<const Consortium> consortium_;  // guarded by consortium_mu_
  // By the log size from which each stored consortium's nodes and quorum
  // are in force (blocks that changed them); guarded by consortium_mu_.
  std::map<uint64_t, std::shared_ptr<const Consortium>> consortium_history_;
  // The proposals not applied, by author (derived from the stored ones at
  // open and after a snapshot; written under write_mu_).
  OpenProposals open_proposals_;
  mutable std::mutex write_mu_;
  MerkleLog log_;                        // guarded by write_mu_
  std::unique_ptr<StateMap> state_map_;  // over *store_
  bool failed_ = false;
  std::atomic<uint64_t> committed_size_{0};
  std::atomic<uint64_t> applied_entry_{0};
  // Caches of committed, immutable values (see root_at); filled by the
  // writer after each commit and by readers on a miss.
  TreeCache tree_cache_;
  mutable std::mutex roots_mu_;
  mutable std::map<uint64_t, Hash> recent_roots_;  // guarded by roots_mu_
  struct ViewCache {
    std::mutex mu;
    std::list<uint64_t> order;  // most recently used first
    std::unordered_map<uint64_t,
                       std::pair<std::shared_ptr<const EventView>, std::list<uint64_t>::iterator>>
        by_index;
    size_t bytes = 0;
  };
  mutable ViewCache views_;
};

// Storage keys (docs/storage.md).
std::string serial_index_key(std::string_view serial, uint64_t index);

}  // namespace chipledger
