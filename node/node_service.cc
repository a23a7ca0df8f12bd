#include "node/node_service.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "ledger/rocks_store.h"
#include "net/url.h"
#include "node/api.h"
#include "node/backup_commands.h"
#include "node/backup_service.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "node/cosign_sender.h"
#include "node/data_folder_lock.h"
#include "node/explorer_assets.h"
#include "node/http_server.h"
#include "node/node_log.h"
#include "node/node_metrics.h"
#include "node/raft_membership_plan.h"
#include "node/raft_replicator.h"
#include "node/resign_timer.h"

namespace chipledger {
namespace {

int64_t unix_seconds() {
  return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
}

uint64_t system_clock_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// The node's certificate, checked against its own config: it must name
// this node and its Raft id (docs/tls.md).
Result<TlsIdentity> load_tls_identity(const NodeConfig& config) {
  auto tls = TlsIdentity::load({config.tls_ca_file, config.tls_cert_file, config.tls_key_file},
                               unix_seconds());
  if (!tls) return tls.status().context("[tls]");
  const CertificateInfo& info = tls->info;
  if (info.common_name != config.node_id || info.raft_id != config.raft_id) {
    return Result<TlsIdentity>::error(
        "[tls] " + config.tls_cert_file + " is the certificate of '" + info.common_name +
        "' (Raft id " + (info.raft_id ? std::to_string(*info.raft_id) : std::string("none")) +
        "), but this node is '" + config.node_id + "' (Raft id " + std::to_string(config.raft_id) +
        ")");
  }
  return tls;
}

// Descriptors kept for RocksDB, the Raft log and transport, and the
// node's own clients, beside the API's connections.
constexpr size_t kReservedDescriptors = 512;

// The API's connection cap that the process's descriptor limit allows:
// raises the soft limit to the hard one, and lowers the cap (saying so)
// when even that is too small, so a full server refuses with 503 instead
// of failing to accept.
size_t connection_cap(size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= wanted + kReservedDescriptors) return wanted;
  const size_t cap =
      lim.rlim_cur > kReservedDescriptors + 16 ? lim.rlim_cur - kReservedDescriptors : 16;
  LogLine(LogLevel::warn) << "chipledger-node: WARNING: [api] max_connections " << wanted
                          << " does not fit the descriptor limit " << lim.rlim_cur
                          << " (ulimit -n); serving at most " << cap << " connections";
  return cap;
}

}  // namespace

// Whether the data folder has its reserve free ([node] reserve_mb): io
// ("disk full") when not.
static Status room_to_write(const NodeConfig& config) {
  std::error_code ec;
  const auto space = std::filesystem::space(config.data_dir, ec);
  if (ec)
    return Status::io("cannot read the free space of " + config.data_dir + ": " + ec.message());
  if (space.available >= config.reserve_bytes) return Status::ok();
  return Status::io(
      "disk full: the data folder " + config.data_dir + " has " +
      std::to_string(space.available >> 20) +
      " MiB free, below [node] reserve_mb = " + std::to_string(config.reserve_bytes >> 20));
}

