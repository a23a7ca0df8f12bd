#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <fstream>
#include <sstream>

#include "crypto/openssl_error.h"

namespace chipledger {
namespace {

namespace ssl = boost::asio::ssl;

constexpr size_t kMaxPemFile = 256 * 1024;

Result<TlsContextPtr> new_context(ssl::context::method method) {
  using R = Result<TlsContextPtr>;
  try {
    auto ctx = std::make_shared<ssl::context>(method);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
      return R::error(openssl_reason("cannot require TLS 1.3"));
    }
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    return ctx;
  } catch (const std::exception& e) {
    return R::error(std::string("cannot make a TLS context: ") + e.what());
  }
}

Status use_identity(ssl::context& ctx, const TlsIdentity& id) {
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(id.cert_pem), ec);
  if (ec) return Status::error("the node certificate: " + ec.message());
  ctx.use_private_key(boost::asio::buffer(id.key_pem), ssl::context::pem, ec);
  if (ec) return Status::error("the node key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Status::error(openssl_reason("the node key does not match its certificate"));
  }
  return Status::ok();
}

Status trust_ca(ssl::context& ctx, const std::string& ca_pem) {
  boost::system::error_code ec;
  ctx.add_certificate_authority(boost::asio::buffer(ca_pem), ec);
  if (ec) return Status::error("the CA certificate: " + ec.message());
  return Status::ok();
}

// What the server's certificate says (CN and names), kept on the SSL object
// by the client's verify callback, so that a failed handshake can name it
// (OpenSSL keeps no peer certificate when verification fails).
int presented_index() {
  static const int idx = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(ptr);
      });
  return idx;
}

std::string describe_certificate(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return "";
  Bytes der(static_cast<size_t>(len));
  uint8_t* out = der.data();
  i2d_X509(cert, &out);
  auto info = certificate_info_der(der);
  if (!info) return "";
  std::string names;
  for (const auto& h : info->hosts) names += (names.empty() ? "" : ", ") + h;
  return "'" + info->common_name + "'" + (names.empty() ? "" : " for " + names);
}

int remember_presented(int preverified, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (ssl != nullptr && leaf != nullptr && SSL_get_ex_data(ssl, presented_index()) == nullptr) {
    SSL_set_ex_data(ssl, presented_index(), new std::string(describe_certificate(leaf)));
  }
  return preverified;
}

}  // namespace

Result<std::string> read_pem_file(const std::string& path, const std::string& what) {
  using R = Result<std::string>;
  std::ifstream in(path, std::ios::binary);
  if (!in) return R::error("cannot read the " + what + " file " + path);
  std::string text(kMaxPemFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemFile) return R::error("the " + what + " file " + path + " is too large");
  if (text.empty()) return R::error("the " + what + " file " + path + " is empty");
  return text;
}

Result<TlsIdentity> TlsIdentity::load(const TlsFiles& files, int64_t now_seconds) {
  TlsIdentity id;
  auto ca = read_pem_file(files.ca_file, "TLS CA");
  if (!ca) return ca.status();
  auto cert = read_pem_file(files.cert_file, "TLS certificate");
  if (!cert) return cert.status();
  auto key = read_pem_file(files.key_file, "TLS key");
  if (!key) return key.status();
  Status st = check_node_certificate(*ca, *cert, *key, now_seconds);
  if (!st) return st.context(files.cert_file);
  auto info = certificate_info(*cert);
  if (!info) return info.status().context(files.cert_file);
  id.ca_pem = std::move(*ca);
  id.cert_pem = std::move(*cert);
  id.key_pem = std::move(*key);
  id.info = std::move(*info);
  return id;
}

Result<TlsContextPtr> make_server_context(const TlsIdentity& identity, ClientCertificates clients) {
  auto ctx = new_context(ssl::context::tls_server);
  if (!ctx) return ctx;
  CL_TRY(use_identity(**ctx, identity));
  SSL_CTX_set_num_tickets((*ctx)->native_handle(), 0);
  if (clients != ClientCertificates::none) {
    CL_TRY(trust_ca(**ctx, identity.ca_pem));
    (*ctx)->set_verify_mode(clients == ClientCertificates::require
                                ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                : ssl::verify_peer);
  }
  return ctx;
}

Result<TlsContextPtr> make_client_context(const std::string& ca_pem, const TlsIdentity* identity) {
  auto ctx = new_context(ssl::context::tls_client);
  if (!ctx) return ctx;
  CL_TRY(trust_ca(**ctx, ca_pem));
  SSL_CTX_set_verify((*ctx)->native_handle(), SSL_VERIFY_PEER, remember_presented);
  if (identity != nullptr) CL_TRY(use_identity(**ctx, *identity));
  return ctx;
}

Status expect_host(ssl_st* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool ip = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  if (!ip) {
    ERR_clear_error();
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
      return Status::error(openssl_reason("cannot check the host name " + host));
    }
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      return Status::error(openssl_reason("cannot set SNI " + host));
    }
  }
  return Status::ok();
}

bool has_peer_certificate(ssl_st* ssl) { return SSL_get0_peer_certificate(ssl) != nullptr; }

std::string describe_handshake_failure(ssl_st* ssl, const std::string& host,
                                       const std::string& what) {
  const long verify = SSL_get_verify_result(ssl);
  std::string names;
  if (auto* presented = static_cast<std::string*>(SSL_get_ex_data(ssl, presented_index()))) {
    names = *presented;
  } else if (X509* cert = SSL_get0_peer_certificate(ssl)) {
    names = describe_certificate(cert);
  }
  const std::string cert =
      names.empty() ? "the node's certificate" : "the node's certificate (of " + names + ")";
  switch (verify) {
    case X509_V_OK:
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return cert + " does not name " + host + ", the host of the URL";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return cert + " has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return cert + " is not valid yet";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return cert + " is not issued by the consortium CA (" +
             X509_verify_cert_error_string(verify) + ")";
    default:
      return cert + " does not verify: " + X509_verify_cert_error_string(verify);
  }
  return "TLS handshake failed: " + what;
}

Result<CertificateInfo> peer_certificate(ssl_st* ssl) {
  using R = Result<CertificateInfo>;
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return R::error(std::string("the peer's certificate did not verify: ") +
                    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  if (!cert) return R::error("the peer sent no certificate");
  int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return R::error(openssl_reason("encoding the peer's certificate"));
  Bytes der(static_cast<size_t>(len));
  uint8_t* out = der.data();
  i2d_X509(cert.get(), &out);
  return certificate_info_der(der);
}

}  // namespace chipledger
