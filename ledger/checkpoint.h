// Checkpoints: the ledger's commitment (origin = ledger id, log size, log
// root, and the state map's root in the one extension line "state-root
// BASE64") as a C2SP tlog-checkpoint body, signed by nodes as a C2SP
// signed note whose signatures are C2SP tlog-cosignature/v1 (each says
// when it was made). A client trusts a checkpoint only when a quorum of the consortium's
// node keys signed it, and judges its freshness by the times they signed
// at. Format: docs/checkpoint.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.h"
#include "crypto/signed_note.h"
#include "ledger/consortium.h"

namespace chipledger {

// The extension line's keyword: "state-root " + base64(32-byte state root).
inline constexpr std::string_view kStateRootKeyword = "state-root";

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // extra lines, opaque to tlog tools

  // The checkpoint this ledger writes: (origin, size, root) and exactly one
  // extension line, "state-root base64(state_root)".
  static Checkpoint make(std::string origin, uint64_t size, Hash root, Hash state_root);

  // The state root its one "state-root" extension line commits to; nullopt
  // when there is none, more than one, or it is not the canonical base64
  // of 32 bytes.
  std::optional<Hash> state_root() const;

  std::string text() const;  // "origin\nsize\nbase64(root)\n[ext\n...]"
  static Result<Checkpoint> parse(std::string_view text);
};

// The extension line committing to `state_root`.
std::string state_root_line(const Hash& state_root);

// Cosigns the checkpoint as node `node_id` at `time_seconds` (POSIX) and
// renders the signed note.
Result<std::string> sign_checkpoint(const Checkpoint& cp, const std::string& node_id,
                                    const PrivateKey& node_key, uint64_t time_seconds);

// The time of `sig` when it is a valid cosignature on `text` by the node the
// consortium lists under its name; else why not.
Result<uint64_t> verify_node_cosignature(const Consortium& consortium, std::string_view text,
                                         const NoteSignature& sig);

// The time such that `quorum` of `times` (one per distinct signer) are at or
// after it: the quorum-th newest. 0 when there are fewer than `quorum`.
uint64_t quorum_time(std::vector<uint64_t> times, uint32_t quorum);

struct SignedAt {
  std::string node_id;
  uint64_t time = 0;  // POSIX seconds: the newest valid cosignature by this node in the note
};

struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  std::vector<std::string> signers;  // node ids whose signatures verified, sorted
  std::vector<SignedAt> signed_at;   // the same nodes, in the same order, with times
  // Freshness (POSIX seconds): a quorum of distinct nodes signed at or after
  // it (the quorum-th newest signature time).
  uint64_t fresh_as_of = 0;

  // How long before `now_ms` the checkpoint's freshness lies (0 when it is
  // in the future).
  uint64_t age_ms(uint64_t now_ms) const;
};

// Parses a signed checkpoint note and checks it against the consortium:
// origin is the ledger id, it commits to a state root (a well-formed
// "state-root" line) and at least `quorum` distinct nodes signed it.
// Signatures by unknown names, by a known name under another key hash (a
// plain signed-note signature, say) or that do not verify are ignored, as
// signed-note specifies; of a node's several valid ones the newest counts.
// Freshness is reported, not judged: see checkpoint_age_status().
Result<VerifiedCheckpoint> verify_checkpoint(const Consortium& consortium, std::string_view note);

// Ok when the checkpoint's freshness is at most the policy's
// max_checkpoint_age_ms before `now_ms`; else an error naming the age and
// the limit.
Status checkpoint_age_status(const VerifiedCheckpoint& cp, const Policy& policy, uint64_t now_ms);

}  // namespace chipledger
