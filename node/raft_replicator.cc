#include "node/raft_replicator.h"

#include <signal.h>

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "node/node_log.h"
#include "node/raft_entry.h"
#include "node/raft_tls_transport.h"
#include "node/thread_name.h"

// libraft 0.15's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

namespace chipledger {

std::string_view raft_role_name(RaftRole r) {
  switch (r) {
    case RaftRole::follower:
      return "follower";
    case RaftRole::candidate:
      return "candidate";
    case RaftRole::leader:
      return "leader";
    case RaftRole::unavailable:
      break;
  }
  return "unavailable";
}

std::string_view raft_member_role_name(RaftMemberRole r) {
  switch (r) {
    case RaftMemberRole::standby:
      return "standby";
    case RaftMemberRole::spare:
      return "spare";
    case RaftMemberRole::voter:
      break;
  }
  return "voter";
}

std::optional<RaftMemberRole> raft_member_role_from_name(std::string_view name) {
  if (name == "voter") return RaftMemberRole::voter;
  if (name == "standby") return RaftMemberRole::standby;
  if (name == "spare") return RaftMemberRole::spare;
  return std::nullopt;
}

namespace {

constexpr uint64_t kStatusPeriodMs = 5;
// A follower learns that an entry is committed only from the leader's next
// message (the next entry, or a heartbeat up to heartbeat_timeout later).
// When no other block follows this soon after one of the leader's blocks is
// applied, the leader appends a barrier, whose replication tells the
// followers at once: they apply and cosign the block's checkpoint within
// milliseconds rather than a heartbeat later.
constexpr uint64_t kCommitNoticeMs = 3;
using Barrier = struct raft_barrier;

// One apply() call's answer, shared between the waiting sequencer thread and
// the Raft thread; the first completion wins, later ones are ignored.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::vector<TxOutcome>>> result;

  void complete(Result<std::vector<TxOutcome>> r) {
    {
      std::lock_guard lock(mu);
      if (result) return;
      result.emplace(std::move(r));
    }
    cv.notify_all();
  }
};

long long ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

// A membership change's answer, shared like Waiter.
struct ChangeWaiter {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> result;
  void complete(Status s) {
    {
      std::lock_guard lock(mu);
      if (result) return;
      result.emplace(std::move(s));
    }
    cv.notify_all();
  }
};

struct Change {
  struct raft_change req {};
  struct raft_transfer transfer {};
  std::shared_ptr<ChangeWaiter> waiter;
};

void on_transfer(struct raft_transfer* req) {
  auto* c = static_cast<Change*>(req->data);
  c->waiter->complete(Status::ok());  // the caller looks at who leads now
  delete c;
}

void on_change(struct raft_change* req, int status) {
  auto* c = static_cast<Change*>(req->data);
  c->waiter->complete(status == 0 ? Status::ok()
                                  : Status::error(std::string("the membership change failed: ") +
                                                  raft_strerror(status)));
  delete c;
}

int raft_role_code(RaftMemberRole r) {
  switch (r) {
    case RaftMemberRole::standby:
      return RAFT_STANDBY;
    case RaftMemberRole::spare:
      return RAFT_SPARE;
    case RaftMemberRole::voter:
      break;
  }
  return RAFT_VOTER;
}

RaftMemberRole member_role_of(int code) {
  if (code == RAFT_STANDBY) return RaftMemberRole::standby;
  if (code == RAFT_SPARE) return RaftMemberRole::spare;
  return RaftMemberRole::voter;
}

RaftRole role_of(int state) {
  switch (state) {
    case RAFT_FOLLOWER:
      return RaftRole::follower;
    case RAFT_CANDIDATE:
      return RaftRole::candidate;
    case RAFT_LEADER:
      return RaftRole::leader;
    default:
      return RaftRole::unavailable;
  }
}

std::string raft_error(int rv, const char* what, const char* detail) {
  std::string s = std::string(what) + ": " + raft_strerror(rv);
  if (detail && *detail) s += std::string(" (") + detail + ")";
  return s;
}

}  // namespace

struct Replicator::Impl {
  // A block this node proposed as leader: alive from raft_apply until
  // libraft calls its callback (applied, or failed on leadership loss or
  // close), which libraft does exactly once per accepted request.
  struct Entry {
    struct raft_apply req;
    Impl* impl = nullptr;
    ProposedBlock proposal;
    const void* base = nullptr;  // the entry's buffer, as handed to raft_apply
    size_t len = 0;
    std::vector<TxOutcome> outcomes;
    bool applied = false;
    std::shared_ptr<Waiter> waiter;
  };

