// SHA-256 through OpenSSL's SHA-256 (its assembly, SHA-NI where the CPU
// has it), without an allocation per hash.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/bytes.h"

namespace chipledger {

using Hash = std::array<uint8_t, 32>;

Hash sha256(ByteView data);
inline Hash sha256(std::string_view data) { return sha256(as_bytes(data)); }

// Incremental hashing: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(ByteView data);
  Sha256& update(std::string_view data) { return update(as_bytes(data)); }
  Hash finish();

 private:
  // OpenSSL's SHA256_CTX (112 bytes), held in place: openssl/sha.h stays
  // out of this header.
  alignas(8) unsigned char ctx_[128];
};

inline std::string hex_encode(const Hash& h) { return hex_encode(ByteView(h)); }
Result<Hash> hash_from_hex(std::string_view text);
Result<Hash> hash_from_bytes(ByteView data);

}  // namespace chipledger
