#include "node/explorer_verdict.h"

#include <nlohmann/json.hpp>

#include "node/api.h"
#include "node/evidence_answers.h"
#include "verify/custody_verifier.h"
#include "verify/evidence_decoding.h"

namespace chipledger {
namespace {

using nlohmann::json;

// An evidence answer as NodeClient hands it to the decoder: the JSON of a
// 200, or of a 404 that carries the state map's absence proof.
Result<std::optional<json>> as_answer(const HttpResponse& r) {
  if (r.status != 200 && r.status != 404) {
    return Status::error("HTTP " + std::to_string(r.status) + ": " + r.body);
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return Status::error("an evidence answer is not JSON");
  if (r.status == 404 && !(j.is_object() && j.contains("state"))) return std::optional<json>();
  return std::optional<json>(std::move(j));
}

HttpResponse busy(const std::string& why) {
  HttpResponse r = json_error(503, why);
  r.headers.push_back({"Retry-After", "1"});
  return r;
}

}  // namespace

ExplorerVerdicts::ExplorerVerdicts(const Ledger& ledger, size_t max_answer_bytes)
    : ledger_(ledger), max_answer_bytes_(max_answer_bytes), worker_([this] { run(); }) {}

ExplorerVerdicts::~ExplorerVerdicts() { stop(); }

void ExplorerVerdicts::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ExplorerVerdicts::verdict(std::string serial, ServedCheckpoint served, uint64_t now_ms,
                               Responder respond) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && waiting_.size() < kMaxWaiting) {
      waiting_.push_back(Job{std::move(serial), std::move(served), now_ms, std::move(respond)});
      cv_.notify_one();
      return;
    }
  }
  respond(busy("verdicts are being computed; try again in a second"));
}

void ExplorerVerdicts::run() {
  for (;;) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (stopping_) {
      std::deque<Job> left;
      left.swap(waiting_);
      lock.unlock();
      for (auto& job : left) job.respond(busy("the node is stopping"));
      return;
    }
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    job.respond(answer(job));
  }
}

HttpResponse ExplorerVerdicts::answer(const Job& job) {
  const uint64_t size = job.served.size;
  if (!verifier_ || verifier_note_ != job.served.note) {
    verifier_ = std::make_unique<CustodyVerifier>(ledger_.genesis(), job.served.note);
    verifier_note_ = job.served.note;
    auto governance = as_answer(history_answer(ledger_, std::string(kGovernanceHistory), size));
    if (!governance) {
      verifier_.reset();
      return status_error(governance.status());
    }
    // A governance history that does not check makes every report a
    // proof-failure saying why: nothing to do here.
    (void)verifier_->follow_governance(
        decode_history(std::string(kGovernanceHistory), *governance, size));
  }
  HttpResponse raw = history_answer(ledger_, job.serial, size, max_answer_bytes_);
  // A history over [api] max_answer_bytes cannot be judged here: the 413
  // says so (and how to page it), not a 500.
  if (raw.status == 413) return raw;
  auto history = as_answer(raw);
  if (!history) return status_error(history.status());
  VerifyReport report =
      verifier_->verify(job.serial, decode_history(job.serial, *history, size), job.now_ms);
  HttpResponse r;
  r.body = json{{"report", report.to_json()},
                {"checkpoint", job.served.note},
                {"size", size},
                {"judged_by", "this node, with chipledger's verifier on its own evidence"}}
               .dump();
  return r;
}

}  // namespace chipledger
