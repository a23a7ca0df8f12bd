// Bounds on a JSON request body, checked before a document is built.
//
// nlohmann::json builds a node per value as it parses: a 16 MiB body of '['
// becomes 16 M nested arrays (1.28 GB) before any shape check runs. So every
// JSON body the node parses goes through parse_json_body(), which first
// scans the raw bytes once (check_json_limits: linear time, no allocation)
// and refuses the body at the first byte that breaks a bound: nesting
// deeper than max_depth, more than max_elements elements, or a string
// longer than max_string_bytes. Only a body within every bound is parsed,
// so the document it builds is at most max_elements nodes plus the body's
// bytes. An element is each value (object, array, string, number, true,
// false, null) and each object key. The scan does not validate JSON: the
// parse that follows does, and refuses what is not JSON.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

struct JsonLimits {
  size_t max_depth = 32;              // arrays and objects inside each other
  size_t max_elements = 10000;        // values and object keys, nested ones included
  size_t max_string_bytes = 1 << 20;  // bytes between a string's quotes, as sent
};

// Ok when `body` stays within `limits`; else the bound it breaks, for a 400:
// "JSON nesting deeper than 32", "JSON with more than 10000 elements",
// "JSON string longer than 1048576 bytes".
Status check_json_limits(std::string_view body, const JsonLimits& limits);

// check_json_limits, then nlohmann::json::parse without exceptions; a body
// that is not JSON (a NUL byte included, which nlohmann's parser would take
// for the end of its input) is refused with "the request body is not valid
// JSON".
Result<nlohmann::json> parse_json_body(std::string_view body, const JsonLimits& limits);

}  // namespace chipledger
