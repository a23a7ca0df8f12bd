// A node's evidence answers (docs/api.md: history, histories, state)
// decoded into typed evidence (verify/custody_evidence.h), nothing trusted
// or checked yet: custody_verifier's job. Pure JSON decoding, kept apart
// from NodeClient's HTTP so that tests/fuzz/node_answer_fuzz.cc links it
// without the network code. A malformed answer is an error saying what is
// wrong.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "crypto/result.h"
#include "verify/custody_evidence.h"

namespace chipledger {

// GET /v1/chips/SERIAL/history?size=SIZE's answer (nullopt: the node's 404,
// no events: then the evidence lists the serial with no events at `size`).
Result<HistoryEvidence> decode_history(const std::string& serial,
                                       const std::optional<nlohmann::json>& answer, uint64_t size);
// GET /v1/chips/SERIAL/state?size=SIZE's answer: the serial's record (or
// none) and the state map's proof, unchecked (proven_state() checks them).
// An answer for another serial or size is an error.
Result<SerialEvidence> decode_state_answer(const std::string& serial, uint64_t size,
                                           const nlohmann::json& answer);
// POST /v1/histories's answer: each serial's indices (null: no events) and
// each event once, keyed by its index.
Result<HistoryEvidence> decode_histories(const nlohmann::json& answer);

}  // namespace chipledger
