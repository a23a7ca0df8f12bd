// Reading a TOML configuration file (node.toml, landmark.toml): its table,
// or why not ("PATH: what (line N)"). Included only by config loaders.
#pragma once

#include <toml++/toml.h>
#include <string>

#include "crypto/result.h"

namespace chipledger {

Result<toml::table> read_toml_file(const std::string& path);

}  // namespace chipledger
