// Random bytes from the operating system's CSPRNG, through OpenSSL's
// RAND_bytes: for nonces and serial numbers that must not be guessed.
#pragma once

#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

// 32 random bytes; an error only when OpenSSL's generator fails.
Result<Hash> random_hash();

}  // namespace chipledger
