#include "crypto/openssl_ed25519.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/openssl_error.h"

namespace chipledger {
namespace {

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// A valid pointer for empty inputs (OpenSSL may reject a null pointer).
constexpr uint8_t kEmpty[1] = {0};
const uint8_t* data_or_empty(ByteView b) { return b.empty() ? kEmpty : b.data(); }

}  // namespace

Result<OpenSslEd25519Verifier> OpenSslEd25519Verifier::from(const PublicKey& key) {
  auto raw = key.raw_ed25519();
  if (!raw) return raw.status();
  ERR_clear_error();
  detail::PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw->data(), raw->size()),
      &EVP_PKEY_free);
  if (!pkey) {
    return Result<OpenSslEd25519Verifier>::error(openssl_reason("OpenSSL refused the key"));
  }
  return OpenSslEd25519Verifier(std::move(pkey));
}

bool OpenSslEd25519Verifier::verify(ByteView message, ByteView signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), data_or_empty(signature), signature.size(),
                             data_or_empty(message), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace chipledger
