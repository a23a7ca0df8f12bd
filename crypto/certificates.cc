#include "crypto/certificates.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <memory>

#include "crypto/keys.h"
#include "crypto/openssl_error.h"

namespace chipledger {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free_all)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)>;
using BasicPtr = std::unique_ptr<BASIC_CONSTRAINTS, decltype(&BASIC_CONSTRAINTS_free)>;

// PEM texts larger than this are refused before parsing (a chain of a few
// certificates is a few KiB).
constexpr size_t kMaxPemText = 256 * 1024;
constexpr std::string_view kRaftUriPrefix = "urn:chipledger:raft:";

Result<BioPtr> read_bio(std::string_view text) {
  if (text.empty()) return Result<BioPtr>::error("empty PEM text");
  if (text.size() > kMaxPemText) return Result<BioPtr>::error("PEM text too large");
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free_all);
  if (!bio) return Result<BioPtr>::error(openssl_reason("BIO_new_mem_buf failed"));
  return bio;
}

Result<X509Ptr> parse_pem_cert(std::string_view pem) {
  auto bio = read_bio(pem);
  if (!bio) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return Result<X509Ptr>::error(openssl_reason("not a PEM certificate"));
  return cert;
}

Result<PkeyPtr> parse_pem_key(std::string_view pem) {
  auto bio = read_bio(pem);
  if (!bio) return bio.status();
  PkeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return Result<PkeyPtr>::error(openssl_reason("not a PEM private key"));
  return key;
}

Result<std::string> cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free_all);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return Result<std::string>::error(openssl_reason("writing a PEM certificate failed"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0) return Result<std::string>::error("OpenSSL wrote no certificate");
  return std::string(data, static_cast<size_t>(len));
}

bool is_ip_address(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (ip == nullptr) {
    ERR_clear_error();
    return false;
  }
  ASN1_OCTET_STRING_free(ip);
  return true;
}

// Letters, digits, '-' and '.', 1 to 253 characters (a '*.' wildcard first).
bool is_dns_name(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  std::string_view rest = host;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.front() == '-') return false;
  for (char ch : rest) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()), &X509_EXTENSION_free);
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Status::error(
        openssl_reason(std::string("certificate extension ") + OBJ_nid2sn(nid) + " = " + value));
  }
  return Status::ok();
}

// A certificate for `key` named `common_name`, issued by `issuer` (nullptr:
// self-signed) and signed with `issuer_key`; extensions added by the caller.
Result<X509Ptr> new_certificate(EVP_PKEY* key, const std::string& common_name, int64_t not_before,
                                int64_t not_after) {
  using R = Result<X509Ptr>;
  if (common_name.empty() || common_name.size() > 64) {
    return R::error("a certificate's common name must be 1 to 64 characters");
  }
  if (not_after <= not_before) return R::error("a certificate must end after it begins");
  X509Ptr cert(X509_new(), &X509_free);
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return R::error(openssl_reason("X509_new failed"));
  }
  uint8_t serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return R::error(openssl_reason("RAND_bytes"));
  serial[0] &= 0x7f;  // a positive INTEGER
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr),
                                                 &BN_free);
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return R::error(openssl_reason("setting the serial number"));
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(not_after)) == nullptr) {
    return R::error(openssl_reason("setting the validity"));
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return R::error(openssl_reason("setting the common name"));
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return R::error(openssl_reason("X509_set_pubkey"));
  return cert;
}

Result<PkeyPtr> new_p256_key() {
  auto key = PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  if (!key) return key.status();
  return parse_pem_key(key->pem());
}

Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free_all);
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Result<std::string>::error(openssl_reason("writing a PEM private key failed"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0) return Result<std::string>::error("OpenSSL wrote no key");
  return std::string(data, static_cast<size_t>(len));
}

Result<CertificateAndKey> finish(X509* cert, EVP_PKEY* key, EVP_PKEY* signer) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) {
    return Result<CertificateAndKey>::error(openssl_reason("signing the certificate"));
  }
  auto c = cert_pem(cert);
  if (!c) return c.status();
  auto k = key_pem(key);
  if (!k) return k.status();
  return CertificateAndKey{std::move(*c), std::move(*k)};
}

int64_t asn1_seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::optional<uint64_t> raft_id_from_uri(std::string_view uri) {
  if (uri.substr(0, kRaftUriPrefix.size()) != kRaftUriPrefix) return std::nullopt;
  std::string_view digits = uri.substr(kRaftUriPrefix.size());
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id == 0 || digits.size() > 20 ||
      digits[0] == '0') {
    return std::nullopt;
  }
  return id;
}

std::string asn1_text(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* p = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  char text[INET6_ADDRSTRLEN] = {};
  if (len == 4 && inet_ntop(AF_INET, p, text, sizeof text)) return text;
  if (len == 16 && inet_ntop(AF_INET6, p, text, sizeof text)) return text;
  return {};
}

Result<CertificateInfo> describe(X509* cert) {
  CertificateInfo info;
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    info.common_name = asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
  }
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
      &GENERAL_NAMES_free);
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_URI) {
      if (auto id = raft_id_from_uri(asn1_text(n->d.uniformResourceIdentifier))) {
        info.raft_id = id;
      }
    } else if (n->type == GEN_DNS) {
      info.hosts.push_back(asn1_text(n->d.dNSName));
    } else if (n->type == GEN_IPADD) {
      info.hosts.push_back(ip_text(n->d.iPAddress));
    }
  }
  BasicPtr basic(static_cast<BASIC_CONSTRAINTS*>(
                     X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)),
                 &BASIC_CONSTRAINTS_free);
  info.is_ca = basic && basic->ca;
  info.not_before = asn1_seconds(X509_get0_notBefore(cert));
  info.not_after = asn1_seconds(X509_get0_notAfter(cert));
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return Result<CertificateInfo>::error(openssl_reason("encoding the certificate"));
  info.der.resize(static_cast<size_t>(len));
  uint8_t* out = info.der.data();
  i2d_X509(cert, &out);
  ERR_clear_error();
  return info;
}

}  // namespace

