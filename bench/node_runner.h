// A real chipledger-node process for the benchmark: a fresh temp folder with
// a dev consortium (`chipledger-node init --dir D --port 0`), the node
// started on it with its output in D/node.log, stopped with SIGTERM. The
// benchmark drives it only through its HTTP API.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "crypto/result.h"

namespace chipledger::bench {

class NodeRunner {
 public:
  // Makes a fresh folder under the temp folder and writes a dev consortium
  // into it. `keep`: leave the folder behind (its path is printed).
  static Result<std::unique_ptr<NodeRunner>> init(const std::string& node_bin, bool keep);
  ~NodeRunner();  // stop(), then removes the folder unless kept
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  // Starts the node and returns once it printed its URL and answers
  // GET /v1/health.
  Status start(std::chrono::seconds deadline = std::chrono::seconds(60));
  // SIGTERM, then waits for the exit; returns its exit code (-1: not running).
  int stop();

  const std::string& dir() const { return dir_; }  // keys/, consortium.json, node.toml
  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }
  std::string log_tail(size_t bytes = 4000) const;

 private:
  NodeRunner(std::string node_bin, std::string root, bool keep)
      : node_bin_(std::move(node_bin)), root_(root), dir_(root + "/net"), keep_(keep) {}
  std::string node_bin_;
  std::string root_;  // the temp folder this runner made (and removes)
  std::string dir_;   // root_/net: what `init` writes
  bool keep_ = false;
  pid_t pid_ = -1;
  std::string url_;
};

// The chipledger-node binary beside this program's own executable.
std::string default_node_bin();

}  // namespace chipledger::bench
