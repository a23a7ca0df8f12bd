// This node's checkpoints and the signatures its peers add to them
// (docs/checkpoint.md, "Cosigning"). After each applied block refresh()
// signs (ledger id, size, root) with the node's Ed25519 key as a C2SP signed
// note and keeps it in the ledger's checkpoint column. Peers send their
// signatures on checkpoints (add_signatures(), POST /v1/checkpoint/signatures);
// each is verified against the node key the consortium lists before it is
// kept, and only when this node's own log has the same root at that size
// (a size this node has not reached yet waits in memory until it does).
// served() is the newest checkpoint with a quorum of valid node signatures,
// or, while none has one, the newest with a flag.
//
// Fail-stop: when this node's own log disagrees with a checkpoint this node
// signed (a different root at a size it signed before, or a peer shows it
// its own valid signature on another root), it signs nothing more and calls
// the fatal handler: the node stops instead of going on.
// Every method is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.h"
#include "crypto/signed_note.h"
#include "ledger/ledger.h"

namespace chipledger {

struct ServedCheckpoint {
  std::string note;  // the signed note with every signature kept (empty: none yet)
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> signers;  // node ids, sorted
  bool quorum = false;               // signers.size() >= the consortium's quorum
};

// What add_signatures() did with a peer's note.
struct CosignOutcome {
  enum class Kind {
    kept,     // merged into this node's checkpoint at that size
    pending,  // this node has not applied that size yet: kept in memory until it has
    refused,  // bad note, unknown node, bad signature (status 400/403)
    conflict  // the root differs from this node's log at that size (409)
  };
  Kind kind = Kind::refused;
  uint64_t size = 0;
  std::vector<std::string> signers;  // every signer kept at that size afterwards
  std::string reason;                // for refused and conflict
};

class CheckpointPublisher {
 public:
  using FatalHandler = std::function<void(const std::string& reason)>;

  CheckpointPublisher(Ledger& ledger, std::string node_id, PrivateKey key,
                      FatalHandler on_fatal = {});
  ~CheckpointPublisher();  // close()
  CheckpointPublisher(const CheckpointPublisher&) = delete;
  CheckpointPublisher& operator=(const CheckpointPublisher&) = delete;

  // Signs the ledger's current size and root (after each block, and once at
  // start). Fails, and stops the node (fatal), when this node signed another
  // root at this size before.
  Status refresh();

  // A peer's signed checkpoint note: every signature must be by a node the
  // consortium lists and verify against its key (else refused, nothing
  // kept); the origin must be this ledger.
  CosignOutcome add_signatures(std::string_view note);

  // The newest checkpoint with a quorum of signatures, else the newest.
  ServedCheckpoint served() const;
  std::string latest() const { return served().note; }
  uint64_t latest_size() const { return served().size; }
  // The newest checkpoint this node signed, with every signature it has:
  // what it sends its peers. `version` grows with every refresh().
  ServedCheckpoint newest(uint64_t* version = nullptr) const;
  uint64_t version() const;
  // Blocks until version() > `seen` or `until` passes, or stop_waiting().
  uint64_t wait_for_version(uint64_t seen, std::chrono::steady_clock::time_point until) const;
  void stop_waiting();
  // Calls `done` once a checkpoint of at least `size` has a quorum, or at
  // `deadline`, whichever comes first (at once when it has one already; else
  // on a thread of the publisher's). For GET /v1/checkpoint: a client that
  // just had a transaction applied here gets a checkpoint covering it as
  // soon as the peers have cosigned it.
  void when_cosigned(uint64_t size, std::chrono::steady_clock::time_point deadline,
                     std::function<void()> done);
  // Calls every waiting when_cosigned() callback now (later ones at once)
  // and joins the thread that runs them: before the HTTP server that
  // carries their answers goes away.
  void close();

  bool failed() const;
  std::string failure() const;
  const std::string& node_id() const { return node_id_; }

 private:
  struct Sigs {
    Hash root{};
    std::map<std::string, NoteSignature> by_node;  // verified signatures
  };

  // Under mu_.
  std::string render(uint64_t size, const Sigs& sigs) const;
  Status keep(uint64_t size, const Sigs& sigs);  // stores the note, updates served/newest
  void fatal(const std::string& reason);         // marks failed, calls the handler (once)
  std::optional<Sigs> stored(uint64_t size) const;
  ServedCheckpoint view(uint64_t size, const Sigs& sigs) const;

  Ledger& ledger_;
  std::string node_id_;
  PrivateKey key_;
  FatalHandler on_fatal_;
  uint32_t quorum_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<uint64_t, Sigs> recent_;  // the newest sizes this node signed
  std::map<uint64_t, Sigs> ahead_;   // peers' signatures on sizes this node has not reached
  std::optional<ServedCheckpoint> newest_;
  std::optional<ServedCheckpoint> quorum_cp_;
  uint64_t version_ = 0;
  bool stop_waiting_ = false;
  std::string failure_;

  struct Waiter {
    uint64_t size;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> done;
  };
  void run_waiters();
  std::vector<Waiter> waiters_;
  uint64_t waiters_added_ = 0;
  std::thread waiter_thread_;
  bool closing_ = false;
};

}  // namespace chipledger
