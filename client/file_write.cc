#include "client/file_write.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace chipledger {

Status write_file_atomically(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec) return Status::error("cannot create " + p.parent_path().string() + ": " + ec.message());
  }
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::error("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Status::error("cannot replace " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace chipledger
