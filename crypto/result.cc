#include "crypto/result.h"

namespace chipledger {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok:
      return "ok";
    case StatusCode::failed:
      return "failed";
    case StatusCode::invalid:
      return "invalid";
    case StatusCode::refused:
      return "refused";
    case StatusCode::not_found:
      return "not_found";
    case StatusCode::unavailable:
      return "unavailable";
    case StatusCode::io:
      return "io";
    case StatusCode::corrupt:
      return "corrupt";
    case StatusCode::unknown:
      return "unknown";
  }
  return "failed";
}

}  // namespace chipledger