struct NodeService::Parts {
  // Before everything else, so it is released last: the data folder is
  // this process's until every part below is gone.
  std::optional<DataFolderLock> data_lock;
  // Then the metrics: every part below may record into it until it is gone.
  std::unique_ptr<NodeMetrics> metrics = std::make_unique<NodeMetrics>();
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<CheckpointPublisher> checkpoints;
  std::unique_ptr<Replicator> replicator;
  std::unique_ptr<BlockSequencer> sequencer;
  std::map<uint64_t, std::string> api_urls;  // Raft id -> API URL
  std::string own_api_url;
  std::unique_ptr<CosignSender> cosign;
  std::unique_ptr<ResignTimer> resign;
  // Ticks the Raft membership after the consortium (follow_membership).
  std::unique_ptr<ResignTimer> membership;
  std::string last_membership_problem;  // logged once, not every tick
  // A restored node joining its cluster (node/backup_commands.h): once its
  // Raft folder holds state (a term), the marker says so, and a fresh Raft
  // folder is from then on one that was lost. Only the membership tick
  // touches it.
  RestoreMarker unmarked_restore;
  void mark_restore_started() {
    if (unmarked_restore.applied_entry == 0 || replicator->status().term == 0) return;
    Status st = write_restore_marker(config.data_dir, unmarked_restore.applied_entry, true);
    if (!st) {
      LogLine(LogLevel::warn) << "chipledger-node: " << st.reason();
      return;
    }
    unmarked_restore = {};
  }
  std::unique_ptr<Api> api;
  std::unique_ptr<BackupService> backups;
  std::unique_ptr<HttpServer> server;
  std::function<void(const std::string&)> on_fatal;
  NodeConfig config;
  mutable std::mutex tls_mu;
  std::optional<CertificateInfo> tls_info;  // the certificate in use
  std::atomic<int64_t> last_warned{0};      // when the expiry warning was last logged
  CertificateHealth tls_health() const {
    std::lock_guard lock(tls_mu);
    return certificate_health(*tls_info, unix_seconds(), config.tls_renew_warning_days * 86400);
  }
  // On the leader: the next change that makes the Raft configuration follow
  // the consortium in force (node/raft_membership_plan.h), made and waited for.
  void follow_membership() {
    // Every node: cosignatures go to every node in force with an API URL.
    auto in_force = ledger->consortium();
    for (const auto& n : in_force->nodes()) {
      if (n.id != config.node_id && !n.api.empty()) cosign->add_peer(n.api);
    }
    RaftStatus st = replicator->status();
    if (st.role != RaftRole::leader) return;
    auto change = next_membership_change(*ledger->consortium(), st.members, config.raft_id);
    if (!change) {
      last_membership_problem.clear();
      return;
    }
    static constexpr const char* kOps[] = {"adding", "making a voter of", "removing",
                                           "handing the leadership on before removing"};
    std::string what =
        std::string(kOps[static_cast<int>(change->op)]) + " Raft server " +
        std::to_string(change->op == MembershipChange::Op::transfer ? config.raft_id : change->id);
    Status done = replicator->change_membership(*change, std::chrono::seconds(10));
    if (done) {
      LogLine(LogLevel::info) << "chipledger-node " << config.node_id << ": governance: " << what
                              << ": done";
      last_membership_problem.clear();
    } else if (done.reason() != last_membership_problem) {
      last_membership_problem = done.reason();
      LogLine(LogLevel::warn) << "chipledger-node " << config.node_id << ": governance: " << what
                              << ": " << done.reason() << " (tried again)";
    }
  }
  // At start and then at most once a day: the warning, in the log.
  void warn_if_expiring() {
    if (!tls_info) return;
    CertificateHealth h = tls_health();
    int64_t now = unix_seconds();
    if (!h.warning || now - last_warned < 86400) return;
    last_warned = now;
    LogLine(LogLevel::warn) << "chipledger-node " << config.node_id << ": WARNING: " << h.message;
  }
  // The data folder's size on disk, walked at most every 10 s however often
  // /metrics is asked (anyone may ask).
  mutable std::mutex data_bytes_mu;
  mutable uint64_t data_bytes_cached = 0;
  mutable std::optional<std::chrono::steady_clock::time_point> data_bytes_at;
  uint64_t data_bytes() const {
    std::lock_guard lock(data_bytes_mu);
    const auto now = std::chrono::steady_clock::now();
    if (data_bytes_at && now - *data_bytes_at < std::chrono::seconds(10)) return data_bytes_cached;
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(config.data_dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code size_ec;
      if (it->is_regular_file(size_ec)) {
        auto bytes = it->file_size(size_ec);
        if (!size_ec) total += bytes;
      }
    }
    data_bytes_cached = total;
    data_bytes_at = now;
    return total;
  }
  // GET /metrics (docs/metrics.md): the gauges read now.
  HttpResponse metrics_answer() const {
    MetricsSample m;
    if (replicator) {
      RaftStatus s = replicator->status();
      m.raft_role = std::string(raft_role_name(s.role));
      m.raft_term = s.term;
      m.raft_commit_index = s.commit_index;
      m.raft_applied_index = s.last_applied;
      m.raft_leader_changes = s.leader_changes;
      m.snapshots_taken = s.snapshots_taken;
      m.snapshots_restored = s.snapshots_restored;
      m.snapshot_taken_ms = s.snapshot_taken_ms;
      m.snapshot_restored_ms = s.snapshot_restored_ms;
    }
    m.log_size = ledger->size();
    ServedCheckpoint cp = checkpoints->served();
    m.checkpoint_size = cp.size;
    m.checkpoint_cosigners = cp.signers.size();
    m.checkpoint_quorum = ledger->consortium()->quorum();
    m.checkpoint_age_seconds =
        std::max(0.0, static_cast<double>(unix_seconds()) - static_cast<double>(cp.fresh_as_of));
    m.db_bytes = data_bytes();
    m.disk_free_bytes = disk_health().free_bytes;
    if (server) {
      ConnectionStats c = server->stats();
      m.open_connections = c.open;
      m.connections_refused = c.refused;
      m.connections_timed_out = c.timed_out;
    }
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics->render(m);
    return r;
  }
  // The data folder's free space against [node] min_free_mb.
  DiskHealth disk_health() const {
    DiskHealth d;
    d.min_free_bytes = config.min_free_bytes;
    d.reserve_bytes = config.reserve_bytes;
    std::error_code ec;
    const auto space = std::filesystem::space(config.data_dir, ec);
    if (ec) {
      d.low = d.full = true;
      d.message = "cannot read the free space of " + config.data_dir + ": " + ec.message();
      return d;
    }
    d.free_bytes = space.available;
    if (d.free_bytes < d.reserve_bytes) {
      d.low = d.full = true;
      d.message = room_to_write(config).reason() +
                  ": this node writes nothing (submissions get 503) until space is freed";
    } else if (d.free_bytes < d.min_free_bytes) {
      d.low = true;
      d.message =
          "the data folder " + config.data_dir + " has " + std::to_string(d.free_bytes >> 20) +
          " MiB free, below [node] min_free_mb = " + std::to_string(d.min_free_bytes >> 20) +
          ": when it is full the node stops writing (fail-stop) until space is freed";
    }
    return d;
  }
  std::atomic<int64_t> disk_warned{0};
  // At most once a minute: the low-space warning, in the log.
  void warn_if_disk_low() {
    const DiskHealth d = disk_health();
    const int64_t now = unix_seconds();
    if (!d.low || now - disk_warned < 60) return;
    disk_warned = now;
    LogLine(LogLevel::warn) << "chipledger-node " << config.node_id << ": WARNING: " << d.message;
  }
};

