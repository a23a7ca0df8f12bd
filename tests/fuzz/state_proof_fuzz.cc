// libFuzzer target: the state proof decoder never crashes, whatever it
// accepts re-encodes to the same canonical bytes, and the verifiers never
// crash on it (they fold at most 256 levels).
#include <cstdlib>

#include "ledger/state_proof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  auto proof = StateProof::decode(ByteView(data, size));
  if (!proof) return 0;
  if (proof->encode() != Bytes(data, data + size)) std::abort();
  if (proof->siblings.size() > StateProof::kMaxDepth) std::abort();
  const Hash root{};
  (void)verify_state_presence(root, "SN-FUZZ", "record", *proof);
  (void)verify_state_absence(root, "SN-FUZZ", *proof);
  return 0;
}
