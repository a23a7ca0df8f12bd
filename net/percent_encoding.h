// Percent-encoding of one URL path segment (RFC 3986, section 2.1): the
// one encoder the client puts serials and license ids into request paths
// with, and the one decoder the node reads them back with, so any byte
// string (spaces, '/', '?', '#', UTF-8) travels as one segment and comes
// back byte for byte.
#pragma once

#include <string>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

// Every byte but RFC 3986's unreserved ones (ALPHA DIGIT - . _ ~) as %XX
// (upper-case hex).
std::string percent_encode_segment(std::string_view raw);

// %XX back to the byte; other bytes as they are. A '%' without two hex
// digits after it is an error that names it.
Result<std::string> percent_decode(std::string_view s);

}  // namespace chipledger
