// What a checkpoint's state map proves about one serial, from a node's
// evidence (SerialEvidence: the record it gives, or none, and the state
// map's proof): the serial's committed record, or that it was never
// registered at the checkpoint's size. Pure; nothing in the evidence is
// trusted until this returns it.
#pragma once

#include <optional>

#include "crypto/result.h"
#include "ledger/checkpoint.h"
#include "ledger/serial_record.h"
#include "verify/custody_evidence.h"

namespace chipledger {

// The proven record, or nullopt when the map proves the serial absent. An
// error says why the evidence proves neither: no state at all, a proof that
// does not decode or does not check against the checkpoint's state root,
// a record that does not decode, or a checkpoint without a state root.
Result<std::optional<SerialRecord>> proven_state(const Checkpoint& checkpoint,
                                                 const SerialEvidence& serial);

}  // namespace chipledger
