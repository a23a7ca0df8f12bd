// GET /v1/chips/SERIAL/verdict (docs/explorer.md): the verifier of verify/
// run by this node on its own evidence at the checkpoint it serves: the same
// checks and the same report as `chipledger verify --json` (the governance
// followed from the trust file, every signature, inclusion and state proof,
// the custody rules replayed), with the checkpoint note it judged against.
// It is this node's word to whoever reads it (the web explorer says so and
// checks in the browser what it can); `chipledger verify` is the verdict
// that holds against a lying node.
//
// Verdicts run on one worker thread of their own, never on an HTTP thread:
// at most kMaxWaiting wait (beyond, 503 with Retry-After), so strangers
// asking for verdicts cannot hold up the API or the nodes' cosignatures.
// One verifier serves every serial at a checkpoint: the governance is
// followed once per checkpoint, and an event in several histories is
// checked once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ledger/cosignature_book.h"
#include "ledger/ledger.h"
#include "node/http_types.h"

namespace chipledger {

class CustodyVerifier;

class ExplorerVerdicts {
 public:
  static constexpr size_t kMaxWaiting = 16;
  ExplorerVerdicts(const Ledger& ledger, size_t max_answer_bytes);
  ~ExplorerVerdicts();  // stop()
  // Answers what still waits (and what comes after) with 503 and joins the
  // worker: before the HTTP server that carries the answers goes away.
  void stop();
  ExplorerVerdicts(const ExplorerVerdicts&) = delete;
  ExplorerVerdicts& operator=(const ExplorerVerdicts&) = delete;

  // Answers through `respond` from the worker (or at once with 503 when
  // kMaxWaiting wait). `served`: the checkpoint the node serves; `now_ms`:
  // its clock.
  void verdict(std::string serial, ServedCheckpoint served, uint64_t now_ms, Responder respond);

 private:
  struct Job {
    std::string serial;
    ServedCheckpoint served;
    uint64_t now_ms = 0;
    Responder respond;
  };
  void run();
  HttpResponse answer(const Job& job);

  const Ledger& ledger_;
  const size_t max_answer_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> waiting_;  // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  // The worker's alone: the verifier of the note it last judged against.
  std::string verifier_note_;
  std::unique_ptr<CustodyVerifier> verifier_;
  std::thread worker_;
};

}  // namespace chipledger