  Impl(Ledger& l, ReplicatorOptions o, std::function<void()> a)
      : ledger(l), options(std::move(o)), after_apply(std::move(a)) {}

  Ledger& ledger;
  ReplicatorOptions options;
  std::function<void()> after_apply;

  // libuv and libraft state: touched only on the Raft thread once it runs.
  uv_loop_t loop{};
  uv_async_t wakeup{};
  uv_timer_t status_timer{};
  uv_timer_t notice_timer{};
  std::unique_ptr<RaftTlsTransport> transport;  // outlives the loop's use of it
  struct raft_io io {};
  struct raft_fsm fsm {};
  struct raft raft {};
  std::map<raft_index, Entry*> proposed;  // by Raft index
  RaftRole last_role = RaftRole::unavailable;
  bool timer_open = false;
  uint64_t proposals = 0;            // blocks proposed so far
  uint64_t proposals_at_notice = 0;  // ... when the commit notice was scheduled
  bool logged_failure = false;
  std::chrono::steady_clock::time_point leader_seen = std::chrono::steady_clock::now();
  raft_id last_leader = 0;  // the refresher's, for leader_changes
  uint64_t leader_changes = 0;

  std::thread thread;

  // Work posted to the Raft thread.
  std::mutex task_mu;
  std::deque<std::function<void()>> tasks;
  bool accepting = false;  // the wakeup handle is open

  mutable std::mutex status_mu;
  RaftStatus status;
  std::atomic<bool> failed{false};
  bool stopped = false;

  // --- cross-thread --------------------------------------------------------

  bool post(std::function<void()> task) {
    std::lock_guard lock(task_mu);
    if (!accepting) return false;
    tasks.push_back(std::move(task));
    uv_async_send(&wakeup);
    return true;
  }

  static void on_wakeup(uv_async_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    std::deque<std::function<void()>> pending;
    {
      std::lock_guard lock(self->task_mu);
      pending.swap(self->tasks);
    }
    for (auto& t : pending) t();
  }

  // --- the FSM ---------------------------------------------------------------

  void fail(const std::string& reason) {
    failed = true;
    {
      std::lock_guard lock(status_mu);
      if (status.failure.empty()) status.failure = reason;
    }
    if (!logged_failure) {
      logged_failure = true;
      LogLine(LogLevel::error) << "chipledger-node: raft " << options.id << ": " << reason
                               << "; this node stops applying the log";
    }
  }

