// `export --epcis SERIAL... [--csv FILE] [--since TIME] [--out FILE]`: the
// serials' custody events, each serial verified first exactly as `verify`
// does, as one GS1 EPCIS 2.0 document (docs/epcis.md). A serial whose
// history is not proven (proof-failure, split-view, stale-checkpoint), or
// holds an event whose key was revoked over it (revoked-key), is not
// exported: the command exits with that finding's code and writes nothing.
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/batch_verifier.h"
#include "client/cli_common.h"
#include "client/epcis_export.h"
#include "client/file_write.h"

namespace chipledger::cli {

namespace {

// Findings about the evidence rather than the chip: the chain is not proven
// (proof-failure, split-view, stale-checkpoint), or an event's signing key
// was revoked as compromised over it (revoked-key).
bool unproven(Finding f) {
  return f == Finding::proof_failure || f == Finding::split_view ||
         f == Finding::stale_checkpoint || f == Finding::revoked_key;
}

}  // namespace

int cmd_export(const Args& a) {
  if (!a.epcis) throw CliError{"give the format: --epcis (GS1 EPCIS 2.0 JSON-LD)"};
  if (!a.csv.empty() && !a.serials.empty()) throw CliError{"give SERIALs or --csv, not both"};
  std::vector<std::string> serials = a.serials;
  if (!a.csv.empty()) {
    for (auto& row : read_serials_csv(a.csv, false)) serials.push_back(std::move(row.serial));
  }
  if (serials.empty()) throw CliError{"give a SERIAL, several, or --csv FILE"};
  for (const auto& s : serials) require_valid_serial(s);
  EpcisExportOptions options;
  if (!a.since.empty()) {
    auto since = parse_iso8601(a.since);
    if (!since) throw CliError{"--since: " + since.reason()};
    options.since_ms = *since;
  }
  Consortium consortium = trust(a);
  auto node = connect(a);
  auto v = need(BatchVerifier::open(consortium, *node, now_ms, &memory(a)));
  std::vector<VerifyReport> reports = need(v.verify_all(serials));
  for (const auto& r : reports) {
    for (const auto& [finding, reason] : r.findings) {
      if (!unproven(finding)) continue;
      throw CliError{"serial " + r.serial + ": " + std::string(finding_name(finding)) + ": " +
                         reason + " (nothing exported)",
                     finding_exit_code(finding)};
    }
  }
  const VerifiedCheckpoint* cp = v.checkpoint();
  if (!cp) throw CliError{"no verified checkpoint (nothing exported)", kExitError};
  options.ledger_id = consortium.ledger_id();
  options.checkpoint_size = cp->checkpoint.size;
  options.checkpoint_root_hex = hex_encode(cp->checkpoint.root);
  options.created_ms = now_ms();
  const std::string text = epcis_document(reports, options).dump(2) + "\n";
  if (a.out.empty()) {
    std::cout << text;
    return 0;
  }
  if (auto st = write_file_atomically(a.out, text); !st) throw CliError{st.reason()};
  std::cerr << "wrote " << serials.size() << " serial" << (serials.size() == 1 ? "" : "s")
            << " as EPCIS 2.0 to " << a.out << " (verified against checkpoint "
            << cp->checkpoint.size << ")\n";
  return 0;
}

}  // namespace chipledger::cli
