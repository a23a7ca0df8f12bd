// Checks a serial's evidence as fetched from any node, trusting only the
// consortium file: the checkpoint's quorum of node signatures, every event's
// author signature, its inclusion proof against the checkpoint root, the
// serial's prev chain, and who-may-do-what along the chain. Pure: no network.
// The verdict is "ok" or names every finding (docs/verdicts.md).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/consortium.h"

namespace chipledger {

enum class Finding { proof_failure, not_registered, in_transit };
std::string_view finding_name(Finding f);  // "proof-failure", ...
int finding_exit_code(Finding f);          // documented in README.md

struct ChainRow {
  uint64_t index = 0;
  std::string event;  // "register", "transfer -> distributor", ...
  std::string member;
  std::string role;
  std::string country;
  uint64_t time_ms = 0;
};

struct VerifyReport {
  std::string serial;
  std::vector<std::pair<Finding, std::string>> findings;  // with the reason
  std::vector<ChainRow> chain;
  std::vector<std::string> checkpoint_signers;
  uint64_t checkpoint_size = 0;
  std::string holder;
  std::string status;  // "held" or "in-transit"

  bool ok() const { return findings.empty(); }
  std::string verdict() const;  // "ok" or the first finding's name
  int exit_code() const;        // 0 for ok
  nlohmann::json to_json() const;
};

// `history` is the node's answer to GET /v1/chips/SERIAL/history?size=N with
// N the checkpoint's size, or nullopt when the node had no events for it.
VerifyReport verify_custody(const Consortium& consortium, const std::string& serial,
                            const std::string& checkpoint_note,
                            const std::optional<nlohmann::json>& history);

}  // namespace chipledger
