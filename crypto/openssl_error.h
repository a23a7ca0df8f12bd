// The reason string for a failed OpenSSL call: what was being done, then
// the errors OpenSSL queued on this thread (the queue is cleared).
#pragma once

#include <string>
#include <string_view>

namespace chipledger {

std::string openssl_reason(std::string_view what);

}  // namespace chipledger
