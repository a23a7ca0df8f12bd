// The evidence answers of the API (docs/api.md): a serial's history
// (GET /v1/chips/SERIAL/history), many serials' histories (POST
// /v1/histories) and a serial's state (GET /v1/chips/SERIAL/state) at one
// log size, each event with its inclusion proof, each
// attestation also with the consistency proof from the checkpoint its chips
// signed, and each serial's state map proof. Built from a Ledger alone, for
// sizes the caller has checked (at most the log's, at least the oldest
// state the map keeps); the tests build their evidence with the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "node/http_types.h"

namespace chipledger {

// An answer would be larger than `max_bytes`: 413, saying so, and the
// node stops building it there ([api] max_answer_bytes).
constexpr size_t kNoAnswerLimit = SIZE_MAX;

// A page of a history: the events after index `after` (all: nullopt), at
// most `max_events` of them, and (when paged) ending once the answer passes
// half of max_bytes; a page that more follow names its last index as
// "next" (docs/api.md, "Governance").
struct HistoryPage {
  std::optional<uint64_t> after;
  size_t max_events = SIZE_MAX;
};

// 200 with the history (or the page of it), or 404 (with `size` and the
// absence proof) when the serial has no events; 500 when the store fails.
HttpResponse history_answer(const Ledger& ledger, const std::string& serial, uint64_t size,
                            size_t max_bytes = kNoAnswerLimit, const HistoryPage& page = {});

// 200 with every serial's history, each event once; 500 when the store
// fails. The serials are checked by the caller.
HttpResponse histories_answer(const Ledger& ledger, const std::vector<std::string>& serials,
                              uint64_t size, size_t max_bytes = kNoAnswerLimit);

// 200 with the serial's record and its presence proof, or a null record
// and its absence proof; 500 when the store fails.
HttpResponse state_answer(const Ledger& ledger, const std::string& serial, uint64_t size);

}  // namespace chipledger
