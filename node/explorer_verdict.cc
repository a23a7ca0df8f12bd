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

// Counts one running verdict for as long as it lives.
struct Running {
  std::atomic<int>& n;
  ~Running() { --n; }
};

}  // namespace

HttpResponse ExplorerVerdicts::verdict(const std::string& serial, const std::string& note,
                                       uint64_t size, uint64_t now_ms) {
  if (++running_ > kConcurrent) {
    --running_;
    HttpResponse busy = json_error(503, "verdicts are being computed; try again in a second");
    busy.headers.push_back({"Retry-After", "1"});
    return busy;
  }
  Running running{running_};
  CustodyVerifier verifier(ledger_.genesis(), note);
  auto governance = as_answer(history_answer(ledger_, std::string(kGovernanceHistory), size));
  if (!governance) return status_error(governance.status());
  (void)verifier.follow_governance(
      decode_history(std::string(kGovernanceHistory), *governance, size));
  auto history = as_answer(history_answer(ledger_, serial, size));
  if (!history) return status_error(history.status());
  VerifyReport report = verifier.verify(serial, decode_history(serial, *history, size), now_ms);
  json j = report.to_json();
  HttpResponse r;
  r.body = json{{"report", std::move(j)},
                {"checkpoint", note},
                {"size", size},
                {"judged_by", "this node, with chipledger's verifier on its own evidence"}}
               .dump();
  return r;
}

}  // namespace chipledger
