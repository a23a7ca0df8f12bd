// libFuzzer target: the signed-transaction decoder never crashes, and
// whatever it accepts re-encodes to the same canonical bytes.
#include <cstdlib>

#include "ledger/transaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  auto stx = SignedTransaction::decode(ByteView(data, size));
  if (!stx) return 0;
  auto body = encode_body(stx->tx);
  if (!body || *body != stx->body) std::abort();
  if (stx->wire() != Bytes(data, data + size)) std::abort();
  return 0;
}
