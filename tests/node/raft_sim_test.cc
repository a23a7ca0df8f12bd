// Deterministic simulation: libraft's own in-memory cluster (raft/fixture.h:
// simulated time, network and disks, one thread) drives the real state
// machine (node/raft_entry.h's apply step over a Ledger on MemoryStore) on
// every server. Each seed randomises election timeouts, latencies and a
// schedule of proposals, leader kills, revivals, partitions and message
// loss (saturated links); then the cluster heals. Afterwards every server
// holds the same log (size, root, last applied entry) and every block the
// leader acknowledged is present, transaction by transaction, on every
// server: no acknowledged transaction is lost. Snapshots of the ledger
// state are taken every few entries, so servers that were away also catch
// up from snapshots (Ledger::snapshot / restore).
#include <catch2/catch.hpp>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "node/raft_entry.h"
#include "tests/node/test_consortium.h"

extern "C" {
#include <raft.h>
#include <raft/fixture.h>
}

namespace chipledger {
namespace {

using namespace chipledger::testing;

struct Sim;

// A proposal in flight on the server that was leader when it was made.
struct Proposal {
  struct raft_apply req;
  Sim* sim = nullptr;
  unsigned server = 0;
  ProposedBlock block;
  std::vector<SignedTransaction> txs;  // what was proposed, for the final check
  const void* base = nullptr;
  std::vector<TxOutcome> outcomes;
  bool applied = false;
};

struct Server {
  Sim* sim = nullptr;
  unsigned index = 0;
  struct raft_fsm fsm {};
  std::unique_ptr<Ledger> ledger;
  std::map<raft_index, Proposal*> proposed;
  std::string failure;  // the FSM could not apply an entry
};

struct Acked {
  SignedTransaction tx;
  uint64_t log_index;
};

struct Sim {
  std::unique_ptr<TestConsortium> tc;
  struct raft_fixture f {};
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<Acked> acked;  // accepted transactions the leader answered
  unsigned acked_blocks = 0;
  unsigned failed_proposals = 0;
  unsigned snapshots = 0;
  unsigned restores = 0;  // snapshots installed on a server that was behind
};

int sim_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
  auto* s = static_cast<Server*>(fsm->data);
  *result = nullptr;
  if (!s->failure.empty()) return RAFT_IOERR;
  struct raft* r = raft_fixture_get(&s->sim->f, s->index);
  raft_index index = raft_last_applied(r) + 1;
  Proposal* mine = nullptr;
  if (auto it = s->proposed.find(index); it != s->proposed.end() && it->second->base == buf->base) {
    mine = it->second;
  }
  auto out =
      apply_entry(*s->ledger, index, ByteView(static_cast<const uint8_t*>(buf->base), buf->len),
                  mine ? &mine->block : nullptr);
  if (!out) {
    s->failure = out.reason();
    return RAFT_IOERR;
  }
  if (mine && out->has_value()) {
    mine->outcomes = std::move(**out);
    mine->applied = true;
    *result = mine;
  }
  return 0;
}

// Snapshots of the ledger state, as the Replicator takes and restores them.
int sim_snapshot(struct raft_fsm* fsm, struct raft_buffer** bufs, unsigned* n_bufs) {
  auto* s = static_cast<Server*>(fsm->data);
  auto state = s->ledger->snapshot();
  if (!state) return RAFT_IOERR;
  Bytes framed = frame_entry(*state);
  auto* array = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  array[0].len = framed.size();
  array[0].base = raft_malloc(framed.size());
  std::memcpy(array[0].base, framed.data(), framed.size());
  *bufs = array;
  *n_bufs = 1;
  ++s->sim->snapshots;
  return 0;
}

int sim_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
  auto* s = static_cast<Server*>(fsm->data);
  auto state = unframe_entry(ByteView(static_cast<const uint8_t*>(buf->base), buf->len));
  Result<bool> r = state ? s->ledger->restore(*state) : Result<bool>(state.status());
  if (!r) {
    s->failure = "restoring a snapshot: " + r.reason();
    return RAFT_IOERR;
  }
  raft_free(buf->base);
  if (*r) ++s->sim->restores;
  return 0;
}

