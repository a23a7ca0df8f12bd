// OpenSSL 3's own Ed25519 verification (EVP), kept as a reference beside
// the verifier the project uses (libsodium, in PublicKey::verify): the
// tests hold libsodium's answers to OpenSSL's on honest keys, and the
// benchmark prints OpenSSL's rate next to the limit so that its figures
// compare with `openssl speed ed25519` and with readings taken before the
// switch (docs/crypto.md). Nothing in the ledger, the node or the client
// decides with it.
#pragma once

#include "crypto/bytes.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace chipledger {

class OpenSslEd25519Verifier {
 public:
  // Ed25519 keys only.
  static Result<OpenSslEd25519Verifier> from(const PublicKey& key);

  // Pure Ed25519 over `message`, as EVP_DigestVerify answers it.
  bool verify(ByteView message, ByteView signature) const;

 private:
  explicit OpenSslEd25519Verifier(detail::PkeyPtr key) : key_(std::move(key)) {}
  detail::PkeyPtr key_;
};

}  // namespace chipledger
