// The cosignatures one node holds on its ledger's checkpoints (docs/
// checkpoint.md, "Cosigning"), as a pure bookkeeper: no I/O, no threads, no
// clock (times come in as arguments). Per log size it keeps the log root,
// the state root (the checkpoint's "state-root" line) and,
// per node, that node's newest valid tlog-cosignature/v1; it tells which
// checkpoint has a quorum, renders the notes, and applies the fail-stop
// rule. The owner (node/checkpoint_publisher.h) serialises calls, persists
// the entries it is handed back and reads back older sizes (recall()).
//
// Guarantees:
// - every signature kept verifies as a cosignature by the node the
//   consortium lists under its name, on this ledger's checkpoint text;
// - only signatures by nodes in force at a size (Ledger::consortium_at)
//   count there and are shown to peers: one that waited ahead of this
//   node's log is judged again by the nodes in force once the size is
//   reached, and a peer's note with some signatures by nodes not in force
//   is taken without them (this node's own is shown even after its removal);
// - per node and size the newest time wins: an older or equal time never
//   replaces a newer one, so a node's signature never goes back in time;
// - a peer's note with a signature time more than `max_future_seconds` after
//   the caller's clock is refused whole;
// - peers' signatures are kept only on the log root AND the state root this
//   node's own ledger has at that size (a size it has not reached waits,
//   bounded, until it does, and is compared on both then);
// - fail-stop: once this node signed (size, root, state root) it never signs
//   another log root or state root at that size, and when it is shown its
//   own valid signature on other roots than its ledger's, or its ledger's
//   roots at a size it signed differ from what it signed, the book fails and
//   refuses everything after.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.h"
#include "crypto/signed_note.h"
#include "ledger/consortium.h"

namespace chipledger {

// One node's cosignature with the time it carries (POSIX seconds).
struct TimedSignature {
  NoteSignature sig;
  uint64_t time = 0;
};

// The signatures on one checkpoint size.
struct CosignedSize {
  Hash root{};                                    // the log root
  Hash state_root{};                              // the state map's root (the "state-root" line)
  std::map<std::string, TimedSignature> by_node;  // node id -> its newest valid cosignature
};

// A checkpoint as the node serves it.
struct ServedCheckpoint {
  std::string note;  // the signed note with every signature kept (empty: none yet)
  uint64_t size = 0;
  Hash root{};
  Hash state_root{};
  std::vector<std::string> signers;  // node ids, sorted
  std::vector<uint64_t> times;       // each signer's signature time, same order
  bool quorum = false;               // signers.size() >= the consortium's quorum
  uint64_t fresh_as_of = 0;          // the quorum-th newest time (0 without a quorum)
};

// What CosignatureBook::add() did with a peer's note.
struct CosignOutcome {
  enum class Kind {
    kept,      // merged into this node's checkpoint at that size
    pending,   // this node has not applied that size yet: kept in memory until it has
    refused,   // bad note, unknown node, bad signature, time in the future (status 400/403)
    conflict,  // the log or state root differs from this node's at that size (409)
    stopped    // this node failed (fail-stop) and takes nothing (503)
  };
  Kind kind = Kind::refused;
  uint64_t size = 0;
  std::vector<std::string> signers;  // every signer kept at that size afterwards
  std::string reason;                // for refused, conflict and stopped
  bool changed = false;              // kept: the entry changed (persist it)
  bool needs_own = false;            // kept: this node has no signature of its own there yet
  std::string warning;               // something the owner should log
};

// A peer's note, parsed and every signature verified.
struct CheckedNote {
  uint64_t size = 0;
  std::string text;  // the checkpoint body
  CosignedSize entry;
};

class CosignatureBook {
 public:
  struct Options {
    size_t recent_sizes = 1024;  // sizes kept in memory (older ones: recall())
    size_t ahead_sizes = 1024;   // sizes ahead of this node's log peers' signatures may wait for
    uint64_t max_future_seconds = 600;  // a peer's signature time may be this far ahead
  };

