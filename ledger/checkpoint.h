// Checkpoints: the ledger's commitment (origin = ledger id, log size, log
// root) as a C2SP tlog-checkpoint body, signed by nodes as a C2SP signed
// note. A client trusts a checkpoint only when a quorum of the consortium's
// node keys signed it. Format: docs/checkpoint.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/sha256.h"
#include "crypto/signed_note.h"
#include "ledger/consortium.h"

namespace chipledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // extra lines, opaque to tlog tools

  std::string text() const;  // "origin\nsize\nbase64(root)\n[ext\n...]"
  static Result<Checkpoint> parse(std::string_view text);
};

// Signs the checkpoint as node `node_id` and renders the signed note.
Result<std::string> sign_checkpoint(const Checkpoint& cp, const std::string& node_id,
                                    const PrivateKey& node_key);

struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  std::vector<std::string> signers;  // node ids whose signatures verified
};

// Parses a signed checkpoint note and checks it against the consortium:
// origin is the ledger id and at least `quorum` distinct nodes signed it.
// Signatures by unknown names are ignored, as signed-note specifies.
Result<VerifiedCheckpoint> verify_checkpoint(const Consortium& consortium, std::string_view note);

}  // namespace chipledger