void on_applied(struct raft_apply* req, int status, void* result) {
  auto* p = static_cast<Proposal*>(req->data);
  Server& s = *p->sim->servers[p->server];
  if (auto it = s.proposed.find(req->index); it != s.proposed.end() && it->second == p) {
    s.proposed.erase(it);
  }
  if (status == 0 && result == p && p->applied) {
    ++p->sim->acked_blocks;
    for (size_t i = 0; i < p->outcomes.size(); ++i) {
      if (p->outcomes[i].accepted) p->sim->acked.push_back({p->txs[i], p->outcomes[i].index});
    }
  } else {
    ++p->sim->failed_proposals;
  }
  delete p;
}

// Proposes a block of `txs` on server `i` (its leader view); false if refused.
bool propose(Sim& sim, unsigned i, std::vector<SignedTransaction> txs) {
  struct raft* r = raft_fixture_get(&sim.f, i);
  if (raft_state(r) != RAFT_LEADER) return false;
  auto* p = new Proposal{};
  p->sim = &sim;
  p->server = i;
  p->req.data = p;
  p->txs = txs;
  p->block.block.time_ms = kT0 + raft_fixture_time(&sim.f);
  for (auto& tx : txs) {
    p->block.block.txs.push_back(std::move(tx));
    p->block.checked.push_back(true);  // as if checked on arrival at this server
  }
  Bytes entry = encode_proposal(p->block);
  struct raft_buffer buf;
  buf.len = entry.size();
  buf.base = raft_malloc(buf.len);
  std::memcpy(buf.base, entry.data(), entry.size());
  p->base = buf.base;
  if (raft_apply(r, &p->req, &buf, 1, on_applied) != 0) {
    raft_free(buf.base);
    delete p;
    return false;
  }
  sim.servers[i]->proposed[p->req.index] = p;
  return true;
}

struct Outcome {
  bool converged = false;
  std::string why;
  unsigned acked_txs = 0;
  unsigned lost = 0;
  uint64_t log_size = 0;
  unsigned failed = 0;
  uint64_t term = 0;
  unsigned snapshots = 0;
  unsigned restores = 0;
};

