#include "node/json_limits.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

namespace chipledger {
namespace {

// The scan's position in the body's structure.
struct Scan {
  const JsonLimits& limits;
  size_t depth = 0;
  size_t elements = 0;
  bool in_scalar = false;  // inside a number, true, false or null

  Status element() {
    if (++elements > limits.max_elements) {
      return Status::error("JSON with more than " + std::to_string(limits.max_elements) +
                           " elements");
    }
    return Status::ok();
  }
  Status open() {
    CL_TRY(element());
    if (++depth > limits.max_depth) {
      return Status::error("JSON nesting deeper than " + std::to_string(limits.max_depth));
    }
    return Status::ok();
  }
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The index just past the string that opens at body[open] (its closing
// quote's index + 1, or body.size() when it never closes), or an error when
// it is longer than the limit.
Result<size_t> skip_string(std::string_view body, size_t open, size_t max_bytes) {
  auto too_long = [&](size_t end) { return end - open - 1 > max_bytes; };
  size_t i = open + 1;
  for (; i < body.size() && !too_long(i); ++i) {
    if (body[i] == '\\') {
      ++i;  // the escaped byte; a \uXXXX's digits are plain bytes
    } else if (body[i] == '"') {
      return i + 1;
    }
  }
  if (too_long(std::min(i, body.size()))) {
    return Result<size_t>::error("JSON string longer than " + std::to_string(max_bytes) + " bytes");
  }
  return body.size();  // never closed: the parse refuses it
}

}  // namespace

Status check_json_limits(std::string_view body, const JsonLimits& limits) {
  Scan scan{limits};
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    bool scalar = false;
    if (c == '"') {
      CL_TRY(scan.element());
      auto end = skip_string(body, i, limits.max_string_bytes);
      if (!end) return end.status();
      scan.in_scalar = false;
      i = *end;
      continue;
    }
    if (c == '[' || c == '{') {
      CL_TRY(scan.open());
    } else if (c == ']' || c == '}') {
      if (scan.depth > 0) --scan.depth;
    } else if (c != ',' && c != ':' && !is_json_space(c)) {
      scalar = true;
      if (!scan.in_scalar) CL_TRY(scan.element());
    }
    scan.in_scalar = scalar;
    ++i;
  }
  return Status::ok();
}

Result<nlohmann::json> parse_json_body(std::string_view body, const JsonLimits& limits) {
  CL_TRY(check_json_limits(body, limits));
  // nlohmann's lexer takes a NUL byte for the end of its input, so it would
  // accept `{"tx": "..."}` followed by NUL and anything at all. JSON has no
  // NUL outside strings, and inside one it must be escaped: a body with one
  // is not JSON.
  if (body.find('\0') != std::string_view::npos) {
    return Result<nlohmann::json>::error("the request body is not valid JSON");
  }
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    return Result<nlohmann::json>::error("the request body is not valid JSON");
  }
  return doc;
}

}  // namespace chipledger
