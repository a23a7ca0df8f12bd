// Replication through libraft (Debian's libraft-dev, the C Raft library) with
// its libuv disk I/O and TCP transport. The Replicator owns one Raft server
// and runs its uv loop on a thread of its own; every callback of libraft
// (the FSM apply included) runs on that thread.
//
// Leader: apply() (the BlockSequencer's sink) encodes the block
// (ledger/block.h) as one Raft entry, hands it to raft_apply and waits until
// the entry is committed and applied on this node, then returns the
// outcomes. Every node, leader or follower, applies committed entries in log
// order in the FSM: decode the block, Ledger::apply_block with the entry's
// Raft index (stored in the same RocksDB write), then after_apply (the
// checkpoint is re-signed). Transactions whose signature this node checked
// on arrival are not checked again; those that arrive through the log are.
// After a restart libraft replays committed entries: those at or below the
// ledger's applied_entry() are skipped.
// Snapshots: every snapshot_threshold entries the FSM hands libraft the
// ledger's whole state, asynchronously (libraft's FSM version 3): on the
// Raft thread only a point-in-time view is taken (Ledger::snapshot_view),
// the bytes are encoded from it on a libuv worker (Ledger::encode_snapshot)
// while entries go on being applied, and freed with the view in
// snapshot_finalize; libraft writes them to the Raft folder and compacts
// the log to snapshot_trailing entries.
// A follower further behind receives the snapshot and restores it
// (Ledger::restore, which checks it extends its own log); at start libraft
// restores the newest local snapshot, which the ledger has already. The apply step itself and the
// entry framing are node/raft_entry.h, shared with the simulation tests.
//
// A single node is a one-voter cluster: the same code path. The Raft log and
// metadata live in `dir` (data_dir/raft); the state stays in RocksDB.
// libraft, libuv and their headers stay inside raft_replicator.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "ledger/ledger.h"
#include "net/tls_context.h"
#include "node/raft_frame_guard.h"

