// This node's checkpoints and the signatures its peers add to them
// (docs/checkpoint.md, "Cosigning" and "Freshness"): the thin composition
// of four parts with one job each, which the rest of the node uses.
//   - CosignatureBook (ledger/cosignature_book.h): the signatures per size,
//     the quorum, the newest-time rule and the fail-stop rule (pure);
//   - CheckpointStore: the ledger's checkpoint column;
//   - CheckpointSigner: this node's tlog-cosignature/v1, dated by its clock;
//   - CheckpointNotifier: the version and the when_cosigned() waiters.
// After each applied block refresh() cosigns (ledger id, size, log root,
// state root: Ledger::state_root_at(size)) and
// keeps the note; resign_if_due() (called by a ResignTimer) does the same
// when this node's signature on its current checkpoint is older than the
// re-signing interval, so an idle ledger's checkpoint stays fresh. Peers
// send their signatures (add_signatures(), POST /v1/checkpoint/signatures).
// served() is the newest checkpoint with a quorum of valid node
// signatures, or, while none has one, the newest with a flag.
//
// Fail-stop: when this node's own ledger disagrees with a checkpoint this
// node signed (a different log or state root at a size it signed before, or
// a peer shows it its own valid signature on other roots), it signs nothing
// more and calls
// the fatal handler: the node stops instead of going on.
// Every method is safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "crypto/keys.h"
#include "ledger/cosignature_book.h"
#include "ledger/ledger.h"
#include "node/checkpoint_notifier.h"
#include "node/checkpoint_signer.h"
#include "node/checkpoint_store.h"

namespace chipledger {

struct CheckpointPublisherOptions {
  CheckpointSigner::Clock now_ms = CheckpointSigner::system_ms;  // the signing clock
  uint64_t resign_interval_seconds = 60;  // node.toml [checkpoint] resign_interval_seconds
};

class CheckpointPublisher {
 public:
  using FatalHandler = std::function<void(const std::string& reason)>;
  using Options = CheckpointPublisherOptions;

  CheckpointPublisher(Ledger& ledger, std::string node_id, PrivateKey key,
                      FatalHandler on_fatal = {}, Options options = {});
  ~CheckpointPublisher();  // close()
  CheckpointPublisher(const CheckpointPublisher&) = delete;
  CheckpointPublisher& operator=(const CheckpointPublisher&) = delete;

  // Cosigns the ledger's current size, log root and state root now (after
  // each block, and once at start), replacing this node's older signature
  // at that size. Fails, and stops the node (fatal), when this node signed
  // another log root or state root at this size before.
  Status refresh();
  // refresh() when this node's signature on the current size is at least
  // the re-signing interval old (or missing); true when it re-signed.
  Result<bool> resign_if_due();

  // A peer's signed checkpoint note: every signature must be by a node the
  // consortium lists and verify against its key (else refused, nothing
  // kept); the origin must be this ledger; no signature may be dated more
  // than the policy's clock skew ahead of this node's clock. Kept only when
  // its log root and state root are this node's at that size (else
  // conflict); refused at a size older than the state map keeps.
  CosignOutcome add_signatures(std::string_view note);

  // The newest checkpoint with a quorum of signatures, else the newest.
  ServedCheckpoint served() const;
  std::string latest() const { return served().note; }
  uint64_t latest_size() const { return served().size; }
  // The newest checkpoint this node signed, with every signature it has:
  // what it sends its peers. `version` grows with every signature of its own.
  ServedCheckpoint newest(uint64_t* version = nullptr) const;
  uint64_t version() const { return notifier_.version(); }
  // Blocks until version() > `seen` or `until` passes, or stop_waiting().
  uint64_t wait_for_version(uint64_t seen, std::chrono::steady_clock::time_point until) const {
    return notifier_.wait_for_version(seen, until);
  }
  void stop_waiting() { notifier_.stop_waiting(); }
  // Calls `done` once a checkpoint of at least `size` has a quorum, or at
  // `deadline`, whichever comes first (GET /v1/checkpoint: a client that
  // just had a transaction applied here gets a checkpoint covering it as
  // soon as the peers have cosigned it).
  void when_cosigned(uint64_t size, std::chrono::steady_clock::time_point deadline,
                     std::function<void()> done) {
    notifier_.when_cosigned(size, deadline, std::move(done));
  }
  // Calls every waiting when_cosigned() callback now (later ones at once):
  // before the HTTP server that carries their answers goes away.
  void close() { notifier_.close(); }

  bool failed() const;
  std::string failure() const;
  const std::string& node_id() const { return signer_.node_id(); }
  uint64_t resign_interval_seconds() const { return options_.resign_interval_seconds; }

 private:
  // Under mu_.
  Status recall(uint64_t size);  // the stored note at `size` into the book
  Status sign_current(std::string& newly_failed);

  Ledger& ledger_;
  FatalHandler on_fatal_;
  Options options_;
  mutable std::mutex mu_;
  CosignatureBook book_;
  CheckpointStore store_;
  CheckpointSigner signer_;
  CheckpointNotifier notifier_;
};

}  // namespace chipledger