  // The consortium whose nodes and quorum judge the checkpoint of a size
  // (Ledger::consortium_at: the nodes in force at that size).
  using ConsortiumAt = std::function<std::shared_ptr<const Consortium>(uint64_t size)>;
  CosignatureBook(ConsortiumAt consortium_at, std::string self, Options options);
  // One consortium for every size (a ledger whose nodes never change).
  CosignatureBook(const Consortium& consortium, std::string self, Options options);

  // The checkpoint body this ledger writes for (size, root, state root).
  std::string text(uint64_t size, const Hash& root, const Hash& state_root) const;

  // A peer's wire note, checked: a checkpoint of this ledger with exactly
  // the one "state-root" extension line, at least one signature by a node
  // in force at its size, every such one a valid cosignature, none more than
  // max_future_seconds after `now_seconds`; signatures by nodes not in force
  // there are left out unverified.
  // Form, ledger and canonical text are checked before any signature, and a
  // note with more signature lines than the consortium has nodes is refused
  // unparsed: the work a hostile note costs is bounded.
  Result<CheckedNote> check(std::string_view note, uint64_t now_seconds) const;

  // A note this node stored at `size` read back: its valid signatures
  // (nullopt: none, or not a checkpoint of this size as this ledger writes
  // it: notes stored before checkpoints carried a state root do not count).
  std::optional<CosignedSize> parse_stored(std::string_view note, uint64_t size) const;

  // Whether `size` is in memory; recall() puts a stored entry back (the
  // owner calls it before sign_own()/add() when remembers() is false).
  bool remembers(uint64_t size) const { return recent_.count(size) != 0; }
  void recall(uint64_t size, CosignedSize entry);

  // This node's own signature on (size, root, state_root), the roots being
  // its ledger's at `size`. Replaces its older signature there; merges
  // peers' signatures that waited for this size. Fails (fail-stop) when it
  // signed another log or state root at `size` before, or a waiting peer
  // note carries its own signature on other roots. On success: the note to
  // persist, and a warning to log (peers' signatures on other roots,
  // dropped) if any.
  struct Signed {
    std::string note;
    std::string warning;
  };
  Result<Signed> sign_own(uint64_t size, const Hash& root, const Hash& state_root,
                          TimedSignature own);

  // A peer's checked note. `own_size` is this node's log size; `own_root`
  // and `own_state_root` its log and state roots at note.size when
  // note.size <= own_size.
  CosignOutcome add(const CheckedNote& note, uint64_t own_size, const std::optional<Hash>& own_root,
                    const std::optional<Hash>& own_state_root);

  // This node's own signature time at `size`, if it holds one in memory.
  std::optional<uint64_t> own_time(uint64_t size) const;
  // The note at `size` with every signature kept (memory only).
  std::optional<std::string> note_at(uint64_t size) const;

  // The newest checkpoint with a quorum, else the newest one.
  ServedCheckpoint served() const;
  // The newest checkpoint this node signed, with every signature it has.
  ServedCheckpoint newest() const;
  std::optional<uint64_t> quorum_size() const;

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  const std::string& self() const { return self_; }

 private:
  std::string render(uint64_t size, const CosignedSize& s) const;
  ServedCheckpoint view(uint64_t size, const CosignedSize& s) const;
  CosignOutcome add_ahead(const CheckedNote& note);  // a size this node has not reached
  void keep(uint64_t size, const CosignedSize& s);   // memory and views
  Status fail(std::string reason);

  ConsortiumAt consortium_at_;
  std::string ledger_id_;
  std::string self_;
  Options options_;
  std::map<uint64_t, CosignedSize> recent_;  // the newest sizes this node signed
  std::map<uint64_t, CosignedSize> ahead_;   // peers' signatures on sizes not reached yet
  std::optional<ServedCheckpoint> newest_;
  std::optional<ServedCheckpoint> quorum_cp_;
  std::string failure_;
};

// Merges `from` into `into` by the newest-time rule; true when `into` changed.
bool merge_newest(std::map<std::string, TimedSignature>& into,
                  const std::map<std::string, TimedSignature>& from);

}  // namespace chipledger
