// `chipledger-node admin members`: lists the Raft members a node knows
// (GET /v1/health). The membership itself changes only by governance votes
// (docs/governance.md, section 6). Over https it checks the node's
// certificate against --ca and presents the node certificate it was given
// (docs/tls.md).
#pragma once

#include <chrono>
#include <string>

#include "crypto/result.h"
#include "net/http_client.h"

namespace chipledger {

struct AdminTarget {
  std::string node_url;  // any node of the cluster
  // https: the CA the node's certificate must chain to, and optionally a
  // node certificate and key to present (mutual TLS).
  std::string ca_file = {};
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
};

// The HTTP client options for the target (its CA and certificate when given).
Result<HttpClientOptions> admin_client_options(const AdminTarget& target,
                                               std::chrono::milliseconds timeout);

// GET /v1/health's raft.members and leader, as JSON text.
Result<std::string> list_members(const AdminTarget& target);

}  // namespace chipledger
