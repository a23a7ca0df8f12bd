// Integration-test fixture for a local cluster of real chipledger-node
// processes: `chipledger-node init --nodes N --port P` in a fresh temp
// folder (TempDir from node_process.h: kept and printed when the test
// fails), on a base port whose API and Raft ports were free a moment ago.
// Each node runs as a child with stdout and stderr appended to
// DIR/node-I.log; start() returns once it answers GET /v1/health, stop()
// sends SIGTERM and waits, kill9() sends SIGKILL and waits. Every wait has a
// deadline; failures throw std::runtime_error with the node's log tail.
// Nodes are numbered from 0 here (node-1.toml is node 0).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "net/http_client.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {

class LocalCluster {
 public:
  explicit LocalCluster(unsigned nodes = 3);
  ~LocalCluster();  // SIGKILLs what still runs
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  size_t size() const { return urls_.size(); }
  // Sets `key = value` in every node's [raft] section (before start);
  // the key must be there already (init writes every [raft] key).
  void set_raft_option(const std::string& key, int64_t value);
  // Makes the last node a newcomer (before start): out of the genesis
  // trust file (whose quorum becomes `quorum`) and of the other nodes'
  // [raft] peers, and `join = true` in its own config; it joins only once
  // a governance vote adds it. Returns its trust-file entry (for the
  // add-node change).
  nlohmann::json hold_back_last_node(uint32_t quorum);
  // The CLI as `chipledger --node VIA --trust DIR/consortium.json --state
  // DIR/client-state.json args...` (VIA: one node's URL or several, comma
  // separated), and a member's `--as M --key DIR/keys/M.pem`.
  ProcessResult cli(const Argv& args, const std::string& via,
                    std::chrono::milliseconds timeout = 120s) const;
  Argv as(const std::string& member) const { return {"--as", member, "--key", key_file(member)}; }
  // DIR/node-I.toml (node i, from 0).
  std::string config_file(size_t i) const;
  void start(size_t i, std::chrono::milliseconds deadline = 60s);
  void start_all(std::chrono::milliseconds deadline = 60s);
  int stop(size_t i, std::chrono::milliseconds deadline = 60s);  // exit code
  void kill9(size_t i);
  // Waits until node i exits on its own; its exit code, or nullopt at the
  // deadline (it still runs).
  std::optional<int> wait_exit(size_t i, std::chrono::milliseconds deadline);
  bool running(size_t i) const { return pids_[i] > 0; }
  pid_t pid(size_t i) const { return pids_[i]; }  // -1 when not running

  const std::string& url(size_t i) const { return urls_[i]; }  // https://127.0.0.1:P
  // A client of node i (its certificate checked against the cluster's CA);
  // with `as_node` presenting that node's certificate (mutual TLS).
  Result<std::unique_ptr<HttpClient>> connect(size_t i, std::chrono::milliseconds timeout,
                                              const std::string& as_node = "") const;
  const std::string& dir() const { return dir_.path(); }
  std::string key_file(const std::string& member) const;  // DIR/keys/M.pem
  std::string trust_file() const;                         // DIR/consortium.json
  std::string log(size_t i) const;                        // DIR/node-I.log
  std::string ledger_id() const { return ledger_id_; }

  // GET target on node i; nullopt when it gives no 200 JSON answer.
  std::optional<nlohmann::json> get_json(size_t i, const std::string& target) const;
  // The running node that is leader, when every running node names it.
  std::optional<size_t> leader() const;
  // Waits for such a leader (other than `not_this`); throws at the deadline.
  size_t wait_leader(std::chrono::milliseconds deadline = 60s,
                     std::optional<size_t> not_this = std::nullopt) const;

 private:
  [[noreturn]] void fail(size_t i, const std::string& what);

  TempDir dir_{"chipledger-cluster-"};
  std::vector<std::string> urls_;
  std::vector<pid_t> pids_;
  std::string ledger_id_;
};

// The log size and checkpoint root every running node agrees on: each
// serves GET /v1/checkpoint with a quorum of valid signatures at its own
// log size, and all sizes and roots are equal; nullopt (and why) if not.
std::optional<std::pair<uint64_t, Hash>> agreed(const LocalCluster& c, const Consortium& trust,
                                                std::string* why);
// Waits for agreed(); throws at the deadline saying what differs.
std::pair<uint64_t, Hash> wait_agreed(const LocalCluster& c, const Consortium& trust,
                                      std::chrono::milliseconds limit);

}  // namespace chipledger::integ