Result<CertificateAndKey> make_ca(const std::string& common_name, int64_t not_before,
                                  int64_t not_after) {
  auto key = new_p256_key();
  if (!key) return key.status();
  auto cert = new_certificate(key->get(), common_name, not_before, not_after);
  if (!cert) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
    return Result<CertificateAndKey>::error(openssl_reason("X509_set_issuer_name"));
  }
  CL_TRY(add_extension(c, c, NID_basic_constraints, "critical,CA:TRUE"));
  CL_TRY(add_extension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  CL_TRY(add_extension(c, c, NID_subject_key_identifier, "hash"));
  return finish(c, key->get(), key->get());
}

Result<CertificateAndKey> issue_node_certificate(const CertificateAndKey& ca,
                                                 const NodeCertificateRequest& request) {
  using R = Result<CertificateAndKey>;
  auto ca_cert = parse_pem_cert(ca.cert_pem);
  if (!ca_cert) return ca_cert.status().context("the CA certificate");
  auto ca_key = parse_pem_key(ca.key_pem);
  if (!ca_key) return ca_key.status().context("the CA key");
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    ERR_clear_error();
    return R::error("the CA key does not belong to the CA certificate");
  }
  auto key = new_p256_key();
  if (!key) return key.status();
  auto cert = new_certificate(key->get(), request.node_id, request.not_before, request.not_after);
  if (!cert) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert->get())) != 1) {
    return R::error(openssl_reason("X509_set_issuer_name"));
  }
  std::string san;
  auto add_san = [&](const std::string& item) { san += (san.empty() ? "" : ",") + item; };
  if (request.raft_id != 0)
    add_san("URI:" + std::string(kRaftUriPrefix) + std::to_string(request.raft_id));
  for (const auto& h : request.hosts) {
    bool ip = is_ip_address(h);
    if (!ip && !is_dns_name(h)) {
      return R::error("not a host name or IP address for a certificate: '" + h + "'");
    }
    add_san((ip ? "IP:" : "DNS:") + h);
  }
  CL_TRY(add_extension(c, ca_cert->get(), NID_basic_constraints, "critical,CA:FALSE"));
  CL_TRY(add_extension(c, ca_cert->get(), NID_key_usage, "critical,digitalSignature"));
  CL_TRY(add_extension(c, ca_cert->get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  CL_TRY(add_extension(c, ca_cert->get(), NID_subject_key_identifier, "hash"));
  CL_TRY(add_extension(c, ca_cert->get(), NID_authority_key_identifier, "keyid:always"));
  if (!san.empty()) CL_TRY(add_extension(c, ca_cert->get(), NID_subject_alt_name, san));
  return finish(c, key->get(), ca_key->get());
}

Result<CertificateInfo> certificate_info(std::string_view pem) {
  auto cert = parse_pem_cert(pem);
  if (!cert) return cert.status();
  return describe(cert->get());
}

Result<CertificateInfo> certificate_info_der(ByteView der) {
  if (der.empty() || der.size() > kMaxPemText) {
    return Result<CertificateInfo>::error("not a DER certificate (size)");
  }
  const uint8_t* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  if (!cert) return Result<CertificateInfo>::error(openssl_reason("not a DER certificate"));
  return describe(cert.get());
}

Result<std::vector<std::string>> split_certificates(std::string_view pem) {
  auto bio = read_bio(pem);
  if (!bio) return bio.status();
  std::vector<std::string> out;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) break;
    auto text = cert_pem(cert.get());
    if (!text) return text.status();
    out.push_back(std::move(*text));
  }
  ERR_clear_error();  // the end of the text
  if (out.empty()) return Result<std::vector<std::string>>::error("no PEM certificate in the text");
  return out;
}

Status check_node_certificate(std::string_view ca_pem, std::string_view cert_pem_text,
                              std::string_view key_pem_text, int64_t now) {
  auto cas = split_certificates(ca_pem);
  if (!cas) return cas.status().context("the CA file");
  auto cert = parse_pem_cert(cert_pem_text);
  if (!cert) return cert.status().context("the certificate");
  auto key = parse_pem_key(key_pem_text);
  if (!key) return key.status().context("the key");
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Status::error("the key does not belong to the certificate");
  }
  StorePtr store(X509_STORE_new(), &X509_STORE_free);
  if (!store) return Status::error(openssl_reason("X509_STORE_new"));
  for (const auto& text : *cas) {
    auto ca = parse_pem_cert(text);
    if (!ca || X509_STORE_add_cert(store.get(), ca->get()) != 1) {
      return Status::error(openssl_reason("adding a CA certificate"));
    }
  }
  StoreCtxPtr ctx(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return Status::error(openssl_reason("X509_STORE_CTX_init"));
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status::error(std::string("the certificate does not chain to the CA: ") +
                         X509_verify_cert_error_string(err));
  }
  auto info = describe(cert->get());
  if (!info) return info.status();
  if (info->is_ca) return Status::error("the certificate is a CA certificate, not a node's");
  return Status::ok();
}

}  // namespace chipledger
