#include "verify/proven_state.h"

#include "ledger/state_proof.h"

namespace chipledger {

Result<std::optional<SerialRecord>> proven_state(const Checkpoint& checkpoint,
                                                 const SerialEvidence& serial) {
  using R = Result<std::optional<SerialRecord>>;
  auto root = checkpoint.state_root();
  if (!root) return R::error("the checkpoint commits to no state root");
  if (!serial.has_state) {
    return R::error("the node's answer carries no state proof for serial " + serial.serial +
                    ": its history cannot be shown complete");
  }
  const std::string what = "the state proof of serial " + serial.serial;
  auto proof = StateProof::decode(serial.state_proof);
  if (!proof) return proof.status().context(what);
  if (!serial.state_record) {
    CL_TRY(verify_state_absence(*root, serial.serial, *proof).context(what));
    return std::optional<SerialRecord>();
  }
  CL_TRY(verify_state_presence(*root, serial.serial, *serial.state_record, *proof).context(what));
  auto record = SerialRecord::decode(*serial.state_record);
  if (!record) return record.status().context("the state record of serial " + serial.serial);
  return std::optional<SerialRecord>(std::move(*record));
}

}  // namespace chipledger
