// Real chipledger-node processes for the benchmark: a fresh temp folder with
// a dev consortium (`chipledger-node init --dir D --port 0`, or with
// `--nodes N --port P` a local cluster on loopback ports that were free a
// moment ago), every node started on it with its output in D/node.log (or
// D/node-I.log), stopped with SIGTERM. The benchmark drives them only
// through their HTTP API.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "net/http_client.h"
#include "net/tls_context.h"

namespace chipledger::bench {

class NodeRunner {
 public:
  // Makes a fresh folder under the temp folder and writes a dev consortium
  // of `nodes` nodes into it. `keep`: leave the folder behind (its path is
  // printed). `tls`: the API answers HTTPS with init's dev certificates
  // (else plain HTTP, `init --plain-http`).
  static Result<std::unique_ptr<NodeRunner>> init(const std::string& node_bin, bool keep,
                                                  unsigned nodes = 1, bool tls = false);
  ~NodeRunner();  // stop(), then removes the folder unless kept
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  // Starts every node and returns once each answers GET /v1/health and,
  // for a cluster, all of them name the same Raft leader.
  Status start(std::chrono::seconds deadline = std::chrono::seconds(60));
  // SIGTERM to each node, then waits for the exits; returns the first
  // non-zero exit code, 0 when all exited cleanly (-1: none was running).
  int stop();

  const std::string& dir() const { return dir_; }  // keys/, consortium.json, node*.toml
  const std::string& url() const { return nodes_[leader_].url; }  // the leader's API
  pid_t pid() const { return nodes_[leader_].pid; }
  std::vector<pid_t> follower_pids() const;
  size_t size() const { return nodes_.size(); }
  std::string log_tail(size_t bytes = 4000) const;  // every node's
  // HTTPS: the client context that checks the nodes against DIR/tls/ca.pem
  // (null over plain HTTP).
  const TlsContextPtr& tls() const { return tls_; }

 private:
  struct Node {
    std::string config;
    std::string log;
    std::string url;  // known from the start for a cluster, from the log for one node
    pid_t pid = -1;
  };
  NodeRunner(std::string node_bin, std::string root, bool keep)
      : node_bin_(std::move(node_bin)), root_(root), dir_(root + "/net"), keep_(keep) {}
  Status start_one(Node& n, std::chrono::steady_clock::time_point until);
  Status wait_leader(std::chrono::steady_clock::time_point until);
  std::string node_bin_;
  std::string root_;  // the temp folder this runner made (and removes)
  std::string dir_;   // root_/net: what `init` writes
  bool keep_ = false;
  std::vector<Node> nodes_;
  size_t leader_ = 0;
  TlsContextPtr tls_;
  Result<std::unique_ptr<HttpClient>> connect(const std::string& url) const;
};

// The client context for a node folder's https:// URL (DIR/tls/ca.pem), or
// null for an http:// one.
Result<TlsContextPtr> client_tls_for(const std::string& url, const std::string& dir);

// A base port P with P..P+n-1 (APIs) and P+100..P+100+n-1 (Raft) free a
// moment ago, as `chipledger-node init --nodes N --port P` lays them out
// (the integration tests' clusters use it too).
Result<int> free_base_port(unsigned n);

// The chipledger-node binary beside this program's own executable.
std::string default_node_bin();

}  // namespace chipledger::bench
