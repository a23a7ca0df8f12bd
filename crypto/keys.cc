#include "crypto/keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "crypto/openssl_error.h"

namespace chipledger {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free_all)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Key files and PEM texts larger than this are refused before parsing.
constexpr size_t kMaxKeyText = 64 * 1024;
// A valid pointer for empty inputs (OpenSSL may reject a null pointer).
constexpr uint8_t kEmpty[1] = {0};

const uint8_t* data_or_empty(ByteView b) { return b.empty() ? kEmpty : b.data(); }

// An Ed25519 SubjectPublicKeyInfo is this fixed 12-byte prefix (RFC 8410)
// followed by the 32 raw key bytes.
constexpr size_t kEd25519SpkiSize = 44;
constexpr size_t kEd25519RawOffset = 12;

// libsodium verifies Ed25519 about twice as fast as OpenSSL 3.0 on the same
// core (docs/crypto.md); sodium_init() is thread-safe and idempotent, and
// the first PublicKey made runs it once.
bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

detail::PkeyPtr own(EVP_PKEY* key) { return detail::PkeyPtr(key, &EVP_PKEY_free); }

Result<BioPtr> memory_bio(std::string_view text) {
  if (text.empty()) return Result<BioPtr>::error("empty PEM text");
  if (text.size() > kMaxKeyText) return Result<BioPtr>::error("PEM text too large");
  ERR_clear_error();  // reasons below come from this parse only
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free_all);
  if (!bio) return Result<BioPtr>::error(openssl_reason("BIO_new_mem_buf failed"));
  return bio;
}

Result<std::string> bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return Result<std::string>::error("OpenSSL wrote no output");
  return std::string(data, static_cast<size_t>(len));
}

// Which of our algorithms `key` is; anything else is refused by name.
Result<KeyAlgorithm> classify(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyAlgorithm::ed25519;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
      ERR_clear_error();
      return Result<KeyAlgorithm>::error(
          "EC key has no named curve; only P-256 and P-384 are supported");
    }
    if (OBJ_txt2nid(group) == NID_X9_62_prime256v1) return KeyAlgorithm::ecdsa_p256;
    if (OBJ_txt2nid(group) == NID_secp384r1) return KeyAlgorithm::ecdsa_p384;
    return Result<KeyAlgorithm>::error("unsupported EC curve " + std::string(group) +
                                       "; only P-256 and P-384 are supported");
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return Result<KeyAlgorithm>::error(std::string("unsupported key type ") +
                                     (type ? type : "(unknown)") +
                                     "; only ed25519, ecdsa-p256 and ecdsa-p384 are supported");
}

// SubjectPublicKeyInfo DER of `key` (public part only, for private keys too).
Result<Bytes> spki_der(const EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return Result<Bytes>::error(openssl_reason("encoding public key failed"));
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(key, &p) != len) {
    return Result<Bytes>::error(openssl_reason("encoding public key failed"));
  }
  return der;
}

// The public half of a private key as its own, public-only PublicKey.
Result<PublicKey> public_half(const EVP_PKEY* key) {
  auto der = spki_der(key);
  if (!der) return der.status();
  return PublicKey::from_der(*der);
}

// Refuses to prompt on a terminal for the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) { return -1; }

const EVP_MD* digest_for(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::ed25519:
      return nullptr;
    case KeyAlgorithm::ecdsa_p256:
      return EVP_sha256();
    case KeyAlgorithm::ecdsa_p384:
      return EVP_sha384();
  }
  return nullptr;
}

Result<std::string> pkcs8_pem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free_all);
  if (!bio) return Result<std::string>::error(openssl_reason("BIO_new failed"));
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Result<std::string>::error(openssl_reason("writing PKCS#8 PEM failed"));
  }
  return bio_contents(bio.get());
}

Result<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Result<std::string>::error(path + ": " + std::strerror(errno));
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxKeyText) text.append(buf, n);
  int err = errno;
  ::close(fd);
  if (n < 0) return Result<std::string>::error(path + ": " + std::strerror(err));
  if (text.size() > kMaxKeyText) return Result<std::string>::error(path + ": file too large");
  return text;
}

Status write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(std::strerror(errno));
    text.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return Status::error(std::strerror(errno));
  return Status::ok();
}

// Creates `path` (mode 0600, never an existing file) holding `text`.
Status write_new_private_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  Status s = write_all(fd, text);
  if (::close(fd) != 0 && s.is_ok()) s = Status::error(std::strerror(errno));
  if (!s.is_ok()) ::unlink(path.c_str());
  return s.context(path);
}

}  // namespace

std::string_view algorithm_name(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::ed25519:
      return "ed25519";
    case KeyAlgorithm::ecdsa_p256:
      return "ecdsa-p256";
    case KeyAlgorithm::ecdsa_p384:
      return "ecdsa-p384";
  }
  return "unknown";
}

Result<KeyAlgorithm> algorithm_from_name(std::string_view name) {
  for (auto alg : {KeyAlgorithm::ed25519, KeyAlgorithm::ecdsa_p256, KeyAlgorithm::ecdsa_p384}) {
    if (algorithm_name(alg) == name) return alg;
  }
  return Result<KeyAlgorithm>::error("unknown key algorithm \"" + std::string(name) +
                                     "\" (want ed25519, ecdsa-p256 or ecdsa-p384)");
}

// ---- PublicKey ----

