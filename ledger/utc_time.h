// Times as text: Unix milliseconds as RFC 3339 UTC with milliseconds
// ("2026-12-06T01:02:03.456Z"), the one formatter of the node's log lines
// and the client's EPCIS export.
#pragma once

#include <cstdint>
#include <string>

namespace chipledger {

std::string rfc3339_utc_ms(uint64_t unix_ms);

}  // namespace chipledger
