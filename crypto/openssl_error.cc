#include "crypto/openssl_error.h"

#include <openssl/err.h>

namespace chipledger {

std::string openssl_reason(std::string_view what) {
  std::string out(what);
  const char* sep = ": ";
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += sep;
    out += buf;
    sep = "; ";
  }
  return out;
}

}  // namespace chipledger
