// A node's configuration, read from TOML (docs/node-config.md). Relative
// paths are resolved against the config file's folder.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/result.h"

namespace chipledger {

// One member of the Raft cluster ([[raft.peers]]).
struct RaftPeerConfig {
  uint64_t id = 0;
  std::string address;  // Raft TCP address, IPv4 "a.b.c.d:port"
  std::string api_url;  // its API, e.g. "https://127.0.0.1:7800" (cosignatures go there; followers
                        // send clients there)
};

struct NodeConfig {
  std::string node_id;
  std::string key_file;         // the node's Ed25519 checkpoint key (PEM)
  std::string data_dir;         // RocksDB lives in data_dir/ledger
  std::string consortium_file;  // the trust file
  // [node] min_free_mb: below this much free space in data_dir, a warning
  // (log and /v1/health) that the node will fail-stop when the disk is full.
  uint64_t min_free_bytes = 1024ull << 20;
  // [node] reserve_mb: below this much free space the node writes nothing
  // more: it refuses submissions (503), stops applying (fail-stop, health
  // "stopped") and refuses to start, until space is freed (docs/storage.md).
  uint64_t reserve_bytes = 256ull << 20;
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 7800;
  size_t max_body_bytes = 16 << 20;
  // Submissions admitted and not yet answered, at most (docs/api.md,
  // "Admission"); over it: 503 with Retry-After.
  size_t max_pending_transactions = 20000;
  // Per client address, at most this many of them (0: a quarter of
  // max_pending_transactions); beyond: 429 with Retry-After.
  size_t max_pending_per_address = 0;
  size_t pending_per_address() const {
    return max_pending_per_address ? max_pending_per_address
                                   : std::max<size_t>(1, max_pending_transactions / 4);
  }
  // Connections and deadlines (docs/api.md, "Limits").
  size_t max_connections = 1024;
  size_t max_connections_per_address = 128;
  int64_t idle_timeout_seconds = 30;    // keep-alive: waiting for a request
  int64_t header_timeout_seconds = 10;  // TLS handshake and request header
  int64_t body_timeout_seconds = 60;    // the whole request body
  // An evidence answer (histories) larger than this is refused with 413.
  size_t max_answer_bytes = 64u << 20;
  int http_threads = 2;
  // Added to the HTTP threads' nice value: they check signatures on
  // arrival and must not starve the thread that applies blocks.
  int http_thread_nice = 5;
  // [log]: level (debug, info, warn, error) and format (text, json).
  std::string log_level = "info";
  std::string log_format = "text";
  // [api] plain_http: serve the API over plain HTTP (development only;
  // docs/tls.md). Without it the API serves HTTPS with the [tls]
  // certificate; a node without [tls] must set it.
  bool plain_http = false;
  bool api_over_tls() const { return has_tls() && !plain_http; }
  int block_max_wait_ms = 2;  // how long the block builder gathers
  size_t block_max_transactions = 2000;
  // Blocks proposed and not yet answered (1..16): the next block's Raft
  // write overlaps the apply of the one before it.
  size_t block_max_in_flight = 1;
  // [checkpoint]: how often the node re-signs its current checkpoint while
  // the ledger is idle (docs/checkpoint.md, "Freshness").
  uint64_t checkpoint_resign_interval_seconds = 60;
  // [tls]: the consortium CA, this node's certificate and its key
  // (docs/tls.md). Raft between nodes runs only over mutual TLS with them:
  // required for a cluster of several nodes. Empty: no TLS.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool has_tls() const { return !tls_cert_file.empty(); }
  // Warn (log and /v1/health) when the certificate has fewer days left.
  int64_t tls_renew_warning_days = 30;
  // [raft]: replication. Without the section: a one-node cluster.
  uint64_t raft_id = 1;
  std::string raft_listen = "127.0.0.1:0";  // port 0 only for a one-node cluster
  std::vector<RaftPeerConfig> raft_peers;   // the initial cluster; empty: this node alone
  int raft_election_timeout_ms = 1000;
  int raft_heartbeat_timeout_ms = 100;
  int64_t raft_snapshot_threshold = 8192;  // entries between state snapshots
  int64_t raft_snapshot_trailing = 4096;   // entries the log keeps before a snapshot
  // true: this node joins a running cluster (no bootstrap from the peers
  // list; the leader adds it: `chipledger-node admin add`).
  bool raft_join = false;

  static Result<NodeConfig> load_file(const std::string& path);
  std::string to_toml() const;
};

// "HOST:PORT" (port 0-65535, 0: any free one) as a listen setting gives it.
Status parse_listen(const std::string& listen, std::string& address, uint16_t& port);

}  // namespace chipledger