  static int fsm_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
    return static_cast<Impl*>(fsm->data)->apply_entry(buf, result);
  }

  // A block from the leader whose time is further from this node's clock
  // than the policy's skew: applied all the same (every node must apply the
  // same log), counted and said, at most once a minute in the log.
  void check_block_time(uint64_t index, uint64_t block_time_ms) {
    int64_t now = static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
    int64_t skew = static_cast<int64_t>(block_time_ms) - now;
    uint64_t limit = ledger.consortium()->policy().max_clock_skew_ms;
    if (static_cast<uint64_t>(skew < 0 ? -skew : skew) <= limit) return;
    uint64_t skewed;
    {
      std::lock_guard lock(status_mu);
      skewed = ++status.skewed_blocks;
      status.last_block_skew_ms = skew;
    }
    if (now - last_skew_log_ms >= 60000) {
      last_skew_log_ms = now;
      LogLine(LogLevel::warn) << "chipledger-node: raft " << options.id
                              << ": WARNING: block of entry " << index << " has a time "
                              << skew / 1000 << " s from this node's clock (policy allows "
                              << limit / 1000 << " s; " << skewed
                              << " such blocks so far): the leader's clock or this node's is wrong";
    }
  }
  int64_t last_skew_log_ms = -60000;

  int apply_entry(const struct raft_buffer* buf, void** result) {
    *result = nullptr;
    if (failed) return RAFT_IOERR;
    // libraft applies committed entries in order and advances last_applied
    // after each: the entry being applied is the next index.
    raft_index index = raft_last_applied(&raft) + 1;
    // The block this node proposed (same index, same buffer) is used as it
    // is, with the arrival checks; anything else is decoded and checked.
    Entry* mine = nullptr;
    if (auto it = proposed.find(index);
        it != proposed.end() && it->second->base == buf->base && it->second->len == buf->len) {
      mine = it->second;
    }
    uint64_t block_time = 0;
    const auto started = std::chrono::steady_clock::now();
    auto outcomes = chipledger::apply_entry(
        ledger, index, ByteView(static_cast<const uint8_t*>(buf->base), buf->len),
        mine ? &mine->proposal : nullptr, &block_time);
    if (!outcomes) {
      fail(outcomes.reason());
      if (mine) mine->waiter->complete(outcomes.status());
      return RAFT_IOERR;
    }
    if (!outcomes->has_value()) return 0;  // replayed after a restart: applied already
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    {
      std::lock_guard lock(status_mu);
      ++status.blocks_applied;
      status.transactions_applied += (*outcomes)->size();
      status.apply_us += static_cast<uint64_t>(took.count());
    }
    if (options.on_block_applied) {
      size_t serials = 0;
      for (const auto& o : **outcomes) serials += o.serials;
      options.on_block_applied({(*outcomes)->size(), serials, took});
    }
    if (!mine) check_block_time(index, block_time);
    if (after_apply) after_apply();
    if (mine) {
      mine->outcomes = std::move(**outcomes);
      mine->applied = true;
      *result = mine;
    }
    std::lock_guard lock(status_mu);
    status.last_applied = index;
    return 0;
  }

  // Snapshots are libraft's asynchronous ones (fsm version 3), in three
  // steps. fsm_snapshot, on the Raft thread between two applies, only takes
  // the ledger's point-in-time view (Ledger::snapshot_view: the store's
  // view plus the applied entry, size and root). fsm_snapshot_async, on a
  // libuv worker thread, encodes the snapshot from that view alone
  // (Ledger::encode_snapshot) and frames it like an entry (8-byte multiple)
  // while the Raft thread goes on applying entries, which the view does not
  // see. fsm_snapshot_finalize, on the Raft thread again once libraft has
  // written the snapshot (or failed to), frees the bytes and releases the
  // view. libraft takes one snapshot at a time (snapshot.pending), so one
  // PendingSnapshot is enough.
  struct PendingSnapshot {
    Ledger::SnapshotView view;  // set on the Raft thread, read by the worker
    raft_index entry = 0;       // raft_last_applied() when the view was taken
    std::chrono::steady_clock::time_point started;
    long long view_ms = 0;
    // Written by the worker, read in finalize (the worker's end happens
    // before libuv runs the completion on the Raft thread).
    Bytes framed;
    struct raft_buffer buf {};
    long long encode_ms = 0;
    std::string error;
  };
  // Raft thread only, except that the worker uses the object it points to
  // between fsm_snapshot and fsm_snapshot_finalize.
  std::unique_ptr<PendingSnapshot> pending_snapshot;

  static int fsm_snapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs) {
    auto* self = static_cast<Impl*>(fsm->data);
    *bufs = nullptr;
    *n_bufs = 0;
    if (self->failed) return RAFT_IOERR;
    if (self->pending_snapshot) return RAFT_BUSY;  // libraft does not ask twice; be safe
    auto p = std::make_unique<PendingSnapshot>();
    p->started = std::chrono::steady_clock::now();
    p->entry = raft_last_applied(&self->raft);
    auto view = self->ledger.snapshot_view();
    if (!view) {
      LogLine(LogLevel::warn) << "chipledger-node: raft " << self->options.id
                              << ": taking a snapshot: " << view.reason();
      return RAFT_IOERR;
    }
    p->view = std::move(*view);
    p->view_ms = ms_since(p->started);
    self->pending_snapshot = std::move(p);
    if (self->fsm.snapshot_async != nullptr) return 0;
    // Without async_work (not libraft 0.15's libuv io): encode here.
    int rv = fsm_snapshot_async(fsm, bufs, n_bufs);
    if (rv != 0) {
      // libraft calls no finalize after a failed snapshot.
      unsigned none = 0;
      struct raft_buffer* no_bufs = nullptr;
      fsm_snapshot_finalize(fsm, &no_bufs, &none);
      *bufs = nullptr;
      *n_bufs = 0;
    }
    return rv;
  }

  // On a libuv worker: touches only the PendingSnapshot (never the ledger,
  // the Impl's other members or libraft's state).
  static int fsm_snapshot_async(struct raft_fsm* fsm, struct raft_buffer* bufs[],
                                unsigned* n_bufs) {
    PendingSnapshot* p = static_cast<Impl*>(fsm->data)->pending_snapshot.get();
    if (p == nullptr) return RAFT_IOERR;
    auto started = std::chrono::steady_clock::now();
    auto state = Ledger::encode_snapshot(p->view);
    if (!state) {
      p->error = state.reason();
      return RAFT_IOERR;
    }
    p->framed = frame_entry(*state);
    p->buf.base = p->framed.data();
    p->buf.len = p->framed.size();
    p->encode_ms = ms_since(started);
    *bufs = &p->buf;
    *n_bufs = 1;
    return 0;
  }

  // On the Raft thread, after fsm_snapshot succeeded, whether the rest did
  // or not: the buffers are ours (they point into the PendingSnapshot).
  static int fsm_snapshot_finalize(struct raft_fsm* fsm, struct raft_buffer* bufs[],
                                   unsigned* n_bufs) {
    auto* self = static_cast<Impl*>(fsm->data);
    std::unique_ptr<PendingSnapshot> p = std::move(self->pending_snapshot);
    *bufs = nullptr;
    *n_bufs = 0;
    if (!p) return 0;
    if (!p->error.empty()) {
      LogLine(LogLevel::warn) << "chipledger-node: raft " << self->options.id
                              << ": taking a snapshot: " << p->error;
      return 0;
    }
    if (p->framed.empty()) return 0;  // the work did not run (closing)
    LogLine(LogLevel::info) << "chipledger-node: raft " << self->options.id
                            << ": snapshot at entry " << p->entry << " (log size " << p->view.size
                            << "): " << p->framed.size() << " bytes; view " << p->view_ms
                            << " ms on the Raft thread, encoded in " << p->encode_ms << " ms, done "
                            << ms_since(p->started) << " ms after the view";
    std::lock_guard lock(self->status_mu);
    ++self->status.snapshots_taken;
    self->status.snapshot_taken_ms += static_cast<uint64_t>(ms_since(p->started));
    return 0;
  }

  // On success the buffer is ours to free.
  static int fsm_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
    auto* self = static_cast<Impl*>(fsm->data);
    if (self->failed) return RAFT_IOERR;
    auto started = std::chrono::steady_clock::now();
    auto state = unframe_entry(ByteView(static_cast<const uint8_t*>(buf->base), buf->len));
    Result<bool> restored = state ? self->ledger.restore(*state) : Result<bool>(state.status());
    if (!restored) {
      self->fail("restoring a Raft snapshot: " + restored.reason());
      return RAFT_IOERR;
    }
    size_t bytes = buf->len;
    raft_free(buf->base);
    if (*restored) {
      LogLine(LogLevel::info) << "chipledger-node: raft " << self->options.id
                              << ": restored a snapshot of " << bytes << " bytes (log size "
                              << self->ledger.size() << ") in " << ms_since(started) << " ms";
      if (self->after_apply) self->after_apply();
      std::lock_guard lock(self->status_mu);
      ++self->status.snapshots_restored;
      self->status.snapshot_restored_ms += static_cast<uint64_t>(ms_since(started));
    }
    return 0;
  }

  // --- proposing -------------------------------------------------------------

  static void on_applied(struct raft_apply* req, int status, void* result) {
    auto* e = static_cast<Entry*>(req->data);
    Impl* self = e->impl;
    if (auto it = self->proposed.find(req->index); it != self->proposed.end() && it->second == e) {
      self->proposed.erase(it);
    }
    if (status == 0 && result == e && e->applied) {
      self->schedule_commit_notice();
      e->waiter->complete(std::move(e->outcomes));
    } else if (status == 0) {
      e->waiter->complete(Status::unknown("the block's entry " + std::to_string(req->index) +
                                          " was committed but not applied here"));
    } else {
      e->waiter->complete(Status::unknown(
          raft_error(status, "replication", nullptr) +
          ": the block may still be committed under the next leader; ask for the transaction "
          "by its txid, or resubmit it (a transaction already in the ledger is answered with "
          "its index)"));
    }
    delete e;
  }

  // On the Raft thread.
  void propose(Entry* e, struct raft_buffer buf) {
    if (raft_state(&raft) != RAFT_LEADER) {
      raft_free(buf.base);
      e->waiter->complete(Status::unavailable("this node is not the Raft leader"));
      delete e;
      return;
    }
    e->req.data = e;
    e->base = buf.base;
    e->len = buf.len;
    int rv = raft_apply(&raft, &e->req, &buf, 1, on_applied);
    if (rv != 0) {
      raft_free(buf.base);
      // raft_apply appended nothing: nothing was done.
      e->waiter->complete(Status::unavailable(raft_error(rv, "raft_apply", raft_errmsg(&raft))));
      delete e;
      return;
    }
    proposed[e->req.index] = e;
    ++proposals;
  }

  void schedule_commit_notice() {
    if (!timer_open) return;
    proposals_at_notice = proposals;
    uv_timer_start(&notice_timer, on_commit_notice, kCommitNoticeMs, 0);
  }

  static void on_commit_notice(uv_timer_t* timer) {
    auto* self = static_cast<Impl*>(timer->data);
    if (raft_state(&self->raft) != RAFT_LEADER || !self->proposed.empty() ||
        self->proposals != self->proposals_at_notice) {
      return;  // the next block's entry carries the news
    }
    auto* b = new Barrier{};
    if (::raft_barrier(&self->raft, b, on_barrier) != 0) delete b;
  }

  // --- status ------------------------------------------------------------------

  static void on_barrier(struct raft_barrier* req, int) { delete req; }

  static void on_status_timer(uv_timer_t* timer) {
    static_cast<Impl*>(timer->data)->refresh_status();
  }

  void refresh_status() {
    RaftStatus s;
    s.role = role_of(raft_state(&raft));
    raft_id leader = 0;
    const char* address = nullptr;
    raft_leader(&raft, &leader, &address);
    s.leader_id = leader;
    s.term = raft.current_term;
    s.last_applied = raft_last_applied(&raft);
    s.commit_index = raft.commit_index;
    s.election_timeout_ms = options.election_timeout_ms;
    const auto now = std::chrono::steady_clock::now();
    if (leader != 0) leader_seen = now;
    if (leader != 0 && leader != last_leader) {
      last_leader = leader;
      ++leader_changes;
    }
    s.leader_changes = leader_changes;
    s.ms_without_leader = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - leader_seen).count());
    for (unsigned i = 0; i < raft.configuration.n; ++i) {
      const struct raft_server& srv = raft.configuration.servers[i];
      s.members.push_back(
          RaftMember{srv.id, srv.address ? srv.address : "", member_role_of(srv.role)});
    }
    if (s.role == RaftRole::leader && last_role != RaftRole::leader) {
      // A new leader commits entries of earlier terms only together with
      // one of its own term: a barrier gets every node applying them now.
      auto* b = new Barrier{};
      if (::raft_barrier(&raft, b, on_barrier) != 0) delete b;
    }
    last_role = s.role;
    if (transport) {
      RaftTlsTransport::Stats t = transport->stats();
      s.transport = {options.tls.has_value(), t.accepted, t.refused, t.connected, t.guard_closed};
    }
    std::lock_guard lock(status_mu);
    s.snapshots_taken = status.snapshots_taken;
    s.snapshots_restored = status.snapshots_restored;
    s.snapshot_taken_ms = status.snapshot_taken_ms;
    s.snapshot_restored_ms = status.snapshot_restored_ms;
    s.skewed_blocks = status.skewed_blocks;
    s.last_block_skew_ms = status.last_block_skew_ms;
    s.blocks_applied = status.blocks_applied;
    s.transactions_applied = status.transactions_applied;
    s.apply_us = status.apply_us;
    s.failure = status.failure;
    status = s;
  }

  // --- shutdown ----------------------------------------------------------------

  static void on_raft_closed(struct raft* r) {
    auto* self = static_cast<Impl*>(r->data);
    raft_uv_close(&self->io);
  }

  // On the Raft thread: closes every handle; uv_run returns afterwards.
  void close_all() {
    {
      std::lock_guard lock(task_mu);
      accepting = false;
    }
    on_wakeup(&wakeup);  // run what was posted: proposals fail (not leader)
    if (timer_open) {
      timer_open = false;
      uv_timer_stop(&status_timer);
      uv_close(reinterpret_cast<uv_handle_t*>(&status_timer), nullptr);
      uv_timer_stop(&notice_timer);
      uv_close(reinterpret_cast<uv_handle_t*>(&notice_timer), nullptr);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup), nullptr);
    raft_close(&raft, on_raft_closed);
    std::lock_guard lock(status_mu);
    status.role = RaftRole::unavailable;
    status.leader_id = 0;
  }
};

