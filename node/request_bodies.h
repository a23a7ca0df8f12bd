// The JSON bodies of the node's POST endpoints (docs/api.md), decoded from
// untrusted bytes: the bounded parse (node/json_limits.h), the body's shape,
// base64 and the canonical transaction decoding. Pure: no ledger, no I/O,
// no signature checked (the API's admission does that), so the fuzz target
// tests/fuzz/json_body_fuzz.cc runs exactly what the API runs on a body. A
// failed Result's reason is the 400 answer's error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"
#include "ledger/transaction.h"
#include "node/json_limits.h"

namespace chipledger {

inline constexpr size_t kMaxHistoriesPerRequest = 1000;
inline constexpr size_t kMaxBatchTransactions = 1000;
// Bounds on JSON bodies, checked before a document is built (docs/api.md,
// "Limits"). A transaction's base64 may be as long as the body allows (a
// register of many chips is megabytes); a serial is at most kMaxFieldBytes.
inline constexpr JsonLimits kSubmitLimits{32, 10000, 32u << 20};
inline constexpr JsonLimits kHistoriesLimits{32, 10000, 4096};

// POST /v1/transactions: {"tx": "<base64 signed transaction>"}.
Result<SignedTransaction> decode_submit_body(std::string_view body);

// POST /v1/transactions/batch: {"txs": ["<base64>", ...]}, 1 to
// kMaxBatchTransactions of them, every one decoded (a malformed batch
// changes nothing); errors name the entry ("txs[3]: ...").
Result<std::vector<SignedTransaction>> decode_batch_body(std::string_view body);

// POST /v1/histories: {"serials": ["SERIAL", ...], "size": S}, at most
// kMaxHistoriesPerRequest serials, each a valid serial (check_serial); no
// size: the caller's default.
struct HistoriesRequest {
  std::vector<std::string> serials;
  std::optional<uint64_t> size;
};
Result<HistoriesRequest> decode_histories_body(std::string_view body);

}  // namespace chipledger
