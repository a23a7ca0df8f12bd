// Test helpers (header-only): one CA per test process and the node
// certificates it issues (crypto/certificates.h), as TlsIdentity values for
// in-process Replicators or as files for a NodeConfig's [tls].
#pragma once

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "crypto/certificates.h"
#include "net/http_client.h"
#include "net/tls_context.h"
#include "node/node_config.h"

namespace chipledger::testing {

inline int64_t tls_now() { return static_cast<int64_t>(std::time(nullptr)); }

inline const CertificateAndKey& test_ca() {
  static const CertificateAndKey ca = [] {
    auto r = make_ca("chipledger test CA", tls_now() - 3600, tls_now() + 30 * 86400);
    REQUIRE(r);
    return *r;
  }();
  return ca;
}

inline CertificateAndKey test_node_certificate(const std::string& node_id, uint64_t raft_id,
                                               const CertificateAndKey& ca = test_ca()) {
  auto r = issue_node_certificate(
      ca, {node_id, raft_id, {"localhost", "127.0.0.1"}, tls_now() - 3600, tls_now() + 86400});
  REQUIRE(r);
  return *r;
}

inline TlsIdentity test_identity(const std::string& node_id, uint64_t raft_id) {
  CertificateAndKey cert = test_node_certificate(node_id, raft_id);
  auto info = certificate_info(cert.cert_pem);
  REQUIRE(info);
  return TlsIdentity{test_ca().cert_pem, cert.cert_pem, cert.key_pem, *info};
}

// An HTTPS client of nodes with test_ca() certificates (no client
// certificate of its own).
inline HttpClientOptions test_https_options(
    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  HttpClientOptions options;
  options.timeout = timeout;
  auto ctx = make_client_context(test_ca().cert_pem, nullptr);
  REQUIRE(ctx);
  options.tls = *ctx;
  return options;
}

// Writes the CA and the node's certificate and key into `dir` and names
// them in `config`'s [tls].
inline void write_test_tls(const std::filesystem::path& dir, NodeConfig& config) {
  CertificateAndKey cert = test_node_certificate(config.node_id, config.raft_id);
  auto put = [&](const std::string& name, const std::string& text) {
    std::ofstream out(dir / name);
    out << text;
    REQUIRE(out.good());
    return (dir / name).string();
  };
  config.tls_ca_file = put("ca.pem", test_ca().cert_pem);
  config.tls_cert_file = put(config.node_id + "-tls.pem", cert.cert_pem);
  config.tls_key_file = put(config.node_id + "-tls-key.pem", cert.key_pem);
}

}  // namespace chipledger::testing
