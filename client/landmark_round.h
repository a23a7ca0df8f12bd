// One timed round with a landmark (docs/location.md, sections 5 and 6), the
// chip simulated by its device key: ask for a challenge, sign the chip's
// answer over the nonce, send it, and check the statement the landmark
// signs: for this landmark (its key in the trust file), this serial,
// checkpoint and nonce, and this chip signature. A landmark that answers
// anything else is an error naming what.
#pragma once

#include <chrono>
#include <string>

#include "crypto/keys.h"
#include "crypto/result.h"
#include "ledger/location.h"
#include "net/http_client.h"

namespace chipledger {

struct LocateRequest {
  std::string ledger_id;
  std::string serial;
  uint64_t checkpoint_size = 0;
  Hash checkpoint_root{};
};

// `chip_delay`: how long the simulated chip waits before it answers (a
// chip that far away on the network; tests and the demo).
Result<LocationStatement> run_locate_round(HttpClient& landmark_http, const Landmark& landmark,
                                           const LocateRequest& request, const PrivateKey& chip_key,
                                           std::chrono::microseconds chip_delay);

}  // namespace chipledger