Result<std::unique_ptr<Replicator>> Replicator::start(Ledger& ledger, ReplicatorOptions options,
                                                      std::function<void()> after_apply) {
  using R = Result<std::unique_ptr<Replicator>>;
  if (options.id == 0) return R::error("the Raft id must be greater than 0");
  if (options.heartbeat_timeout_ms == 0 ||
      options.heartbeat_timeout_ms >= options.election_timeout_ms) {
    return R::error("the Raft heartbeat timeout must be positive and below the election timeout");
  }
  if (options.cluster.empty()) options.cluster.push_back(RaftPeer{options.id, options.address});
  bool listed = false;
  for (const auto& p : options.cluster) {
    if (p.id == options.id) {
      listed = true;
      if (p.address != options.address) {
        return R::error("the Raft cluster lists id " + std::to_string(p.id) + " at " + p.address +
                        ", but this node listens on " + options.address);
      }
    }
  }
  if (!listed) {
    return R::error("this node's Raft id " + std::to_string(options.id) + " is not in the cluster");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return R::error("cannot create the Raft folder " + options.dir + ": " + ec.message());

  // libuv writes to peers' sockets with write(2): a peer that went away
  // would kill the process with SIGPIPE unless it is ignored.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }

  auto impl = std::make_unique<Impl>(ledger, std::move(options), std::move(after_apply));
  Impl& m = *impl;
  const ReplicatorOptions& o = m.options;
  int rv = uv_loop_init(&m.loop);
  if (rv != 0) return R::error(std::string("uv_loop_init: ") + uv_strerror(rv));

  // Everything below runs on this thread until the Raft thread starts.
  auto fail_before_raft = [&](std::string reason) {
    uv_run(&m.loop, UV_RUN_DEFAULT);
    uv_loop_close(&m.loop);
    return R::error(std::move(reason));
  };
  m.wakeup.data = &m;
  rv = uv_async_init(&m.loop, &m.wakeup, Impl::on_wakeup);
  if (rv != 0) return fail_before_raft(std::string("uv_async_init: ") + uv_strerror(rv));
  m.accepting = true;
  auto close_wakeup = [&] {
    m.accepting = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&m.wakeup), nullptr);
  };
  RaftTlsOptions transport_options;
  transport_options.identity = o.tls;
  transport_options.limits = o.frame_limits;
  transport_options.log = [id = o.id](const std::string& line) {
    LogLine(LogLevel::info) << "chipledger-node: raft " << id << ": " << line;
  };
  // A peer may connect while it is in this node's current configuration
  // (the newest one, committed or not); a node not configured yet (joining)
  // takes any node the CA certified.
  transport_options.is_member = [&m](uint64_t peer) {
    const raft_configuration& c = m.raft.configuration;
    if (c.n == 0) return true;
    for (unsigned i = 0; i < c.n; ++i) {
      if (c.servers[i].id == peer) return true;
    }
    return false;
  };
  auto transport = RaftTlsTransport::create(&m.loop, std::move(transport_options));
  if (!transport) {
    close_wakeup();
    return fail_before_raft(transport.reason());
  }
  m.transport = std::move(*transport);
  rv = raft_uv_init(&m.io, &m.loop, o.dir.c_str(), m.transport->get());
  if (rv != 0) {
    std::string reason = raft_error(rv, "raft_uv_init", m.io.errmsg);
    m.transport->abandon();
    close_wakeup();
    return fail_before_raft(reason);
  }
  raft_uv_set_connect_retry_delay(&m.io, 200);
  m.fsm.data = &m;
  m.fsm.apply = Impl::fsm_apply;
  m.fsm.snapshot = Impl::fsm_snapshot;
  m.fsm.restore = Impl::fsm_restore;
  m.fsm.snapshot_finalize = Impl::fsm_snapshot_finalize;
  // Asynchronous snapshots (see PendingSnapshot) need an io of version 2
  // with async_work. libraft 0.15's raft_uv_init fills in async_work (its
  // libuv thread pool) but still says version 1, which raft_init refuses
  // with a version 3 FSM: the io is raised to the version its methods are.
  if (m.io.async_work != nullptr) {
    if (m.io.version < 2) m.io.version = 2;
    m.fsm.version = 3;
    m.fsm.snapshot_async = Impl::fsm_snapshot_async;
  } else {
    // Synchronous: fsm_snapshot encodes its view on the Raft thread.
    m.fsm.version = 2;
    m.fsm.snapshot_async = nullptr;
  }
  rv = raft_init(&m.raft, &m.io, &m.fsm, o.id, o.address.c_str());
  if (rv != 0) {
    std::string reason = raft_error(rv, "raft_init", raft_errmsg(&m.raft));
    raft_uv_close(&m.io);
    m.transport->abandon();
    close_wakeup();
    return fail_before_raft(reason);
  }
  m.raft.data = &m;
  raft_set_election_timeout(&m.raft, o.election_timeout_ms);
  raft_set_heartbeat_timeout(&m.raft, o.heartbeat_timeout_ms);
  raft_set_pre_vote(&m.raft, true);
  raft_set_snapshot_threshold(&m.raft, o.snapshot_threshold);
  raft_set_snapshot_trailing(&m.raft, o.snapshot_trailing);

  // A fresh folder starts from the configured cluster; a used one keeps
  // the configuration in its log.
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  rv = 0;
  for (const auto& p : o.cluster) {
    rv = raft_configuration_add(&conf, p.id, p.address.c_str(), RAFT_VOTER);
    if (rv != 0) break;
  }
  std::string problem;
  if (rv != 0) {
    problem = raft_error(rv, "the Raft cluster", nullptr);
  } else if (o.bootstrap) {
    rv = raft_bootstrap(&m.raft, &conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
      problem = raft_error(rv, "raft_bootstrap", raft_errmsg(&m.raft));
    }
  }
  raft_configuration_close(&conf);
  if (problem.empty()) {
    rv = raft_start(&m.raft);
    if (rv != 0) problem = raft_error(rv, "raft_start", raft_errmsg(&m.raft));
  }
  if (problem.empty() && m.failed) problem = "replaying the Raft log failed (see above)";
  // The ledger names the last entry it applied; a Raft log that ends before
  // it was replaced or lost, and new entries would be taken for old ones.
  const bool fresh_raft = raft_last_index(&m.raft) == 0 && m.raft.current_term == 0;
  const bool restored = !o.bootstrap && o.restored_entry != 0 &&
                        ledger.applied_entry() <= o.restored_entry &&
                        (o.restored_first_start || !fresh_raft);
  if (problem.empty() && ledger.applied_entry() > raft_last_index(&m.raft) && !restored) {
    problem = "the ledger has applied Raft entry " + std::to_string(ledger.applied_entry()) +
              " but the Raft log in " + o.dir + " ends at entry " +
              std::to_string(raft_last_index(&m.raft)) +
              ": the Raft folder was lost or replaced; refusing to start (a ledger restored "
              "from a backup joins its cluster with [raft] join = true, docs/backup.md)";
  }
  if (problem.empty()) {
    m.status_timer.data = &m;
    m.notice_timer.data = &m;
    rv = uv_timer_init(&m.loop, &m.status_timer);
    if (rv == 0) {
      rv = uv_timer_init(&m.loop, &m.notice_timer);
      if (rv != 0) uv_close(reinterpret_cast<uv_handle_t*>(&m.status_timer), nullptr);
    }
    if (rv == 0) {
      m.timer_open = true;
      rv = uv_timer_start(&m.status_timer, Impl::on_status_timer, 0, kStatusPeriodMs);
    }
    if (rv != 0) problem = std::string("uv_timer: ") + uv_strerror(rv);
  }
  if (!problem.empty()) {
    m.close_all();
    uv_run(&m.loop, UV_RUN_DEFAULT);
    uv_loop_close(&m.loop);
    return R::error(problem);
  }
  m.refresh_status();
  m.thread = std::thread([&m] {
    name_this_thread("raft");
    uv_run(&m.loop, UV_RUN_DEFAULT);
  });
  return std::unique_ptr<Replicator>(new Replicator(std::move(impl)));
}