Outcome run_seed(uint32_t seed, unsigned n_servers) {
  std::mt19937 rng(seed);
  auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  Sim sim;
  sim.tc = make_consortium("raft-sim", 1, 1);

  // A pool of transactions: mostly fresh registrations, some replays.
  std::vector<SignedTransaction> pool;
  for (int k = 0; k < 300; ++k) {
    pool.push_back(register_tx(*sim.tc, {"SIM-" + std::to_string(seed) + "-" + std::to_string(k)}));
  }
  size_t next_tx = 0;

  REQUIRE(raft_fixture_initialize(&sim.f) == 0);
  for (unsigned i = 0; i < n_servers; ++i) {
    auto s = std::make_unique<Server>();
    s->sim = &sim;
    s->index = i;
    s->ledger = open_memory_ledger(sim.tc->consortium);
    s->fsm.version = 1;
    s->fsm.data = s.get();
    s->fsm.apply = sim_apply;
    s->fsm.snapshot = sim_snapshot;
    s->fsm.restore = sim_restore;
    REQUIRE(raft_fixture_grow(&sim.f, &s->fsm) == 0);
    sim.servers.push_back(std::move(s));
  }
  for (unsigned i = 0; i < n_servers; ++i) {
    raft_fixture_set_randomized_election_timeout(&sim.f, i, 1000 + pick(1000));
    raft_fixture_set_network_latency(&sim.f, i, 5 + pick(40));
    raft_fixture_set_disk_latency(&sim.f, i, 1 + pick(20));
    // Snapshots every few entries and a short trailing log, so a server
    // that was away catches up from a snapshot.
    raft_set_snapshot_threshold(raft_fixture_get(&sim.f, i), 32 + pick(32));
    raft_set_snapshot_trailing(raft_fixture_get(&sim.f, i), 1 + pick(8));
  }
  struct raft_configuration conf;
  REQUIRE(raft_fixture_configuration(&sim.f, n_servers, &conf) == 0);
  REQUIRE(raft_fixture_bootstrap(&sim.f, &conf) == 0);
  raft_configuration_close(&conf);
  REQUIRE(raft_fixture_start(&sim.f) == 0);

  // Chaos: an action every 50-300 simulated ms for 60 simulated seconds.
  raft_time end = raft_fixture_time(&sim.f) + 60000;
  raft_time next_action = raft_fixture_time(&sim.f) + 100;
  unsigned dead = 0;
  while (raft_fixture_time(&sim.f) < end) {
    raft_fixture_step(&sim.f);
    if (raft_fixture_time(&sim.f) < next_action) continue;
    next_action = raft_fixture_time(&sim.f) + 50 + pick(250);
    unsigned roll = pick(100);
    unsigned leader = raft_fixture_leader_index(&sim.f);
    if (roll < 55) {
      // Propose on whoever believes it leads (stale leaders included).
      for (unsigned i = 0; i < n_servers; ++i) {
        if (!raft_fixture_alive(&sim.f, i)) continue;
        if (raft_state(raft_fixture_get(&sim.f, i)) != RAFT_LEADER) continue;
        std::vector<SignedTransaction> txs;
        unsigned k = 1 + pick(4);
        for (unsigned t = 0; t < k; ++t) {
          if (next_tx > 0 && pick(10) == 0) {
            txs.push_back(pool[pick(static_cast<unsigned>(next_tx))]);  // a replay
          } else if (next_tx < pool.size()) {
            txs.push_back(pool[next_tx++]);
          }
        }
        if (!txs.empty()) propose(sim, i, txs);
      }
    } else if (roll < 65 && leader < n_servers && dead == 0) {
      raft_fixture_kill(&sim.f, leader);  // leader loss
      ++dead;
    } else if (roll < 72 && dead == 0) {
      raft_fixture_kill(&sim.f, pick(n_servers));  // any server crashes
      ++dead;
    } else if (roll < 80) {
      for (unsigned i = 0; i < n_servers; ++i) {
        if (!raft_fixture_alive(&sim.f, i)) {
          raft_fixture_revive(&sim.f, i);  // restart
          --dead;
        }
      }
    } else if (roll < 88) {
      unsigned a = pick(n_servers), b = pick(n_servers);
      if (a != b) {
        raft_fixture_disconnect(&sim.f, a, b);  // partition one link, both ways
        raft_fixture_disconnect(&sim.f, b, a);
      }
    } else if (roll < 94) {
      unsigned a = pick(n_servers), b = pick(n_servers);
      if (a != b) raft_fixture_saturate(&sim.f, a, b);  // messages a -> b are lost
    } else {
      for (unsigned a = 0; a < n_servers; ++a) {
        for (unsigned b = 0; b < n_servers; ++b) {
          if (a == b) continue;
          raft_fixture_reconnect(&sim.f, a, b);
          raft_fixture_desaturate(&sim.f, a, b);
        }
      }
    }
  }

  // Heal: everyone alive, every link up, then one more block through
  // whichever leader emerges, applied on every server.
  for (unsigned i = 0; i < n_servers; ++i) {
    if (!raft_fixture_alive(&sim.f, i)) raft_fixture_revive(&sim.f, i);
    for (unsigned j = 0; j < n_servers; ++j) {
      if (i == j) continue;
      raft_fixture_reconnect(&sim.f, i, j);
      raft_fixture_desaturate(&sim.f, i, j);
    }
  }
  Outcome out;
  bool final_acked = false;
  for (int attempt = 0; attempt < 20 && !final_acked; ++attempt) {
    if (!raft_fixture_step_until_has_leader(&sim.f, 20000)) continue;
    unsigned leader = raft_fixture_leader_index(&sim.f);
    unsigned before = sim.acked_blocks;
    auto tx =
        register_tx(*sim.tc, {"SIM-" + std::to_string(seed) + "-final-" + std::to_string(attempt)});
    if (!propose(sim, leader, {tx})) {
      raft_fixture_step_until_elapsed(&sim.f, 500);
      continue;
    }
    raft_index index = raft_last_index(raft_fixture_get(&sim.f, leader));
    // n_servers as the server index means: applied on every server.
    if (raft_fixture_step_until_applied(&sim.f, n_servers, index, 30000)) {
      final_acked = sim.acked_blocks > before;
    }
  }
  if (!final_acked) {
    out.why = "no block was applied on every server after healing";
  }

  for (auto& s : sim.servers) {
    if (!s->failure.empty()) out.why = "server " + std::to_string(s->index) + ": " + s->failure;
  }
  const Ledger& first = *sim.servers[0]->ledger;
  out.log_size = first.size();
  auto root = first.root_at(first.size());
  for (auto& s : sim.servers) {
    const Ledger& l = *s->ledger;
    if (l.size() != first.size() || l.applied_entry() != first.applied_entry()) {
      out.why = "server " + std::to_string(s->index) + " holds " + std::to_string(l.size()) +
                " entries (applied " + std::to_string(l.applied_entry()) + "), server 0 " +
                std::to_string(first.size()) + " (applied " +
                std::to_string(first.applied_entry()) + ")";
      continue;
    }
    auto r = l.root_at(l.size());
    if (!r || !root || *r != *root) out.why = "roots differ on server " + std::to_string(s->index);
    for (const auto& a : sim.acked) {
      auto ev = l.event(a.log_index);
      if (!ev || *ev != a.tx.wire()) ++out.lost;
    }
  }
  out.acked_txs = static_cast<unsigned>(sim.acked.size());
  out.failed = sim.failed_proposals;
  out.snapshots = sim.snapshots;
  out.restores = sim.restores;
  out.term = raft_fixture_get(&sim.f, 0)->current_term;
  out.converged = out.why.empty() && out.lost == 0;
  raft_fixture_close(&sim.f);  // fails what is still in flight (on_applied frees it)
  return out;
}

}  // namespace

