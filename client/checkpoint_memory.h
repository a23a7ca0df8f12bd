// What this client verified before: per ledger, the largest checkpoint it
// accepted (size, root and the signed note), kept in a small JSON state
// file (default $XDG_STATE_HOME/chipledger/checkpoints.json, else
// ~/.local/state/chipledger/checkpoints.json; `--state FILE` chooses
// another). A node that serves an older checkpoint than one the client has
// seen, or one that does not extend it, is caught here: judge() says how a
// new quorum-signed checkpoint relates to the remembered one, given the
// node's RFC 9162 consistency proof between them. Two quorum-signed
// checkpoints that cannot both be true are kept as evidence
// (write_split_view_evidence) naming the signers of both.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/result.h"
#include "crypto/sha256.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"

namespace chipledger {

struct RememberedCheckpoint {
  uint64_t size = 0;
  Hash root{};
  std::string note;  // the signed note as verified
  // Where it comes from, as reasons name it; empty: this client verified it
  // before (the state file).
  std::string origin;
  // The nodes whose signatures verified, when known (an anchor's); else
  // evidence verifies the note again.
  std::vector<std::string> signers;
};

class CheckpointMemory {
 public:
  static std::string default_path();
  // A missing file is an empty memory; a file that does not parse is an
  // error (it is never overwritten then).
  static Result<CheckpointMemory> load(std::string path);

  const std::string& path() const { return path_; }
  std::optional<RememberedCheckpoint> get(std::string_view ledger_id) const;
  // An anchor: a checkpoint every later one must extend, besides the state
  // file's, kept for this run only (a derived trust file's checkpoint,
  // verified when the file was loaded; client/derived_trust.h). A client
  // with an empty state file is then no easier to show an older log or a
  // fork of one than a client that verified that checkpoint itself.
  void add_anchor(const std::string& ledger_id, RememberedCheckpoint cp);
  // What a new checkpoint must extend: the anchors, then the state file's.
  std::vector<RememberedCheckpoint> must_extend(std::string_view ledger_id) const;
  // Keeps `cp` when it is larger than the remembered one (else nothing
  // changes) and writes the file atomically (a temp file renamed over it).
  Status remember(const std::string& ledger_id, const RememberedCheckpoint& cp);

 private:
  explicit CheckpointMemory(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::string text_;  // the file's JSON, "{}" when new
  std::vector<std::pair<std::string, RememberedCheckpoint>> anchors_;
};

// The memory's key for a consortium: its ledger id and a digest of its
// node ids and keys ("ID#hex16"). A ledger made again under the same id
// (a demo run afresh) has new node keys, hence a memory of its own; a fork
// signed by the same keys shares one.
std::string memory_key(const Consortium& consortium);

// How a newly verified checkpoint relates to the remembered one.
enum class CheckpointRelation {
  first,    // nothing remembered for this ledger
  same,     // the same size and root
  extends,  // larger, and the consistency proof shows it extends the remembered one
  older,    // smaller than the remembered one: a rollback (or a lagging node)
  forked,   // the same size with another root, or a proof that it extends fails
};
struct CheckpointJudgement {
  CheckpointRelation relation = CheckpointRelation::first;
  std::string reason;  // for older and forked
  bool acceptable() const {
    return relation != CheckpointRelation::older && relation != CheckpointRelation::forked;
  }
};

// `proof`: the node's consistency proof from the remembered size to the new
// one (used only when the new checkpoint is larger).
CheckpointJudgement judge_checkpoint(const std::optional<RememberedCheckpoint>& before,
                                     const Checkpoint& now, std::span<const Hash> proof);

// A new checkpoint judged against everything the memory says it must
// extend (CheckpointMemory::must_extend), with the node's consistency
// proofs (fetched only for a larger checkpoint): the first judgement that
// is not acceptable, with the checkpoint it was judged against and the
// proof, or an acceptable one. An error only when a proof cannot be had.
struct MemoryJudgement {
  CheckpointJudgement judgement;
  std::optional<RememberedCheckpoint> against;
  std::vector<Hash> proof;
};
using ConsistencyFetch = std::function<Result<std::vector<Hash>>(uint64_t from, uint64_t to)>;
Result<MemoryJudgement> judge_against_memory(const CheckpointMemory& memory,
                                             std::string_view ledger_id, const Checkpoint& now,
                                             const ConsistencyFetch& consistency);

// Writes both notes, their signers and the reason to a new evidence file
// next to the state file (checkpoints-split-view-<time>.json); its path.
Result<std::string> write_split_view_evidence(
    const CheckpointMemory& memory, const std::string& ledger_id,
    const RememberedCheckpoint& before, const std::vector<std::string>& before_signers,
    const std::string& now_note, const std::vector<std::string>& now_signers,
    std::span<const Hash> proof, const std::string& reason);

}  // namespace chipledger
