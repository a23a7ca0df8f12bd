// Readable JSON views of transactions and serial records (docs/api.md). A
// view only: signatures cover the canonical bytes, never this JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "ledger/license_record.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

nlohmann::json transaction_view(const Transaction& tx);
nlohmann::json serial_record_view(std::string_view serial, const SerialRecord& rec);
nlohmann::json license_view(const LicenseRecord& lic);

}  // namespace chipledger
