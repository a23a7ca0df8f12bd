// An export license as the ledger keeps it (Column::licenses): the terms the
// regulator signed, how much of its quantity transfers have used, and the
// log index of the license event.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/result.h"
#include "ledger/transaction.h"

namespace chipledger {

struct LicenseRecord {
  LicenseTerms terms;
  std::string issuer;  // the regulator
  uint64_t used = 0;
  uint64_t index = 0;  // log index of the license event

  uint64_t remaining() const { return terms.quantity - used; }
  std::string encode() const;
  static Result<LicenseRecord> decode(std::string_view bytes);
  bool operator==(const LicenseRecord&) const = default;
};

}  // namespace chipledger
