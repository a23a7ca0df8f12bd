// `chipledger-node admin`: asks a node to change the Raft cluster's
// membership (POST /v1/admin/membership with a change signed by a node key
// the consortium lists; docs/api.md, "Membership"), following a follower's
// 421 to the leader once, and lists the members a node knows. Over https
// it checks the node's certificate against --ca and presents the node
// certificate it was given (docs/tls.md).
#pragma once

#include <string>

#include "crypto/result.h"
#include "node/api.h"

namespace chipledger {

struct AdminTarget {
  std::string node_url;  // any node of the cluster
  std::string signer;    // the node id whose key signs (listed in the consortium)
  std::string key_file;  // that node's Ed25519 key (PEM)
  // https: the CA the node's certificate must chain to, and optionally a
  // node certificate and key to present (mutual TLS; POST
  // /v1/admin/membership refuses a caller without one).
  std::string ca_file = {};
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
};

// The node's JSON answer (the members after the change) or why not.
Result<std::string> request_membership_change(const AdminTarget& target,
                                              const MembershipRequest& change);
// GET /v1/health's raft.members and leader, as JSON text.
Result<std::string> list_members(const AdminTarget& target);

}  // namespace chipledger
