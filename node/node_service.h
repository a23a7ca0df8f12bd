// A running node, composed of small parts: RocksDB store -> Ledger ->
// CheckpointPublisher + BlockSequencer -> Api -> HttpServer. start() serves;
// stop() answers what is queued, then closes. Nothing here holds rules.
#pragma once

#include <memory>

#include "crypto/result.h"
#include "node/node_config.h"

namespace chipledger {

class NodeService {
 public:
  static Result<std::unique_ptr<NodeService>> open(const NodeConfig& config);
  ~NodeService();
  Status start();
  void stop();
  uint16_t port() const;
  bool failed() const;  // a storage failure stopped writes: the process should exit

 private:
  struct Parts;
  explicit NodeService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace chipledger
