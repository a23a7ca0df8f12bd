#include "crypto/random.h"

#include <openssl/rand.h>

namespace chipledger {

Result<Hash> random_hash() {
  Hash out{};
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return Result<Hash>::error("the random generator failed (RAND_bytes)");
  }
  return out;
}

}  // namespace chipledger
