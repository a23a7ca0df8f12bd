#include "client/derived_trust.h"

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "ledger/governance.h"
#include "verify/custody_verifier.h"
#include "verify/evidence_decoding.h"

namespace chipledger {
namespace {

using nlohmann::json;

std::string digest_of(std::string_view text) { return hex_encode(sha256(text)); }

// The checkpoint's quorum and the governance history followed from genesis.
Result<DerivedTrust> follow(const Consortium& genesis, const std::string& note,
                            const std::string& history_answer) {
  CustodyVerifier v(genesis, note);
  // The note's size first; its quorum is judged once the governance (which
  // may have changed the nodes) is followed.
  const auto& tree = v.unverified_checkpoint();
  if (!tree) return tree.status().context("the checkpoint");
  std::optional<json> answer;
  if (!history_answer.empty()) {
    answer = json::parse(history_answer, nullptr, false);
    if (answer->is_discarded()) return Status::error("the governance history is not JSON");
  }
  const uint64_t size = tree->size;
  CL_TRY(v.follow_governance(decode_history(std::string(kGovernanceHistory), answer, size)));
  if (!v.checkpoint()) return v.checkpoint().status().context("the checkpoint");
  const auto& g = v.governance();
  return DerivedTrust{
      "",         genesis, g.latest(), *v.checkpoint(), note, g.record() ? g.record()->events : 0,
      g.changes()};
}

}  // namespace

Result<std::string> make_derived_trust(std::string_view genesis_text, const std::string& note,
                                       const std::string& history_answer) {
  auto genesis = Consortium::from_json(genesis_text);
  if (!genesis) return genesis.status().context("the genesis trust file");
  auto followed = follow(*genesis, note, history_answer);
  if (!followed) return followed.status();
  json j = json::parse(followed->consortium.to_json());
  j[kDerivedField] = json{{"genesis_sha256", digest_of(genesis_text)},
                          {"size", followed->checkpoint.checkpoint.size},
                          {"governance_events", followed->governance_events},
                          {"checkpoint", note},
                          {"governance_history", history_answer},
                          {"genesis", std::string(genesis_text)}};
  std::string text = j.dump(2) + "\n";
  if (auto checked = check_derived_trust(genesis_text, text); !checked) {
    return checked.status().context("the derived trust file does not check");
  }
  return text;
}

bool is_derived_trust(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() && j.contains(kDerivedField);
}

Result<DerivedTrust> check_derived_trust(std::string_view genesis_text,
                                         std::string_view derived_text) {
  auto checked = check_derived_trust(derived_text);
  if (!checked) return checked;
  if (checked->genesis_text != genesis_text) {
    return Result<DerivedTrust>::error("it was derived from another genesis trust file (SHA-256 " +
                                       digest_of(checked->genesis_text).substr(0, 16) +
                                       "…, this one's is " + digest_of(genesis_text).substr(0, 16) +
                                       "…)");
  }
  return checked;
}

Result<DerivedTrust> check_derived_trust(std::string_view derived_text) {
  using R = Result<DerivedTrust>;
  json j = json::parse(derived_text, nullptr, false);
  if (!j.is_object() || !j.contains(kDerivedField) || !j[kDerivedField].is_object()) {
    return R::error("not a derived trust file (no \"derived\" object: `chipledger trust --out`)");
  }
  const json& d = j[kDerivedField];
  auto text = [&](const char* field) -> Result<std::string> {
    if (!d.contains(field) || !d[field].is_string()) {
      return Result<std::string>::error(std::string("derived.") + field + " is missing");
    }
    return d[field].get<std::string>();
  };
  auto genesis_text = text("genesis");
  if (!genesis_text) {
    return genesis_text.status().context(
        "it does not carry its genesis trust file (written before derived files did: write it "
        "again with `chipledger trust --out`)");
  }
  auto from = text("genesis_sha256");
  if (!from) return from.status();
  if (*from != digest_of(*genesis_text)) {
    return R::error("derived.genesis_sha256 is not the SHA-256 of the genesis it carries");
  }
  auto genesis = Consortium::from_json(*genesis_text);
  if (!genesis) return genesis.status().context("the genesis trust file it carries");
  auto note = text("checkpoint");
  if (!note) return note.status();
  auto history = text("governance_history");
  if (!history) return history.status();
  auto followed = follow(*genesis, *note, *history);
  if (!followed) return followed.status();
  followed->genesis_text = std::move(*genesis_text);
  // Exactly the replay's, field for field: nothing unproven rides along.
  json stated = j;
  stated.erase(kDerivedField);
  if (stated != json::parse(followed->consortium.to_json())) {
    return R::error(
        "the stated consortium is not the one the governance history gives at log "
        "size " +
        std::to_string(followed->checkpoint.checkpoint.size));
  }
  auto number = [&](const char* field) {
    return d.contains(field) && d[field].is_number_unsigned() ? d[field].get<uint64_t>()
                                                              : UINT64_MAX;
  };
  if (number("size") != followed->checkpoint.checkpoint.size ||
      number("governance_events") != followed->governance_events) {
    return R::error("derived.size or derived.governance_events is not what its proof shows");
  }
  return followed;
}

}  // namespace chipledger
