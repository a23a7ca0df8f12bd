// UTF-8 as the formats require it (docs/encoding.md): well-formed, no
// overlong forms, surrogates or code points beyond U+10FFFF. Every text a
// transaction or the trust file carries is UTF-8, so JSON can always show it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chipledger {

// Decodes one code point at text[i] and advances i past it; -1 (i
// unchanged) when malformed or truncated.
int32_t next_code_point(std::string_view text, size_t& i);

bool is_valid_utf8(std::string_view text);

}  // namespace chipledger
