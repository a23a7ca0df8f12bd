// Signing keys: Ed25519 and ECDSA P-256 / P-384 through OpenSSL 3's EVP API.
// The OpenSSL object lives behind RAII inside these classes; no raw
// EVP_PKEY* crosses a function boundary. Errors from OpenSSL come back as a
// reason string. Keys made with `openssl genpkey` load as they are.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace chipledger {

// Ed25519 and P-256 for members; P-384 too for chips' device keys, as real
// accelerators carry.
enum class KeyAlgorithm { ed25519, ecdsa_p256, ecdsa_p384 };

std::string_view algorithm_name(KeyAlgorithm alg);  // "ed25519", "ecdsa-p256", "ecdsa-p384"
Result<KeyAlgorithm> algorithm_from_name(std::string_view name);

namespace detail {
// Shared ownership of an EVP_PKEY (freed with EVP_PKEY_free); OpenSSL keys
// are safe to use for signing and verifying from several threads at once.
using PkeyPtr = std::shared_ptr<evp_pkey_st>;
}  // namespace detail

class PublicKey {
 public:
  // SubjectPublicKeyInfo, PEM ("-----BEGIN PUBLIC KEY-----") or DER.
  static Result<PublicKey> from_pem(std::string_view pem);
  static Result<PublicKey> from_der(ByteView der);

  KeyAlgorithm algorithm() const { return alg_; }
  std::string pem() const;
  const Bytes& der() const { return der_; }
  // SHA-256 of the SubjectPublicKeyInfo DER: the key's id everywhere.
  Hash key_id() const { return sha256(der_); }
  // Ed25519 only: the 32 raw public key bytes (used by signed notes).
  Result<Bytes> raw_ed25519() const;

  // Ed25519: pure Ed25519 over msg. ECDSA P-256: SHA-256 digest, DER signature.
  bool verify(ByteView message, ByteView signature) const;

 private:
  PublicKey(detail::PkeyPtr key, KeyAlgorithm alg, Bytes der)
      : key_(std::move(key)), alg_(alg), der_(std::move(der)) {}
  detail::PkeyPtr key_;
  KeyAlgorithm alg_;
  Bytes der_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  static Result<PrivateKey> generate(KeyAlgorithm alg);
  // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), also the EC form openssl writes.
  static Result<PrivateKey> from_pem(std::string_view pem);
  // Ed25519 only: from the 32-byte RFC 8032 seed (for test vectors).
  static Result<PrivateKey> ed25519_from_seed(ByteView seed);
  static Result<PrivateKey> load_file(const std::string& path);
  // Writes PKCS#8 PEM with file mode 0600; refuses to overwrite an existing file.
  Status save_file(const std::string& path) const;

  KeyAlgorithm algorithm() const { return pub_.algorithm(); }
  std::string pem() const;
  const PublicKey& public_key() const { return pub_; }
  Result<Bytes> sign(ByteView message) const;

 private:
  PrivateKey(detail::PkeyPtr key, PublicKey pub) : key_(std::move(key)), pub_(std::move(pub)) {}
  detail::PkeyPtr key_;
  PublicKey pub_;
};

}  // namespace chipledger