// The node is one of the consortium in force (the trust file's, changed by
// governance since) and holds its key. A node joining a running cluster
// may not be one yet: a governance vote adds it, and its signatures count
// from then on (docs/governance.md, section 6).
static Status check_node_identity(const NodeConfig& config, const Ledger& ledger,
                                  const PublicKey& key) {
  auto in_force = ledger.consortium();
  const NodeInfo* me = in_force->node(config.node_id);
  // The Raft id is the consortium's: the leader adds, promotes and removes
  // servers by it (node/raft_membership_plan.h).
  for (const auto& [id, raft_id] : in_force->removed_nodes()) {
    if (raft_id != 0 && raft_id == config.raft_id && id != config.node_id) {
      return Status::error("[raft] id " + std::to_string(config.raft_id) + " was node " + id +
                           "'s, removed by a governance vote; it is never used again");
    }
  }
  for (const auto& n : in_force->nodes()) {
    if (n.raft_id != 0 && n.raft_id == config.raft_id && n.id != config.node_id) {
      return Status::error("[raft] id " + std::to_string(config.raft_id) + " is node " + n.id +
                           "'s in the consortium in force, not " + config.node_id + "'s");
    }
  }
  if (me && me->raft_id != 0 && me->raft_id != config.raft_id) {
    return Status::error("[raft] id is " + std::to_string(config.raft_id) +
                         ", but the consortium in force gives node " + config.node_id +
                         " the Raft id " + std::to_string(me->raft_id));
  }
  if (!me) {
    if (in_force->removed_nodes().count(config.node_id)) {
      return Status::error("node id '" + config.node_id +
                           "' was removed by a governance vote; it is never used again");
    }
    if (config.raft_join) {
      LogLine(LogLevel::info)
          << "chipledger-node " << config.node_id
          << ": not a node of the consortium in force yet: the leader adds it to Raft "
             "and its checkpoint signatures count once a governance vote adds it "
             "(chipledger propose, change add-node)";
      return Status::ok();
    }
    return Status::error("node id '" + config.node_id + "' is not listed in " +
                         config.consortium_file + " (nor added by a governance vote)");
  }
  if (key.der() != me->key.der()) {
    bool retired = in_force->retired_node_keys().count(key.key_id()) != 0;
    return Status::error(
        "the node key " + config.key_file + " is not the key the consortium in force lists for " +
        config.node_id +
        (retired ? " (it was replaced by governance: start with the new key)" : ""));
  }
  return Status::ok();
}

