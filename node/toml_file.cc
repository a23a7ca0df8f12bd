#include "node/toml_file.h"

#include <sstream>

namespace chipledger {

Result<toml::table> read_toml_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return Result<toml::table>::error(os.str());
  }
}

}  // namespace chipledger
