// A derived trust file (`chipledger trust --out`, docs/governance.md,
// section 5): the consortium in force at a quorum-signed checkpoint, as a
// trust file, with the proof of how it follows from the genesis trust file:
// the checkpoint note and the governance history at its size, as the node
// answered them. Anyone holding the genesis file checks it offline. Pure.
//
// It shows who the members, keys, nodes and policy are now; it is not a
// genesis: Consortium::from_json refuses it, so every command and node
// that takes a trust file does (`verify` follows the governance from the
// genesis file itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"

namespace chipledger {

// The top-level field that marks a derived trust file.
inline constexpr std::string_view kDerivedField = "derived";

struct DerivedTrust {
  Consortium consortium;  // in force at the checkpoint
  VerifiedCheckpoint checkpoint;
  uint64_t governance_events = 0;   // the governance transactions followed
  uint64_t governance_changes = 0;  // how many times they changed the consortium
};

// The derived file's text from the genesis file (`genesis_text` as read),
// a checkpoint note and the node's governance history
// answer at its size (`history_answer`: the JSON text; empty for a 404
// without a body). Checked with check_derived_trust before it is returned.
Result<std::string> make_derived_trust(std::string_view genesis_text, const std::string& note,
                                       const std::string& history_answer);

// Checks a derived file against the genesis file's text: made from this
// genesis file (its SHA-256), the note's quorum by the genesis nodes, every
// governance transaction's signature, inclusion and replay, none left out,
// and the stated consortium exactly the replay's, field for field. The
// reason says which fails. (Consortium::from_json refuses a derived file.)
Result<DerivedTrust> check_derived_trust(std::string_view genesis_text,
                                         std::string_view derived_text);

}  // namespace chipledger