Result<std::unique_ptr<NodeService>> NodeService::open(
    const NodeConfig& config, std::function<void(const std::string& reason)> on_fatal) {
  auto consortium = Consortium::load_file(config.consortium_file);
  if (!consortium) return consortium.status();
  auto key = PrivateKey::load_file(config.key_file);
  if (!key) return key.status().context("node key");
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  // A full disk: refuse to start, having written nothing (RocksDB's open
  // writes a new log and manifest).
  if (Status room = room_to_write(config); !room) {
    return Result<std::unique_ptr<NodeService>>(
        room.context("cannot start; free space in the data folder, then start again"));
  }
  // Before anything is written: one node (or restore) per data folder.
  auto data_lock = DataFolderLock::acquire(config.data_dir, "chipledger-node " + config.node_id);
  if (!data_lock) return data_lock.status().context("cannot start");
  auto store =
      RocksStore::open(config.data_dir + "/ledger", RocksStore::Options{config.reserve_bytes});
  if (!store) return store.status();
  auto ledger = Ledger::open(std::move(*store), std::move(*consortium));
  if (!ledger) return ledger.status();
  CL_TRY(check_node_identity(config, **ledger, key->public_key()));
  // A staging folder left by a backup that was not copied out only pins
  // old files (docs/backup.md).
  CL_TRY(BackupService::remove_staging(config.data_dir));

  auto parts = std::make_unique<Parts>();
  parts->data_lock.emplace(std::move(*data_lock));
  parts->ledger = std::move(*ledger);
  parts->on_fatal = std::move(on_fatal);
  parts->backups = std::make_unique<BackupService>(
      *parts->ledger, key->public_key(),
      BackupService::Options{config.data_dir, config.node_id, config.raft_id, system_clock_ms});
  Parts* p = parts.get();
  parts->checkpoints = std::make_unique<CheckpointPublisher>(
      *parts->ledger, config.node_id, std::move(*key),
      [p, id = config.node_id](const std::string& reason) {
        LogLine(LogLevel::error) << "chipledger-node " << id << ": FATAL: " << reason
                                 << "; this node stops (fail-stop) and signs nothing more";
        if (p->on_fatal) p->on_fatal(reason);
      },
      CheckpointPublisher::Options{CheckpointSigner::system_ms,
                                   config.checkpoint_resign_interval_seconds});
  CL_TRY(parts->checkpoints->refresh());
  CheckpointPublisher* cps = parts->checkpoints.get();

  std::optional<TlsIdentity> identity;
  TlsContextPtr peer_tls;  // this node's client context for other nodes' APIs
  if (config.has_tls()) {
    auto tls = load_tls_identity(config);
    if (!tls) return tls.status();
    identity = std::move(*tls);
    auto client = make_client_context(identity->ca_pem, &*identity);
    if (!client) return client.status().context("[tls] client context");
    peer_tls = std::move(*client);
  }

  // Bind first: a port of 0 becomes known before anyone asks for the URL.
  HttpServerOptions http{config.listen_address, config.listen_port, config.max_body_bytes,
                         config.http_threads};
  http.thread_nice = config.http_thread_nice;
  http.max_connections = connection_cap(config.max_connections);
  http.max_connections_per_address =
      std::min(config.max_connections_per_address, http.max_connections);
  http.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  http.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  http.body_timeout = std::chrono::seconds(config.body_timeout_seconds);
  if (config.api_over_tls()) {
    // Asks for a client certificate (nodes present theirs) without
    // requiring one: clients and public reads need none (docs/tls.md).
    auto server_tls = make_server_context(*identity, ClientCertificates::request);
    if (!server_tls) return server_tls.status().context("[tls] API");
    http.tls = std::move(*server_tls);
  }
  auto server = HttpServer::bind(http, [p](HttpRequest req, Responder respond) {
    std::string method = req.method, target = req.target;
    Responder counted = [p, method = std::move(method), target = std::move(target),
                         respond = std::move(respond)](HttpResponse r) {
      p->metrics->http_request(method, target, r.status);
      respond(std::move(r));
    };
    if (metrics_route(req.target) == "/metrics") {
      if (req.method != "GET") return counted(json_error(405, "method not allowed for /metrics"));
      return counted(p->metrics_answer());
    }
    if (metrics_route(req.target) == "/v1/admin/backup") return counted(p->backups->handle(req));
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (auto page = explorer_answer(req.method, path)) return counted(std::move(*page));
    p->api->handle(std::move(req), std::move(counted));
  });
  if (!server) return server.status();
  parts->server = std::move(*server);
  parts->own_api_url =
      node_url(config.api_over_tls(), config.listen_address, parts->server->port());

  // Replication: every block goes through the Raft log, also on a single
  // node (a one-voter cluster). Every node re-signs its checkpoint after
  // applying a block, before the leader answers its submitters.
  ReplicatorOptions raft;
  raft.id = config.raft_id;
  raft.address = config.raft_listen;
  raft.dir = config.data_dir + "/raft";
  raft.room_to_write = [config] { return room_to_write(config); };
  raft.election_timeout_ms = static_cast<unsigned>(config.raft_election_timeout_ms);
  raft.heartbeat_timeout_ms = static_cast<unsigned>(config.raft_heartbeat_timeout_ms);
  raft.snapshot_threshold = static_cast<unsigned>(config.raft_snapshot_threshold);
  raft.snapshot_trailing = static_cast<unsigned>(config.raft_snapshot_trailing);
  raft.bootstrap = !config.raft_join;
  RestoreMarker restored;
  if (config.raft_join) {
    auto marker = read_restore_marker(config.data_dir);
    if (!marker) return marker.status();
    restored = *marker;
    raft.restored_entry = restored.applied_entry;
    raft.restored_first_start = !restored.started;
  }
  if (!config.has_tls() && (config.raft_peers.size() > 1 || config.raft_join)) {
    return Status::error(
        "[tls] is missing: Raft between nodes runs only over mutual TLS (docs/tls.md)");
  }
  if (identity) {
    parts->tls_info = identity->info;
    raft.tls = *identity;
  }
  parts->config = config;
  std::vector<std::string> cosigners;  // the other nodes' APIs
  for (const auto& peer : config.raft_peers) {
    raft.cluster.push_back(RaftPeer{peer.id, peer.address});
    parts->api_urls[peer.id] = peer.api_url;
    if (peer.id != config.raft_id) cosigners.push_back(peer.api_url);
  }
  CosignSender::Options cosign_options;
  cosign_options.tls = peer_tls;
  parts->cosign = std::make_unique<CosignSender>(*cps, std::move(cosigners), cosign_options);
  parts->api_urls.emplace(config.raft_id, parts->own_api_url);  // unless the peers name it
  parts->resign = std::make_unique<ResignTimer>(
      [cps, p] {
        auto r = cps->resign_if_due();
        if (!r)
          LogLine(LogLevel::warn) << "chipledger-node: re-signing the checkpoint: " << r.reason();
        p->warn_if_expiring();
        p->warn_if_disk_low();
      },
      ResignTimer::period_for(config.checkpoint_resign_interval_seconds));
  raft.on_block_applied = [p](const ReplicatorOptions::BlockApplied& b) {
    p->metrics->block_applied(b.transactions, b.serials, b.took);
  };
  auto replicator = Replicator::start(*parts->ledger, raft, [cps] { (void)cps->refresh(); });
  if (!replicator) return replicator.status().context("replication");
  if (restored.applied_entry != 0 && !restored.started) parts->unmarked_restore = restored;
  parts->replicator = std::move(*replicator);
  Replicator* rep = parts->replicator.get();
  parts->sequencer = std::make_unique<BlockSequencer>(
      [rep](std::vector<PendingTx> txs, uint64_t time_ms) {
        return rep->propose(std::move(txs), time_ms);
      },
      system_clock_ms,
      BlockSequencer::Options{std::chrono::milliseconds(config.block_max_wait_ms),
                              config.block_max_transactions, config.block_max_in_flight},
      nullptr);
  parts->api = std::make_unique<Api>(
      *parts->ledger, *parts->sequencer, *parts->checkpoints, config.node_id, [p] {
        RaftStatus s = p->replicator->status();
        ReplicaView v;
        v.raft_id = p->replicator->id();
        v.role = std::string(raft_role_name(s.role));
        v.leader = s.role == RaftRole::leader;
        v.term = s.term;
        v.last_applied = s.last_applied;
        v.commit_index = s.commit_index;
        v.ms_without_leader = s.ms_without_leader;
        v.election_timeout_ms = s.election_timeout_ms;
        v.failure = s.failure;
        v.snapshots_taken = s.snapshots_taken;
        v.snapshots_restored = s.snapshots_restored;
        v.skewed_blocks = s.skewed_blocks;
        v.last_block_skew_ms = s.last_block_skew_ms;
        v.apply = {s.blocks_applied, s.transactions_applied, s.apply_us};
        v.transport = {s.transport.tls, s.transport.accepted, s.transport.refused,
                       s.transport.connected, s.transport.guard_closed};
        for (const auto& mem : s.members) {
          v.members.push_back(ReplicaView::Member{mem.id, mem.address,
                                                  std::string(raft_member_role_name(mem.role))});
        }
        if (auto it = p->api_urls.find(s.leader_id); s.leader_id != 0 && it != p->api_urls.end()) {
          v.leader_api_url = it->second;
        }
        return v;
      });
  parts->api->set_max_pending(config.max_pending_transactions, config.pending_per_address());
  parts->api->set_max_answer_bytes(config.max_answer_bytes);
  parts->api->set_connection_stats([p] { return p->server->stats(); });
  parts->api->set_disk_health([p] { return p->disk_health(); });
  parts->api->set_metrics(parts->metrics.get());
  parts->warn_if_disk_low();
  parts->api->require_node_certificates(config.api_over_tls());
  if (parts->tls_info) {
    parts->api->set_certificate_health(
        [p]() -> std::optional<CertificateHealth> { return p->tls_health(); });
    parts->warn_if_expiring();
  }
  // The Raft membership follows governance votes (docs/governance.md, 6);
  // a timer thread of its own, since a change waits to be committed.
  parts->membership = std::make_unique<ResignTimer>(
      [p] {
        p->follow_membership();
        p->mark_restore_started();
      },
      std::chrono::milliseconds(250));
  return std::unique_ptr<NodeService>(new NodeService(std::move(parts)));
}

