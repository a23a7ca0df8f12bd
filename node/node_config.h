// A node's configuration, read from TOML (docs/node-config.md). Relative
// paths are resolved against the config file's folder.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/result.h"

namespace chipledger {

struct NodeConfig {
  std::string node_id;
  std::string key_file;         // the node's Ed25519 checkpoint key (PEM)
  std::string data_dir;         // RocksDB lives in data_dir/ledger
  std::string consortium_file;  // the trust file
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 7800;
  size_t max_body_bytes = 16 << 20;
  int http_threads = 2;
  int block_max_wait_ms = 2;  // how long the block builder gathers
  size_t block_max_transactions = 2000;

  static Result<NodeConfig> load_file(const std::string& path);
  std::string to_toml() const;
};

}  // namespace chipledger
