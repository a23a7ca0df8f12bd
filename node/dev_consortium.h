// `chipledger-node init`: writes a development consortium into a folder:
// its members with freshly generated Ed25519 keys (DIR/keys/MEMBER.pem,
// mode 0600), a node key, the trust file DIR/consortium.json and the node
// config DIR/node.toml. Keys are generated on the spot, never shipped.
// Without a template: one member of each role and no export policy; with a
// template (JSON: members without keys, the policy, optionally the ledger
// id, the node's id and member; docs/consortium.md): what it lists. Refuses
// to overwrite an existing consortium.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/result.h"

namespace chipledger {

struct DevConsortiumOptions {
  std::string dir;
  std::string ledger_id;  // empty: the template's, else "chipledger.dev/" + a random suffix
  uint16_t port = 7800;
  std::string template_file;  // empty: the built-in one-member-per-role consortium
};

struct DevConsortium {
  std::string consortium_file;
  std::string node_config_file;
  std::string ledger_id;
  std::string node_id;
  std::vector<std::string> members;  // ids, in the order written
};

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options);

}  // namespace chipledger
