// `chipledger-node init`: writes a development consortium into a folder:
// one member of each role with a freshly generated Ed25519 key
// (DIR/keys/MEMBER.pem, mode 0600), a node key, the trust file
// DIR/consortium.json and the node config DIR/node.toml. Keys are generated
// on the spot, never shipped. Refuses to overwrite an existing consortium.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/result.h"

namespace chipledger {

struct DevConsortiumOptions {
  std::string dir;
  std::string ledger_id;  // empty: "chipledger.dev/" + a random suffix
  uint16_t port = 7800;
};

struct DevConsortium {
  std::string consortium_file;
  std::string node_config_file;
  std::string ledger_id;
};

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options);

}  // namespace chipledger