NodeService::NodeService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

NodeService::~NodeService() { stop(); }

Status NodeService::start() {
  parts_->sequencer->start();
  parts_->server->start();
  parts_->cosign->start();
  parts_->resign->start();
  parts_->membership->start();
  return Status::ok();
}

void NodeService::stop() {
  if (!parts_) return;
  parts_->membership->stop();
  parts_->resign->stop();
  parts_->cosign->stop();
  parts_->sequencer->stop();  // answers every queued submission first
  parts_->replicator->stop();
  parts_->checkpoints->close();  // answers waiting GET /v1/checkpoint while the server is there
  parts_->api->close();          // and waiting verdicts
  parts_->server->stop();
}

uint16_t NodeService::port() const { return parts_->server->port(); }

Status NodeService::reload_tls() {
  Parts& p = *parts_;
  if (!p.config.has_tls()) return Status::error("this node has no [tls] to reload");
  auto tls = load_tls_identity(p.config);
  if (!tls) return tls.status();
  // Every context is made before any is swapped: a failure changes nothing.
  auto client = make_client_context(tls->ca_pem, &*tls);
  if (!client) return client.status().context("[tls] peers");
  TlsContextPtr server;
  if (p.config.api_over_tls()) {
    auto made = make_server_context(*tls, ClientCertificates::request);
    if (!made) return made.status().context("[tls] API");
    server = std::move(*made);
  }
  CL_TRY(p.replicator->reload_tls(*tls));
  if (server) CL_TRY(p.server->set_tls(std::move(server)));
  p.cosign->set_tls(std::move(*client));
  {
    std::lock_guard lock(p.tls_mu);
    p.tls_info = tls->info;
  }
  CertificateHealth h = p.tls_health();
  LogLine(LogLevel::info) << "chipledger-node " << p.config.node_id
                          << ": reloaded the TLS certificate (" << h.subject << ", "
                          << h.seconds_left / 86400 << " days left)";
  p.last_warned = 0;  // a warning about the new one is due now, if any
  p.warn_if_expiring();
  return Status::ok();
}

bool NodeService::failed() const {
  return parts_->sequencer->failed() || parts_->replicator->failed() ||
         parts_->checkpoints->failed();
}

}  // namespace chipledger