namespace chipledger {

struct RaftPeer {
  uint64_t id = 0;      // Raft server id, > 0, unique in the cluster
  std::string address;  // Raft TCP address, IPv4 "a.b.c.d:port" (what libraft 0.15 parses)
};

// Roles in libraft's configuration: a voter counts for the quorum, a
// standby replicates the log without voting, a spare does neither.
enum class RaftMemberRole { voter, standby, spare };
std::string_view raft_member_role_name(RaftMemberRole r);
std::optional<RaftMemberRole> raft_member_role_from_name(std::string_view name);

struct RaftMember {
  uint64_t id = 0;
  std::string address;
  RaftMemberRole role = RaftMemberRole::voter;
};

// A membership change (libraft's raft_add, raft_assign, raft_remove), or
// the leadership handed to another voter (raft_transfer; id 0: any).
struct MembershipChange {
  enum class Op { add, assign, remove, transfer } op = Op::add;
  uint64_t id = 0;
  std::string address;                          // add
  RaftMemberRole role = RaftMemberRole::voter;  // assign
};

struct ReplicatorOptions {
  uint64_t id = 1;
  std::string address = "127.0.0.1:0";  // port 0 only for a one-node cluster
  // The cluster a fresh node bootstraps with (every voter, this node
  // included); ignored once the Raft folder holds state. Empty: this node alone.
  std::vector<RaftPeer> cluster;
  std::string dir;  // the Raft folder (created if missing)
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  // A snapshot of the ledger's state is taken every `snapshot_threshold`
  // applied entries; the Raft log keeps `snapshot_trailing` entries before
  // it. A node further behind than that catches up from the snapshot.
  unsigned snapshot_threshold = 8192;
  unsigned snapshot_trailing = 4096;
  // The longest apply() waits for its entry before answering "outcome
  // unknown" (a resubmission is safe: a replay is refused by its id).
  std::chrono::milliseconds apply_timeout{30000};
  // false: a node joining a running cluster; it does not bootstrap and
  // waits until the leader adds it (MembershipChange::Op::add).
  bool bootstrap = true;
  // A ledger restored from a backup to join a running cluster
  // (docs/backup.md) holds Raft entries up to this one while its Raft log
  // starts empty: until it applies a later entry, a Raft log that ends
  // before the ledger's applied entry is expected, not a lost folder. Only
  // for a joining node (bootstrap false).
  uint64_t restored_entry = 0;
  // true before the restored node's first start; after it, a fresh Raft
  // folder (no term, vote or entry) is one that was lost: refused.
  bool restored_first_start = false;
  // Raft between nodes runs over mutual TLS with this identity
  // (node/raft_tls_transport.h); without one, a one-node cluster that
  // opens no Raft port.
  std::optional<TlsIdentity> tls;
  RaftFrameLimits frame_limits;
  // Checked before a block is proposed: a failure (a full disk) refuses it
  // with nothing done (unavailable). Empty: always room.
  std::function<Status()> room_to_write;
  // Called on the Raft thread after each block this process applied (for
  // the metrics): its transactions, the serials they changed, the time it
  // took.
  struct BlockApplied {
    size_t transactions = 0;
    size_t serials = 0;
    std::chrono::microseconds took{0};
  };
  std::function<void(const BlockApplied&)> on_block_applied;
};

enum class RaftRole { unavailable, follower, candidate, leader };
std::string_view raft_role_name(RaftRole r);

struct RaftStatus {
  RaftRole role = RaftRole::unavailable;
  uint64_t leader_id = 0;  // 0: no leader known
  uint64_t term = 0;
  uint64_t last_applied = 0;  // the last Raft index this node applied
  uint64_t commit_index = 0;  // the last Raft index this node knows committed
  // How long no leader has been known (0 while one is); from the start.
  uint64_t ms_without_leader = 0;
  unsigned election_timeout_ms = 0;
  std::string failure;              // why this node stopped applying (failed())
  uint64_t snapshots_taken = 0;     // by this process
  uint64_t snapshots_restored = 0;  // installed from the leader (or a newer local one)
  uint64_t snapshot_taken_ms = 0;   // their total time, view to done
  uint64_t snapshot_restored_ms = 0;
  uint64_t leader_changes = 0;  // times a new leader became known to this process
  // Blocks from the leader whose time was beyond the policy's clock skew
  // from this node's clock (applied all the same), and the last such skew.
  uint64_t skewed_blocks = 0;
  int64_t last_block_skew_ms = 0;
  // The blocks this process applied (not those skipped as applied before a
  // restart), their transactions, accepted or refused, and the wall time
  // spent applying them: decoding, the rules with every signature they
  // check, and the block's write (the ledger's cost of a block).
  uint64_t blocks_applied = 0;
  uint64_t transactions_applied = 0;
  uint64_t apply_us = 0;
  std::vector<RaftMember> members;  // the configuration this node knows
  // The Raft transport's connections (node/raft_tls_transport.h).
  struct Transport {
    bool tls = false;           // false: no Raft network (a one-node cluster)
    uint64_t accepted = 0;      // incoming peers handed to libraft
    uint64_t refused = 0;       // incoming peers refused (TLS, certificate, hello, membership)
    uint64_t connected = 0;     // outgoing connections handed to libraft
    uint64_t guard_closed = 0;  // connections closed for a frame beyond the limits
  } transport;
};

class Replicator {
 public:
  // Starts the Raft server (bootstrapping a fresh folder), replays what the
  // ledger has not applied yet, and serves until stop(). `after_apply` runs
  // on the Raft thread after each block is written.
  static Result<std::unique_ptr<Replicator>> start(Ledger& ledger, ReplicatorOptions options,
                                                   std::function<void()> after_apply);
  ~Replicator();  // stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Closes the Raft server and joins its thread. Waiting apply() calls fail.
  void stop();

  // The BlockSequencer sink: replicates one block and waits until its entry
  // is applied here. Fails (nothing applied by this call) when this node is
  // not the leader; fails with an unknown outcome when leadership is lost
  // after the entry was appended (it may still commit under the next leader).
  Result<std::vector<TxOutcome>> apply(std::vector<PendingTx> txs, uint64_t block_time_ms);
  // apply() in two steps, for a sink with several blocks in flight: hands
  // the block to Raft (blocks keep the order of their propose() calls) and
  // returns what waits for its outcomes (at most apply_timeout from now).
  using Proposed = std::function<Result<std::vector<TxOutcome>>()>;
  Proposed propose(std::vector<PendingTx> txs, uint64_t block_time_ms);

  // On the leader: changes the cluster's membership and waits (at most
  // `timeout`) until the new configuration is committed. An added server
  // joins as a spare; assigning it the voter role first catches it up.
  Status change_membership(const MembershipChange& change, std::chrono::milliseconds timeout);

  // New Raft connections use this certificate from now on (a renewed one,
  // for the same Raft id); the open ones keep theirs.
  Status reload_tls(const TlsIdentity& identity);

  // A copy refreshed on the Raft thread every few milliseconds.
  RaftStatus status() const;
  uint64_t id() const;
  // The FSM could not apply a committed entry (a storage failure or an
  // entry that does not decode): this node stopped applying.
  bool failed() const;

 private:
  struct Impl;
  explicit Replicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