Replicator::Replicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Status Replicator::reload_tls(const TlsIdentity& identity) {
  if (!impl_->transport || impl_->stopped) return Status::error("replication is not running");
  return impl_->transport->reload(identity);
}

Replicator::~Replicator() { stop(); }

void Replicator::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  Impl* m = impl_.get();
  // close_all runs on the Raft thread and itself stops posting.
  m->post([m] { m->close_all(); });
  if (m->thread.joinable()) m->thread.join();
  int rv = uv_loop_close(&m->loop);
  if (rv != 0) {
    LogLine(LogLevel::warn) << "chipledger-node: raft " << m->options.id
                            << ": the uv loop did not close: " << uv_strerror(rv);
  }
  m->transport.reset();
}

Result<std::vector<TxOutcome>> Replicator::apply(std::vector<PendingTx> txs,
                                                 uint64_t block_time_ms) {
  return propose(std::move(txs), block_time_ms)();
}

Replicator::Proposed Replicator::propose(std::vector<PendingTx> txs, uint64_t block_time_ms) {
  using R = Result<std::vector<TxOutcome>>;
  auto now = [](R r) -> Proposed {
    auto shared = std::make_shared<R>(std::move(r));
    return [shared] { return std::move(*shared); };
  };
  if (impl_->failed) {
    return now(R::error(StatusCode::unavailable,
                        "this node stopped applying the Raft log after a failure"));
  }
  if (impl_->options.room_to_write) {
    if (Status room = impl_->options.room_to_write(); !room) {
      return now(R::error(StatusCode::unavailable, room.reason() + "; nothing was proposed"));
    }
  }
  auto* e = new Impl::Entry{};
  e->impl = impl_.get();
  e->waiter = std::make_shared<Waiter>();
  e->proposal.block.time_ms = block_time_ms;
  e->proposal.block.txs.reserve(txs.size());
  e->proposal.checked.reserve(txs.size());
  for (auto& p : txs) {
    e->proposal.checked.push_back(p.signature_checked);
    e->proposal.block.txs.push_back(std::move(p.tx));
  }
  Bytes entry = encode_proposal(e->proposal);
  struct raft_buffer buf;
  buf.len = entry.size();
  buf.base = raft_malloc(buf.len);
  if (buf.base == nullptr) {
    delete e;
    return now(R::error(StatusCode::unavailable, "out of memory for a Raft entry"));
  }
  std::memcpy(buf.base, entry.data(), entry.size());
  std::shared_ptr<Waiter> waiter = e->waiter;
  Impl* m = impl_.get();
  if (!m->post([m, e, buf] { m->propose(e, buf); })) {
    raft_free(buf.base);
    delete e;
    return now(R::error(StatusCode::unavailable, "replication is stopped"));
  }
  const auto timeout = m->options.apply_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  return [waiter, deadline, timeout]() -> R {
    std::unique_lock lock(waiter->mu);
    if (!waiter->cv.wait_until(lock, deadline, [&] { return waiter->result.has_value(); })) {
      return R::error(StatusCode::unknown,
                      "no outcome from replication within " + std::to_string(timeout.count()) +
                          " ms; the block may still be committed: ask for the transaction by its "
                          "txid, or resubmit it (a transaction already in the ledger is answered "
                          "with its index)");
    }
    return std::move(*waiter->result);
  };
}