TEST_CASE(
    "simulation: leader loss, crashes, partitions and message loss over many seeds, then "
    "healing: every server holds the same log, no acknowledged transaction is lost",
    "[raft][sim]") {
  unsigned total_acked = 0;
  uint64_t total_terms = 0;
  unsigned total_failed = 0;
  unsigned total_lost = 0;
  unsigned total_snapshots = 0;
  unsigned total_restores = 0;
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    unsigned n = seed % 2 ? 3 : 5;
    Outcome o = run_seed(seed, n);
    INFO("seed " << seed << ", " << n << " servers: " << o.why << "; acknowledged " << o.acked_txs
                 << ", lost " << o.lost << ", log size " << o.log_size);
    CHECK(o.converged);
    CHECK(o.lost == 0);
    CHECK(o.acked_txs > 0);
    total_acked += o.acked_txs;
    total_terms += o.term;
    total_failed += o.failed;
    total_lost += o.lost;
    total_snapshots += o.snapshots;
    total_restores += o.restores;
  }
  std::cout << "raft_sim_test: 24 seeds, " << total_acked << " acknowledged transactions, "
            << total_lost << " lost, " << total_terms << " terms, " << total_failed
            << " proposals failed by leadership loss, " << total_snapshots << " snapshots taken, "
            << total_restores << " installed on servers that were behind" << std::endl;
  CHECK(total_acked > 100);
  CHECK(total_restores > 0);
}

TEST_CASE("raft entry framing: a multiple of 8 bytes, the block length first, zero padding",
          "[raft]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{100}}) {
    Bytes block(n, 0xab);
    Bytes entry = frame_entry(block);
    CHECK(entry.size() % 8 == 0);
    CHECK(entry.size() == (8 + n + 7) / 8 * 8);
    CHECK(entry[7] == n);
    auto back = unframe_entry(entry);
    REQUIRE(back);
    CHECK(Bytes(back->begin(), back->end()) == block);
  }
  Bytes entry = frame_entry(Bytes(5, 1));
  Bytes dirty = entry;
  dirty.back() = 1;
  CHECK_THAT(unframe_entry(dirty).reason(), Catch::Contains("padding"));
  Bytes wrong = entry;
  wrong[7] = 20;
  CHECK_THAT(unframe_entry(wrong).reason(), Catch::Contains("does not match"));
  Bytes odd = entry;
  odd.push_back(0);
  CHECK_FALSE(unframe_entry(odd));
  CHECK_FALSE(unframe_entry(Bytes{}));
}

}  // namespace chipledger
