// libFuzzer target: what the client does with a node's evidence answers
// (client/node_client.h decode_history, decode_histories,
// decode_state_answer, verify/proven_state.h, verify/custody_verifier.h),
// the answers of a node that may lie. Nothing crashes, leaks or hits UB,
// and the verifier is sound: the fuzz world's story (tests/fuzz/fuzz_world.h)
// is applied to a ledger and node-1 signs its checkpoint, so whatever
// evidence the fuzzer makes, a verdict without a proof-failure must
// describe the ledger's true state (the record the verifier replayed is the
// ledger's record of that serial, or the serial is truly not registered),
// and a proven state must be the ledger's record. A lying node can make a
// verdict fail, never make it wrong.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_world.h"
#include "verify/custody_verifier.h"
#include "verify/evidence_decoding.h"
#include "verify/proven_state.h"

namespace {

using namespace chipledger;
using nlohmann::json;

struct Truth {
  std::unique_ptr<Ledger> ledger = fuzz::story_ledger(4);
  std::string note = fuzz::checkpoint_note(*ledger);
  Checkpoint checkpoint =
      fuzz::must(verify_checkpoint(fuzz::world().consortium, note), "note").checkpoint;

  std::optional<SerialRecord> record(const std::string& serial) const {
    if (!check_serial(serial)) return std::nullopt;
    return fuzz::must(ledger->serial(serial), "truth");
  }
};

const Truth& truth() {
  static const Truth t;
  return t;
}

void check_verdict(CustodyVerifier& verifier, const std::string& serial,
                   const Result<HistoryEvidence>& evidence) {
  VerifyReport report = verifier.verify(serial, evidence, fuzz::kVerifierNowMs);
  for (const auto& [finding, reason] : report.findings) {
    if (finding == Finding::proof_failure) return;
  }
  if (!evidence) std::abort();  // an undecodable answer is a proof-failure
  if (verifier.replayed() != truth().record(serial)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Truth& t = truth();
  json answer = json::parse(data, data + size, nullptr, false);
  if (answer.is_discarded()) return 0;
  CustodyVerifier verifier(fuzz::world().consortium, t.note);
  verifier.assume_no_governance();  // a ledger without governance
  if (!verifier.checkpoint()) std::abort();

  // POST /v1/histories's answer: every serial it lists.
  auto many = decode_histories(answer);
  if (many) {
    for (const auto& s : many->serials) check_verdict(verifier, s.serial, many);
  }

  // GET .../history and .../state for the serial the answer names.
  std::string serial = "GPU-0001";
  if (answer.is_object() && answer.contains("serial") && answer["serial"].is_string()) {
    serial = answer["serial"].get<std::string>();
  }
  std::optional<json> one(answer);
  check_verdict(verifier, serial, decode_history(serial, one, t.checkpoint.size));
  auto state = decode_state_answer(serial, t.checkpoint.size, answer);
  if (state) {
    auto proven = proven_state(t.checkpoint, *state);
    if (proven && *proven != t.record(serial)) std::abort();
  }
  return 0;
}