Status Replicator::change_membership(const MembershipChange& change,
                                     std::chrono::milliseconds timeout) {
  if (change.id == 0 && change.op != MembershipChange::Op::transfer) {
    return Status::error("a Raft id must be greater than 0");
  }
  auto* c = new Change{};
  c->req.data = c;
  c->transfer.data = c;
  c->waiter = std::make_shared<ChangeWaiter>();
  std::shared_ptr<ChangeWaiter> waiter = c->waiter;
  Impl* m = impl_.get();
  bool posted = m->post([m, c, change] {
    if (raft_state(&m->raft) != RAFT_LEADER) {
      c->waiter->complete(Status::error("this node is not the Raft leader"));
      delete c;
      return;
    }
    int rv = 0;
    switch (change.op) {
      case MembershipChange::Op::add:
        rv = raft_add(&m->raft, &c->req, change.id, change.address.c_str(), on_change);
        break;
      case MembershipChange::Op::assign:
        rv = raft_assign(&m->raft, &c->req, change.id, raft_role_code(change.role), on_change);
        break;
      case MembershipChange::Op::remove:
        rv = raft_remove(&m->raft, &c->req, change.id, on_change);
        break;
      case MembershipChange::Op::transfer:
        rv = raft_transfer(&m->raft, &c->transfer, change.id, on_transfer);
        break;
    }
    if (rv != 0) {
      c->waiter->complete(
          Status::error(raft_error(rv, "the membership change", raft_errmsg(&m->raft))));
      delete c;
    }
  });
  if (!posted) {
    delete c;
    return Status::error("replication is stopped");
  }
  std::unique_lock lock(waiter->mu);
  if (!waiter->cv.wait_for(lock, timeout, [&] { return waiter->result.has_value(); })) {
    return Status::error("the membership change was not committed within " +
                         std::to_string(timeout.count()) + " ms (it may still be)");
  }
  return *waiter->result;
}

RaftStatus Replicator::status() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->status;
}

uint64_t Replicator::id() const { return impl_->options.id; }

bool Replicator::failed() const { return impl_->failed; }

}  // namespace chipledger
