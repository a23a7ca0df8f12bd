#include "node/submission_answers.h"

#include <nlohmann/json.hpp>

namespace chipledger {
namespace {

using nlohmann::json;

json accepted_item(uint64_t index, const std::string& txid) {
  return json{{"status", 200},
              {"outcome", "accepted"},
              {"accepted", true},
              {"index", index},
              {"txid", txid}};
}

json refused_item(int status, const std::string& txid, const std::string& reason) {
  json item{{"status", status},
            {"outcome", "refused"},
            {"accepted", false},
            {"txid", txid},
            {"error", reason}};
  if (status == 503 || status == 429) item["retry"] = true;
  return item;
}

json unknown_item(const std::string& txid, const std::string& reason) {
  return json{{"status", 202},
              {"outcome", "unknown"},
              {"accepted", false},
              {"txid", txid},
              {"error", reason}};
}

// Codes that say nothing was done.
bool nothing_done(StatusCode code) {
  return code == StatusCode::invalid || code == StatusCode::refused ||
         code == StatusCode::unavailable;
}

}  // namespace

json outcome_item(const Result<TxOutcome>& outcome, const std::string& txid) {
  if (!outcome) {
    const Status st = outcome.status();
    if (!nothing_done(st.code())) return unknown_item(txid, st.reason());
    return refused_item(st.is_unavailable() ? 503 : 422, txid, st.reason());
  }
  if (outcome->accepted) return accepted_item(outcome->index, txid);
  if (outcome->already_in_ledger) {
    json item = accepted_item(outcome->index, txid);
    item["duplicate"] = "in-ledger";
    return item;
  }
  return refused_item(422, txid, outcome->reason);
}

json admission_item(const Admission::Decision& d, const std::string& txid) {
  using V = Admission::Verdict;
  switch (d.verdict) {
    case V::in_ledger: {
      json item = accepted_item(d.index, txid);
      item["duplicate"] = "in-ledger";
      return item;
    }
    case V::waiting: {
      json item = unknown_item(txid, d.reason);
      item["duplicate"] = "waiting";
      return item;
    }
    case V::full:
    case V::unavailable:
      return refused_item(503, txid, d.reason);
    case V::client_full:
      return refused_item(429, txid, d.reason);
    case V::admitted:
    case V::bad_signature:
      break;
  }
  return refused_item(422, txid, d.reason);
}

SubmissionLabel submission_label(const Result<TxOutcome>& outcome) {
  if (!outcome) {
    switch (outcome.status().code()) {
      case StatusCode::invalid:
        return {"refused", "invalid"};
      case StatusCode::refused:
        return {"refused", "rules"};
      case StatusCode::unavailable:
        return {"refused", "unavailable"};
      default:
        return {"unknown", "unknown"};
    }
  }
  if (outcome->accepted) return {"accepted", "new"};
  if (outcome->already_in_ledger) return {"accepted", "duplicate"};
  return {"refused", "rules"};
}

SubmissionLabel submission_label(const Admission::Decision& d) {
  using V = Admission::Verdict;
  switch (d.verdict) {
    case V::in_ledger:
      return {"accepted", "duplicate"};
    case V::waiting:
      return {"unknown", "waiting"};
    case V::full:
      return {"refused", "full"};
    case V::client_full:
      return {"refused", "client_full"};
    case V::unavailable:
      return {"refused", "unavailable"};
    case V::admitted:
    case V::bad_signature:
      break;
  }
  return {"refused", "arrival"};
}

}  // namespace chipledger
