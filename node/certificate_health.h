// What a node says about its own TLS certificate (docs/tls.md,
// "Renewal"): how long it has left, and a warning once that is less than
// the configured lead time, so an operator renews it before it expires
// (expired certificates are a classic consortium outage). Pure: the time
// comes in.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/certificates.h"

namespace chipledger {

struct CertificateHealth {
  std::string subject;       // the certificate's CN
  int64_t not_after = 0;     // POSIX seconds
  int64_t seconds_left = 0;  // negative once expired
  bool warning = false;      // expires within the lead time, or expired
  std::string message;       // what to tell the operator ("" when fine)
};

CertificateHealth certificate_health(const CertificateInfo& info, int64_t now_seconds,
                                     int64_t warn_before_seconds);

}  // namespace chipledger
