#include "node/certificate_health.h"

namespace chipledger {

CertificateHealth certificate_health(const CertificateInfo& info, int64_t now_seconds,
                                     int64_t warn_before_seconds) {
  CertificateHealth h;
  h.subject = info.common_name;
  h.not_after = info.not_after;
  h.seconds_left = info.not_after - now_seconds;
  auto days = [](int64_t s) { return std::to_string(s / 86400); };
  if (h.seconds_left <= 0) {
    h.warning = true;
    h.message = "the TLS certificate of " + info.common_name +
                " has expired: peers refuse this node; install a renewed one and send SIGHUP";
  } else if (h.seconds_left < warn_before_seconds) {
    h.warning = true;
    h.message = "the TLS certificate of " + info.common_name + " expires in " +
                (h.seconds_left < 86400 ? std::to_string(h.seconds_left / 3600) + " hours"
                                        : days(h.seconds_left) + " days") +
                ": install a renewed one and send SIGHUP (docs/tls.md)";
  }
  return h;
}

}  // namespace chipledger
