// A running node, composed of small parts: RocksDB store -> Ledger ->
// CheckpointPublisher + BlockSequencer -> Api -> HttpServer, with the
// Replicator (libraft) under the sequencer and the CosignSender sending this
// node's checkpoint signatures to its peers. start() serves; stop() answers
// what is queued, then closes. Nothing here holds rules.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "crypto/result.h"
#include "node/node_config.h"

namespace chipledger {

class NodeService {
 public:
  // on_fatal: called (from any thread, once) when the node must stop: its
  // own log disagrees with a checkpoint it signed (fail-stop). The reason
  // is printed already; the owner stops the node (the program exits).
  static Result<std::unique_ptr<NodeService>> open(
      const NodeConfig& config, std::function<void(const std::string& reason)> on_fatal = {});
  ~NodeService();
  Status start();
  void stop();
  uint16_t port() const;
  // Loads [tls] again (a renewed certificate: the same node and Raft id)
  // and uses it for new connections; open ones keep theirs, nothing is
  // interrupted. On SIGHUP. Fails, changing nothing, when the files do not
  // pass the checks made at start.
  Status reload_tls();
  // A storage failure stopped writes, or the node's log disagrees with a
  // checkpoint it signed: the process should exit.
  bool failed() const;

 private:
  struct Parts;
  explicit NodeService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace chipledger