Result<PublicKey> PublicKey::from_der(ByteView der) {
  if (der.empty() || der.size() > kMaxKeyText) {
    return Result<PublicKey>::error("public key DER is empty or too large");
  }
  ERR_clear_error();
  const unsigned char* p = der.data();
  auto key = own(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return Result<PublicKey>::error(openssl_reason("not a SubjectPublicKeyInfo"));
  if (p != der.data() + der.size()) {
    return Result<PublicKey>::error("trailing bytes after the SubjectPublicKeyInfo");
  }
  auto alg = classify(key.get());
  if (!alg) return alg.status();
  auto canonical = spki_der(key.get());
  if (!canonical) return canonical.status();
  if (*alg == KeyAlgorithm::ed25519) {
    if (!sodium_ready()) return Result<PublicKey>::error("libsodium failed to initialise");
    if (canonical->size() != kEd25519SpkiSize) {
      return Result<PublicKey>::error("ed25519 public key is not 32 bytes");
    }
    // A small-order, mixed-order or non-canonical point is no honest key
    // (key generation never makes one), and libsodium refuses every
    // signature by it: refuse it here, with a reason, instead.
    if (crypto_core_ed25519_is_valid_point(canonical->data() + kEd25519RawOffset) != 1) {
      return Result<PublicKey>::error(
          "ed25519 public key is not a valid point of the prime-order subgroup (a small-order "
          "or non-canonical encoding)");
    }
  }
  return PublicKey(std::move(key), *alg, std::move(*canonical));
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.status();
  auto key = own(PEM_read_bio_PUBKEY(bio->get(), nullptr, no_passphrase, nullptr));
  if (!key) return Result<PublicKey>::error(openssl_reason("not a PEM public key"));
  auto der = spki_der(key.get());
  if (!der) return der.status();
  return from_der(*der);
}

std::string PublicKey::pem() const {
  std::string b64 = base64_encode(der_);
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END PUBLIC KEY-----\n";
}

Result<Bytes> PublicKey::raw_ed25519() const {
  if (alg_ != KeyAlgorithm::ed25519) return Result<Bytes>::error("not an ed25519 key");
  Bytes raw(32);
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &len) != 1 || len != 32) {
    return Result<Bytes>::error(openssl_reason("reading raw ed25519 public key failed"));
  }
  return raw;
}

bool PublicKey::verify(ByteView message, ByteView signature) const {
  if (alg_ == KeyAlgorithm::ed25519) {
    // from_der checked der_ is the 44-byte SPKI of a valid point.
    return signature.size() == crypto_sign_BYTES &&
           crypto_sign_verify_detached(signature.data(), data_or_empty(message), message.size(),
                                       der_.data() + kEd25519RawOffset) == 0;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(alg_), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), data_or_empty(signature), signature.size(),
                             data_or_empty(message), message.size()) == 1;
  ERR_clear_error();  // a bad signature is an answer, not an error to report later
  return ok;
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::generate(KeyAlgorithm alg) {
  auto key = own(alg == KeyAlgorithm::ed25519
                     ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                                         alg == KeyAlgorithm::ecdsa_p256 ? "P-256" : "P-384"));
  if (!key) return Result<PrivateKey>::error(openssl_reason("key generation failed"));
  auto pub = public_half(key.get());
  if (!pub) return pub.status();
  return PrivateKey(std::move(key), std::move(*pub));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.status();
  auto key = own(PEM_read_bio_PrivateKey(bio->get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return Result<PrivateKey>::error(
        openssl_reason("not an unencrypted PEM private key (PKCS#8 or EC)"));
  }
  auto alg = classify(key.get());
  if (!alg) return alg.status();
  auto pub = public_half(key.get());
  if (!pub) return pub.status();
  return PrivateKey(std::move(key), std::move(*pub));
}

Result<PrivateKey> PrivateKey::ed25519_from_seed(ByteView seed) {
  if (seed.size() != 32) {
    return Result<PrivateKey>::error("an ed25519 seed is 32 bytes, got " +
                                     std::to_string(seed.size()));
  }
  auto key = own(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) return Result<PrivateKey>::error(openssl_reason("ed25519 key from seed failed"));
  auto pub = public_half(key.get());
  if (!pub) return pub.status();
  return PrivateKey(std::move(key), std::move(*pub));
}

Result<PrivateKey> PrivateKey::load_file(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return text.status();
  auto key = from_pem(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) return key.status().context(path);
  return key;
}

Status PrivateKey::save_file(const std::string& path) const {
  auto text = pkcs8_pem(key_.get());
  if (!text) return text.status().context(path);
  Status s = write_new_private_file(path, *text);
  OPENSSL_cleanse(text->data(), text->size());
  return s;
}

std::string PrivateKey::pem() const {
  auto text = pkcs8_pem(key_.get());
  return text ? std::move(*text) : std::string();  // empty only if OpenSSL ran out of memory
}

Result<Bytes> PrivateKey::sign(ByteView message) const {
  ERR_clear_error();
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx) return Result<Bytes>::error(openssl_reason("EVP_MD_CTX_new failed"));
  if (EVP_DigestSignInit(ctx.get(), nullptr, digest_for(algorithm()), nullptr, key_.get()) != 1) {
    return Result<Bytes>::error(openssl_reason("EVP_DigestSignInit failed"));
  }
  size_t len = 0;
  const uint8_t* msg = data_or_empty(message);
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return Result<Bytes>::error(openssl_reason("EVP_DigestSign (size) failed"));
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg, message.size()) != 1) {
    return Result<Bytes>::error(openssl_reason("EVP_DigestSign failed"));
  }
  sig.resize(len);  // DER ECDSA signatures are often shorter than the maximum
  return sig;
}

}  // namespace chipledger
