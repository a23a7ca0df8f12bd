#include "crypto/sha256.h"

// OpenSSL 3 deprecates the algorithm-specific SHA256_* functions in favour
// of EVP, but keeps and tests them. EVP costs an allocation and a provider
// dispatch per hash: for the 65-byte Merkle and state-map nodes that is
// most of the time (docs/performance.md, "SHA-256"). The compression
// function is the same code either way.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstring>
#include <new>

namespace chipledger {
namespace {

static_assert(sizeof(SHA256_CTX) <= 128 && alignof(SHA256_CTX) <= 8,
              "SHA256_CTX must fit Sha256::ctx_");

SHA256_CTX* ctx_of(unsigned char* storage) {
  return std::launder(reinterpret_cast<SHA256_CTX*>(storage));
}

}  // namespace

Sha256::Sha256() { SHA256_Init(new (ctx_) SHA256_CTX); }

Sha256::~Sha256() = default;

Sha256& Sha256::update(ByteView data) {
  SHA256_Update(ctx_of(ctx_), data.data(), data.size());
  return *this;
}

Hash Sha256::finish() {
  Hash out{};
  SHA256_Final(out.data(), ctx_of(ctx_));
  return out;
}

Hash sha256(ByteView data) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  Hash out{};
  SHA256_Final(out.data(), &ctx);
  return out;
}

Result<Hash> hash_from_bytes(ByteView data) {
  if (data.size() != 32) {
    return Result<Hash>::error("a SHA-256 hash is 32 bytes, got " + std::to_string(data.size()));
  }
  Hash h{};
  std::memcpy(h.data(), data.data(), 32);
  return h;
}

Result<Hash> hash_from_hex(std::string_view text) {
  auto bytes = hex_decode(text);
  if (!bytes) return bytes.status();
  return hash_from_bytes(*bytes);
}

}  // namespace chipledger
