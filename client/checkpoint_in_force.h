// A node's checkpoint note judged as `verify` judges it, for the commands
// that need only the checkpoint (receipts, attest): the governance history
// at its size fetched, checked and followed from the genesis trust file,
// then the note's quorum checked by the nodes in force at that size
// (docs/governance.md, sections 5 and 6). A lying node that withholds a
// node change, or a removed node's signature, gets no checkpoint believed.
#pragma once

#include <string>

#include "client/node_client.h"
#include "crypto/result.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"

namespace chipledger {

struct CheckpointInForce {
  VerifiedCheckpoint checkpoint;
  Consortium consortium;  // in force at the checkpoint's size (its policy judges freshness)
};

Result<CheckpointInForce> verify_checkpoint_in_force(NodeClient& node, const Consortium& genesis,
                                                     const std::string& note);

}  // namespace chipledger
