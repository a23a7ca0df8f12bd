// Writing a file whole or not at all: the text goes to a temporary file
// beside it, renamed over the file (folders made as needed). A reader sees
// the old file or the new one, never half of one.
#pragma once

#include <string>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

Status write_file_atomically(const std::string& path, std::string_view text);

}  // namespace chipledger
