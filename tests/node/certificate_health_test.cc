// What a node says about its own certificate (node/certificate_health.h):
// nothing while it has more than the lead time left, a warning with the
// days (or hours) left inside it, and "expired" after its end.
#include <catch2/catch.hpp>

#include "node/certificate_health.h"

namespace chipledger {

TEST_CASE("certificate health: a warning inside the lead time, expired after the end", "[tls]") {
  CertificateInfo info;
  info.common_name = "node-1";
  info.not_after = 1'000'000'000;
  const int64_t lead = 30 * 86400;

  auto far = certificate_health(info, info.not_after - 31 * 86400, lead);
  CHECK_FALSE(far.warning);
  CHECK(far.message.empty());
  CHECK(far.seconds_left == 31 * 86400);
  CHECK(far.subject == "node-1");

  auto edge = certificate_health(info, info.not_after - lead, lead);  // exactly the lead time
  CHECK_FALSE(edge.warning);

  auto soon = certificate_health(info, info.not_after - 12 * 86400 - 5, lead);
  CHECK(soon.warning);
  CHECK_THAT(soon.message, Catch::Contains("node-1 expires in 12 days"));

  auto hours = certificate_health(info, info.not_after - 5 * 3600, lead);
  CHECK(hours.warning);
  CHECK_THAT(hours.message, Catch::Contains("expires in 5 hours"));

  auto gone = certificate_health(info, info.not_after, lead);
  CHECK(gone.warning);
  CHECK(gone.seconds_left == 0);
  CHECK_THAT(gone.message, Catch::Contains("has expired"));
}

}  // namespace chipledger
