// `chipledger trust`: the consortium in force, proven from the genesis
// trust file (client/derived_trust.h, docs/governance.md, section 5).
// --out FILE verifies the node's latest checkpoint as `verify` does (quorum,
// freshness, the checkpoint memory), follows the governance history at its
// size and writes the derived file; --check FILE checks one offline.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/batch_verifier.h"
#include "client/cli_common.h"
#include "client/derived_trust.h"
#include "client/file_write.h"
#include "ledger/checkpoint.h"

namespace chipledger::cli {
namespace {

using nlohmann::json;

void print_summary(const DerivedTrust& d, const std::string& file, const std::string& genesis,
                   bool json_out) {
  const auto& cp = d.checkpoint;
  if (json_out) {
    std::cout << json{{"file", file},
                      {"genesis", genesis},
                      {"size", cp.checkpoint.size},
                      {"signers", cp.signers},
                      {"governance_events", d.governance_events},
                      {"governance_changes", d.governance_changes},
                      {"members", d.consortium.members().size()}}
                     .dump()
              << "\n";
    return;
  }
  std::string signers;
  for (const auto& s : cp.signers) signers += (signers.empty() ? "" : " ") + s;
  std::cout << file << ": the consortium in force at log size " << cp.checkpoint.size
            << " (checkpoint signed by " << signers << "), from " << genesis << " through "
            << d.governance_events << " governance transaction(s), " << d.governance_changes
            << " change(s); " << d.consortium.members().size() << " members\n";
}

}  // namespace

int cmd_trust(const Args& a) {
  if (a.out.empty() == a.check.empty()) {
    throw CliError{"give --out FILE (write the consortium in force) or --check FILE"};
  }
  const Consortium& genesis = trust(a);
  const std::string genesis_path = trust_path(a);
  // A derived --trust file stands for the genesis it carries.
  const std::string& genesis_text = trust_genesis_text(a);
  if (!a.check.empty()) {
    auto checked = check_derived_trust(genesis_text, read_file(a.check));
    if (!checked) {
      std::cerr << "chipledger: " << a.check << " does not follow from " << genesis_path << ": "
                << checked.reason() << "\n";
      return finding_exit_code(Finding::proof_failure);
    }
    print_summary(*checked, a.check, genesis_path, a.json_out);
    return 0;
  }
  auto node = connect(a);
  auto v = need(BatchVerifier::open(genesis, *node, BatchVerifier::system_ms, &memory(a)));
  auto fail = [&](Finding f, const std::string& reason) {
    std::cerr << "chipledger: nothing written: " << finding_name(f) << ": " << reason << "\n";
    return finding_exit_code(f);
  };
  if (const auto& refused = v.refused()) return fail(refused->first, refused->second);
  if (!v.note()) return fail(Finding::proof_failure, v.note().reason());
  if (Status fresh = checkpoint_age_status(*v.checkpoint(), v.governance().latest().policy(),
                                           BatchVerifier::system_ms());
      !fresh) {
    return fail(Finding::stale_checkpoint, fresh.reason());
  }
  auto text = make_derived_trust(genesis_text, v.note_text(), v.governance_answer());
  if (!text) return fail(Finding::proof_failure, text.reason());
  need_ok(write_file_atomically(a.out, *text));  // whole or not at all
  print_summary(*check_derived_trust(genesis_text, *text), a.out, genesis_path, a.json_out);
  return 0;
}

}  // namespace chipledger::cli
