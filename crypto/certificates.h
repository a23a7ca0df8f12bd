// X.509 certificates for the consortium's TLS (docs/tls.md): a CA, and
// node certificates it issues. A node certificate says which node it is
// (Subject CN: the node's id in the trust file; SAN URI
// "urn:chipledger:raft:<id>": its Raft server id) and where it answers
// (SAN DNS names and IP addresses), for both TLS server and client use.
// Keys are ECDSA P-256: what every TLS stack and browser accepts.
// Certificates are handled as PEM text; the OpenSSL objects stay inside.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"

namespace chipledger {

// A certificate and its private key, PEM ("CERTIFICATE", PKCS#8 "PRIVATE KEY").
struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;
};

struct NodeCertificateRequest {
  std::string node_id;             // Subject CN
  uint64_t raft_id = 0;            // SAN URI urn:chipledger:raft:<id>; 0: none
  std::vector<std::string> hosts;  // SAN: IP addresses as IP, the rest as DNS
  int64_t not_before = 0;          // POSIX seconds
  int64_t not_after = 0;           // POSIX seconds, after not_before
};

// A self-signed CA certificate (CA:TRUE, keyCertSign) named `common_name`.
Result<CertificateAndKey> make_ca(const std::string& common_name, int64_t not_before,
                                  int64_t not_after);
// A node certificate signed by `ca` (CA:FALSE, serverAuth and clientAuth).
Result<CertificateAndKey> issue_node_certificate(const CertificateAndKey& ca,
                                                 const NodeCertificateRequest& request);

// What a certificate says, for the checks a node makes on a peer.
struct CertificateInfo {
  std::string common_name;          // Subject CN ("" when absent)
  std::optional<uint64_t> raft_id;  // from the SAN URI, when present and well formed
  std::vector<std::string> hosts;   // SAN DNS names and IP addresses
  int64_t not_before = 0;           // POSIX seconds
  int64_t not_after = 0;
  bool is_ca = false;
  Bytes der;
};

// The first certificate of a PEM text, or a DER certificate.
Result<CertificateInfo> certificate_info(std::string_view pem);
Result<CertificateInfo> certificate_info_der(ByteView der);

// Every certificate of a PEM text (a chain or a bundle), in order.
Result<std::vector<std::string>> split_certificates(std::string_view pem);

// Checks that `cert_pem`'s first certificate is signed by one of the CA
// certificates of `ca_pem`, is valid at `now` (POSIX seconds) and is not a
// CA, and that `key_pem` is its private key.
Status check_node_certificate(std::string_view ca_pem, std::string_view cert_pem,
                              std::string_view key_pem, int64_t now);

}  // namespace chipledger
