// GS1 EPCIS 2.0 export (docs/epcis.md): the custody events of verified
// serials as one EPCISDocument in JSON-LD. Pure: verified reports in, a
// document out. One EPCIS event per ledger transaction, naming every
// exported serial it concerns; each event carries the ledger's proof
// references (log index, txid) as `chipledger:` extension fields, and the
// document names the checkpoint they were verified against.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "verify/custody_verifier.h"

namespace chipledger {

struct EpcisExportOptions {
  std::string ledger_id;
  uint64_t checkpoint_size = 0;
  std::string checkpoint_root_hex;
  uint64_t created_ms = 0;           // the document's creationDate
  std::optional<uint64_t> since_ms;  // only events signed at or after this
};

// The serial's EPC URI: urn:chipledger:serial:<ledger id>:<serial>, each
// part percent-encoded (docs/epcis.md, "Identifiers").
std::string epc_of(const std::string& ledger_id, const std::string& serial);

nlohmann::ordered_json epcis_document(const std::vector<VerifyReport>& reports,
                                      const EpcisExportOptions& options);

}  // namespace chipledger
