// Receipts: a submitting client believes "accepted at log index I" only
// when the node proves it. check_receipt() waits (until a deadline) for a
// checkpoint of more than I entries that a quorum of the trust file's nodes
// signed, fresh under the trust file's max_checkpoint_age_seconds, and that
// extends what this client verified before
// (CheckpointMemory), then checks the node's RFC 9162 inclusion proof of
// the exact signed bytes the client submitted at I against that
// checkpoint's root. A node that answers "accepted" for a transaction it
// dropped, or at another index, gets no receipt: the outcome is then
// unknown, never "accepted".
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "client/checkpoint_memory.h"
#include "client/node_client.h"
#include "ledger/consortium.h"

namespace chipledger {

struct Receipt {
  uint64_t index = 0;
  std::vector<Hash> proof;  // inclusion of the transaction at index in the checkpoint
  std::string checkpoint_note;
  uint64_t checkpoint_size = 0;
  std::vector<std::string> signers;
  nlohmann::json to_json() const;  // {"index","proof":[hex],"checkpoint":{"size","signers","note"}}
};

// `wire`: the signed transaction as submitted; `index`: where the node says
// it is. `memory` may be null (no memory kept). A failed Result says why
// there is no receipt.
Result<Receipt> check_receipt(NodeClient& node, const Consortium& consortium, ByteView wire,
                              uint64_t index, CheckpointMemory* memory,
                              std::chrono::steady_clock::time_point deadline);

}  // namespace chipledger
