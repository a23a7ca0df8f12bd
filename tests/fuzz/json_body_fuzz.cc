// libFuzzer target: the JSON bodies the node parses from anyone
// (node/request_bodies.h: POST /v1/transactions, /v1/transactions/batch,
// /v1/histories) and the bound check before every parse
// (node/json_limits.h). Nothing crashes, leaks or hits UB; every
// transaction a decoder gives re-encodes to its wire bytes; and the scan's
// verdict is exact: on a body nlohmann parses, check_json_limits refuses
// it iff the document it builds has more elements or deeper nesting than
// the limits (so the scan never lets a too-large document through and
// never refuses one within them).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "node/json_limits.h"
#include "node/request_bodies.h"

namespace {

using nlohmann::json;
using namespace chipledger;

// Elements as json_limits.h counts them (each value and each object key)
// and the nesting depth of arrays and objects.
void measure(const json& j, size_t depth, size_t& elements, size_t& max_depth) {
  ++elements;
  if (j.is_array() || j.is_object()) max_depth = std::max(max_depth, depth + 1);
  if (j.is_array()) {
    for (const auto& v : j) measure(v, depth + 1, elements, max_depth);
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      ++elements;
      measure(v, depth + 1, elements, max_depth);
    }
  }
}

void check_tx(const SignedTransaction& stx) {
  auto again = SignedTransaction::decode(stx.wire());
  if (!again || again->wire() != stx.wire() || again->txid != stx.txid) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);

  // Small limits so that short inputs reach every bound; strings unbounded
  // here (their bound counts escaped bytes, which the document no longer has).
  const JsonLimits small{6, 40, 1u << 30};
  Status scanned = check_json_limits(body, small);
  const size_t any = SIZE_MAX;
  auto doc = parse_json_body(body, JsonLimits{any, any, any});
  if (doc) {
    size_t elements = 0, depth = 0;
    measure(*doc, 0, elements, depth);
    bool within = elements <= small.max_elements && depth <= small.max_depth;
    if (within != scanned.is_ok()) std::abort();
  }
  // The string bound: a body with a longer string (as sent) is refused.
  (void)check_json_limits(body, JsonLimits{32, 10000, 8});

  if (auto stx = decode_submit_body(body)) check_tx(*stx);
  if (auto batch = decode_batch_body(body)) {
    if (batch->empty() || batch->size() > kMaxBatchTransactions) std::abort();
    for (const auto& stx : *batch) check_tx(stx);
  }
  if (auto req = decode_histories_body(body)) {
    if (req->serials.size() > kMaxHistoriesPerRequest) std::abort();
    for (const auto& s : req->serials) {
      if (!check_serial(s)) std::abort();
    }
  }
  return 0;
}
