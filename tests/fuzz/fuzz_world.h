// The fixed world of the fuzz targets and of their corpus generator
// (tests/fuzz/gen/make_corpus.cc): a consortium whose keys come from fixed
// Ed25519 seeds, so the checked-in corpus (signed transactions, blocks,
// snapshots, notes, answers) stays valid for the targets that check
// signatures, and a short custody story played into an in-memory ledger.
// Header-only; depends on the ledger and crypto modules only.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "ledger/block.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"
#include "ledger/memory_store.h"
#include "ledger/transaction.h"

namespace chipledger::fuzz {

inline constexpr uint64_t kT0 = 1790000000000;  // the story's first block time (ms)
inline constexpr const char* kLedgerId = "chipledger.fuzz/ledger";
inline constexpr const char* kNodeId = "node-1";

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::cerr << "fuzz world: " << what << ": " << r.reason() << std::endl;
    std::abort();
  }
  return std::move(r).value();
}

inline PrivateKey seeded_key(uint8_t n) {
  return must(PrivateKey::ed25519_from_seed(Bytes(32, n)), "seeded key");
}

struct World {
  Consortium consortium;
  std::map<std::string, PrivateKey> keys;  // member id -> its key
  PrivateKey node_key;                     // kNodeId's checkpoint key

  Transaction tx(const std::string& author, TxType type, uint64_t time_ms) const {
    Transaction t;
    t.type = type;
    t.ledger_id = kLedgerId;
    t.author = author;
    t.key_id = keys.at(author).public_key().key_id();
    t.time_ms = time_ms;
    return t;
  }
  SignedTransaction sign(const Transaction& t) const {
    return must(sign_transaction(t, keys.at(t.author)), "signing");
  }
};

// maker (manufacturer, TW), dc (operator, US), reg (regulator, US), aud
// (auditor, DE); node-1 run by maker; quorum 1; H100 controlled, AE
// restricted.
inline const World& world() {
  static const World w = [] {
    Policy p;
    p.controlled_models = {"H100"};
    p.controlled_eccns = {"3A090"};
    p.restricted_destinations = {"AE"};
    auto c = must(Consortium::create(kLedgerId, 1, p), "consortium");
    std::map<std::string, PrivateKey> keys;
    struct M {
      const char* id;
      Role role;
      const char* country;
    };
    const M members[] = {{"maker", Role::manufacturer, "TW"},
                         {"dc", Role::operator_, "US"},
                         {"reg", Role::regulator, "US"},
                         {"aud", Role::auditor, "DE"}};
    uint8_t seed = 1;
    for (const auto& m : members) {
      PrivateKey key = seeded_key(seed++);
      if (!c.add_member(Member{m.id, m.id, {m.role}, m.country, {key.public_key()}, false}))
        std::abort();
      keys.emplace(m.id, std::move(key));
    }
    PrivateKey node_key = seeded_key(100);
    if (!c.add_node(NodeInfo{kNodeId, "maker", node_key.public_key(), "", 0, ""})) std::abort();
    return World{std::move(c), std::move(keys), std::move(node_key)};
  }();
  return w;
}

inline std::unique_ptr<Ledger> fresh_ledger() {
  return must(Ledger::open(std::make_unique<MemoryStore>(), world().consortium), "ledger");
}

// The story's blocks, each accepted whole: a register of four chips, a
// transfer of two to dc, dc's accept, then an install, a flag and a license.
inline std::vector<Block> make_story_blocks() {
  const World& w = world();
  std::vector<Block> blocks;
  uint64_t t = kT0;
  std::map<std::string, Hash> last;  // serial -> its latest event
  auto refs = [&](std::vector<std::string> serials) {
    std::vector<SerialRef> out;
    for (auto& s : serials) out.push_back(SerialRef{s, last.at(s)});
    return out;
  };
  auto add = [&](std::vector<Transaction> txs) {
    Block b{t, {}};
    for (auto& tx : txs) {
      b.txs.push_back(w.sign(tx));
      for (const auto& s : tx.serials()) last[s] = b.txs.back().txid;
    }
    blocks.push_back(std::move(b));
    t += 1000;
  };

  Transaction reg = w.tx("maker", TxType::register_chips, t);
  reg.model = "H100";
  reg.eccn = "3A090";
  reg.fab_site = "Fab 18";
  reg.country = "TW";
  for (const char* s : {"GPU-0001", "GPU-0002", "GPU-0003", "GPU-0004"}) {
    reg.registrations.push_back({s, {}});
  }
  add({reg});

  Transaction transfer = w.tx("maker", TxType::transfer, t);
  transfer.to = "dc";
  transfer.ship_to_country = "US";
  transfer.refs = refs({"GPU-0001", "GPU-0002"});
  add({transfer});

  Transaction accept = w.tx("dc", TxType::accept, t);
  accept.refs = refs({"GPU-0001", "GPU-0002"});
  add({accept});

  Transaction install = w.tx("dc", TxType::install, t);
  install.site = "ashburn-1";
  install.country = "US";
  install.refs = refs({"GPU-0001"});
  Transaction flag = w.tx("reg", TxType::flag, t);
  flag.reason = "suspected diversion";
  flag.refs = refs({"GPU-0003"});
  Transaction license = w.tx("reg", TxType::license, t);
  license.license = LicenseTerms{"EXP-1", "maker", "dc", "H100", "", 10, "AE", kT0 + 86400000};
  add({install, flag, license});
  return blocks;
}

// The same, signed once per process.
inline const std::vector<Block>& story_blocks() {
  static const std::vector<Block> blocks = make_story_blocks();
  return blocks;
}

// A ledger with the first `n` blocks of the story applied (every
// transaction accepted), at Raft entries 1..n.
inline std::unique_ptr<Ledger> story_ledger(size_t n) {
  auto ledger = fresh_ledger();
  const auto& blocks = story_blocks();
  for (size_t i = 0; i < n && i < blocks.size(); ++i) {
    std::vector<PendingTx> txs;
    for (const auto& tx : blocks[i].txs) txs.push_back(PendingTx{tx, false});
    auto outcomes = must(ledger->apply_block(std::move(txs), blocks[i].time_ms, i + 1), "story");
    for (const auto& o : outcomes) {
      if (!o.accepted) {
        std::cerr << "fuzz world: story block " << i << " refused: " << o.reason << std::endl;
        std::abort();
      }
    }
  }
  return ledger;
}

// The time node-1 signs the story's checkpoint at (POSIX seconds), and a
// verifier's clock shortly after it (ms).
inline constexpr uint64_t kCheckpointTime = kT0 / 1000 + 10;
inline constexpr uint64_t kVerifierNowMs = kT0 + 20000;

// node-1's checkpoint note on `ledger` at its size.
inline std::string checkpoint_note(const Ledger& ledger) {
  uint64_t size = ledger.size();
  Hash root = must(ledger.root_at(size), "root");
  Hash state_root = must(ledger.state_root_at(size), "state root");
  Checkpoint cp = Checkpoint::make(kLedgerId, size, root, state_root);
  return must(sign_checkpoint(cp, kNodeId, world().node_key, kCheckpointTime), "checkpoint");
}

}  // namespace chipledger::fuzz
