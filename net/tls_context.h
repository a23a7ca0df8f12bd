// TLS for the node's listeners and for every client of a node (docs/tls.md):
// TLS 1.3 only, peers verified against the consortium CA. A TlsIdentity is
// a node's certificate and key with the CA, loaded from files and checked
// (the certificate chains to the CA, is valid now and the key is its own).
// The contexts are Boost.Asio's; this header keeps Asio out (a forward
// declaration), so only the code that makes TLS connections includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "crypto/certificates.h"
#include "crypto/result.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;  // OpenSSL's SSL, owned by the Asio stream that carries it

namespace chipledger {

struct TlsFiles {
  std::string ca_file;    // the consortium CA certificate(s), PEM
  std::string cert_file;  // this node's certificate, PEM
  std::string key_file;   // its private key, PEM (mode 0600)
};

struct TlsIdentity {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  CertificateInfo info;  // of the certificate

  static Result<TlsIdentity> load(const TlsFiles& files, int64_t now_seconds);
};

using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// What a server asks of its clients' certificates.
enum class ClientCertificates {
  none,     // asks for none (TLS server authentication only)
  request,  // asks for one of the CA; a client without one still connects, a
            // client with one the CA did not issue is refused in the handshake
  require,  // mutual TLS: a client without a certificate of the CA is refused
};

// A server that presents `identity` and asks for client certificates as
// `clients` says. It issues no session tickets (a kept-alive client can
// then tell an idle connection from one the server closed).
Result<TlsContextPtr> make_server_context(const TlsIdentity& identity, ClientCertificates clients);
// A client that accepts only servers the CA in `ca_pem` issued; with an
// identity, it presents it (mutual TLS). Host names are checked per
// connection (see expect_host).
Result<TlsContextPtr> make_client_context(const std::string& ca_pem, const TlsIdentity* identity);

// Before a client handshake: the server's certificate must name `host`
// (a DNS name or an IP address) and SNI is set to it when it is a name.
Status expect_host(ssl_st* ssl, const std::string& host);

// After a handshake: the peer's certificate (verified against the CA by the
// handshake), or an error when it sent none.
Result<CertificateInfo> peer_certificate(ssl_st* ssl);

// Whether the handshake's peer sent a certificate (verified by then).
bool has_peer_certificate(ssl_st* ssl);

// Why a client handshake failed, for a person: the server's certificate is
// not of the CA, does not name `host`, expired, ..., or the server answers
// plain HTTP (docs/tls.md). `what` is the handshake's error text.
std::string describe_handshake_failure(ssl_st* ssl, const std::string& host,
                                       const std::string& what);

// A PEM file of at most 256 KiB.
Result<std::string> read_pem_file(const std::string& path, const std::string& what);

}  // namespace chipledger
