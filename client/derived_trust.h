// A derived trust file (`chipledger trust --out`, docs/governance.md,
// section 5): the consortium in force at a quorum-signed checkpoint, as a
// trust file, with the proof of how it follows from the genesis trust file:
// the checkpoint note and the governance history at its size, as the node
// answered them. Anyone holding the genesis file checks it offline. Pure.
//
// It shows who the members, keys, nodes and policy are now, and carries
// the genesis file it was derived from (`derived.genesis`). It is not a
// genesis: Consortium::from_json refuses it, so a node does. The CLI takes
// it as its trust file: it follows the governance from the genesis inside,
// and every checkpoint it accepts must extend the derived file's (an
// anchor of its checkpoint memory), so a fork of the log from before that
// checkpoint, signed by an earlier node set, is refused.
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
  std::string genesis_text;  // the genesis file it carries, byte for byte
  Consortium genesis;
  Consortium consortium;  // in force at the checkpoint
  VerifiedCheckpoint checkpoint;
  std::string note;                 // the checkpoint note, as signed
  uint64_t governance_events = 0;   // the governance transactions followed
  uint64_t governance_changes = 0;  // how many times they changed the consortium
};

// The derived file's text from the genesis file (`genesis_text` as read),
// a checkpoint note and the node's governance history
// answer at its size (`history_answer`: the JSON text; empty for a 404
// without a body). Checked with check_derived_trust before it is returned.
Result<std::string> make_derived_trust(std::string_view genesis_text, const std::string& note,
                                       const std::string& history_answer);

// Whether `text` is a derived trust file (a JSON object with "derived").
bool is_derived_trust(std::string_view text);

// Checks a derived file against the genesis file it carries: that genesis
// (its SHA-256 as stated), the note's quorum by the nodes in force at its
// size, every governance transaction's signature, inclusion and replay,
// none left out, and the stated consortium exactly the replay's, field for
// field. The reason says which fails.
Result<DerivedTrust> check_derived_trust(std::string_view derived_text);
// The same, and derived from this genesis file (`genesis_text`, byte for
// byte): `trust --check FILE` against the genesis its user holds.
Result<DerivedTrust> check_derived_trust(std::string_view genesis_text,
                                         std::string_view derived_text);

}  // namespace chipledger
