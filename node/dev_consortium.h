// `chipledger-node init`: writes a development consortium into a folder:
// its members with freshly generated Ed25519 keys (DIR/keys/MEMBER.pem,
// mode 0600), a node key, the trust file DIR/consortium.json and the node
// config DIR/node.toml. Keys are generated on the spot, never shipped.
// With nodes > 1: a local cluster on loopback, one node per organisation
// (each with its own key, listed in the trust file with its member; the
// checkpoint quorum at least a majority) and one config per node,
// DIR/node-I.toml (data in DIR/node-I, API on port+I-1, Raft on
// port+100+I-1, every node in [[raft.peers]]). The dev CA and node
// certificates go into DIR/tls; the trust file carries the CA (tls_ca) and
// the APIs answer HTTPS (https://127.0.0.1:P) unless plain_http.
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
  unsigned nodes = 1;         // > 1: a local cluster (port must be fixed)
  // The API answers plain HTTP ([api] plain_http = true, http:// URLs, no
  // tls_ca in the trust file); default: HTTPS with the dev certificates.
  bool plain_http = false;
};

struct DevConsortium {
  std::string consortium_file;
  std::string node_config_file;
  std::string ledger_id;
  std::string node_id;
  std::vector<std::string> members;  // ids, in the order written
  // Every node (the first is node_id / node_config_file): id, member, config.
  struct Node {
    std::string id;
    std::string member;
    std::string config_file;
    std::string api_url;
  };
  std::vector<Node> nodes;
  uint32_t quorum = 1;
};

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options);

}  // namespace chipledger
