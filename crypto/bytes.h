// Byte strings and their text forms (hex, standard base64) used across the
// project. Decoders refuse malformed input with a reason instead of guessing.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace chipledger {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string hex_encode(ByteView data);
Result<Bytes> hex_decode(std::string_view text);

// RFC 4648 standard alphabet with padding (what C2SP signed notes use).
std::string base64_encode(ByteView data);
Result<Bytes> base64_decode(std::string_view text);

}  // namespace chipledger
