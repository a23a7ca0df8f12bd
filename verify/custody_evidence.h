// The evidence a node gives for serials at one log size, in typed form:
// decoded once from its API answer (decode_history / decode_histories,
// client/node_client.h) and checked by CustodyVerifier. Each event appears
// once however many serials share it: its log index, the leaf bytes (the
// signed transaction as the log stores it), its inclusion proof and, for an
// attestation, the consistency proof of the checkpoint it names. Nothing
// here is trusted or checked yet.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/sha256.h"

namespace chipledger {

struct EventEvidence {
  uint64_t index = 0;
  Bytes leaf;               // the signed transaction's wire bytes (SignedTransaction::wire)
  std::vector<Hash> proof;  // inclusion proof of the leaf at `index`, tree of the answer's size
  // For an attestation: the consistency proof from the checkpoint its chips
  // signed to the answer's size (docs/api.md, "Attestations"); nullopt when
  // the answer gave none.
  std::optional<std::vector<Hash>> consistency;
  bool operator==(const EventEvidence&) const = default;
};

// One serial's part of an answer.
struct SerialEvidence {
  std::string serial;
  std::vector<uint64_t> indices;  // its events as the node lists them; empty: none
  // The serial's state at the answer's size as the node gives it (docs/api.md,
  // "State proofs"): its record's encoding (nullopt: the node says it was
  // not registered then) and the state map's proof (StateProof::encode()).
  // has_state false: the answer carried no state at all.
  bool has_state = false;
  std::optional<std::string> state_record;
  Bytes state_proof;
};

struct HistoryEvidence {
  uint64_t size = 0;  // the log size the answer is for
  std::vector<SerialEvidence> serials;
  std::map<uint64_t, EventEvidence> events;  // by log index

  // The serial's part, or nullptr when the answer lacks it.
  const SerialEvidence* find(std::string_view serial) const {
    for (const auto& s : serials) {
      if (s.serial == serial) return &s;
    }
    return nullptr;
  }
  const EventEvidence* event(uint64_t index) const {
    auto it = events.find(index);
    return it == events.end() ? nullptr : &it->second;
  }
};

}  // namespace chipledger
