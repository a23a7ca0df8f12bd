#include "node/node_config.h"

#include <toml++/toml.h>
#include <filesystem>
#include <sstream>

namespace chipledger {
namespace {

namespace fs = std::filesystem;

std::string resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return path.is_absolute() ? p : (base / path).lexically_normal().string();
}

Result<std::string> required_string(const toml::table& t, const char* section, const char* key) {
  auto v = t[section][key].value<std::string>();
  if (!v || v->empty()) {
    return Result<std::string>::error(std::string("[") + section + "] " + key +
                                      " is missing (a string)");
  }
  return *v;
}

Status parse_listen(const std::string& listen, NodeConfig& c) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::error("[api] listen must be HOST:PORT");
  c.listen_address = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Status::error("[api] listen has no valid port");
  c.listen_port = static_cast<uint16_t>(port);
  return Status::ok();
}

}  // namespace

Result<NodeConfig> NodeConfig::load_file(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return Result<NodeConfig>::error(os.str());
  }
  fs::path base = fs::path(path).parent_path();
  NodeConfig c;
  auto id = required_string(t, "node", "id");
  auto key = required_string(t, "node", "key");
  auto data = required_string(t, "node", "data_dir");
  auto consortium = required_string(t, "node", "consortium");
  for (auto* r : {&id, &key, &data, &consortium}) {
    if (!*r) return r->status().context(path);
  }
  c.node_id = *id;
  c.key_file = resolve(base, *key);
  c.data_dir = resolve(base, *data);
  c.consortium_file = resolve(base, *consortium);
  CL_TRY(parse_listen(t["api"]["listen"].value_or(std::string("127.0.0.1:7800")), c).context(path));
  c.max_body_bytes = t["api"]["max_body_bytes"].value_or<int64_t>(16 << 20);
  c.http_threads = t["api"]["threads"].value_or(2);
  c.block_max_wait_ms = t["blocks"]["max_wait_ms"].value_or(2);
  c.block_max_transactions = t["blocks"]["max_transactions"].value_or<int64_t>(2000);
  if (c.http_threads < 1 || c.block_max_wait_ms < 0 || c.block_max_transactions < 1 ||
      c.max_body_bytes < 1024) {
    return Result<NodeConfig>::error(
        path + ": [api] threads, [blocks] and max_body_bytes must be positive");
  }
  return c;
}

std::string NodeConfig::to_toml() const {
  toml::table t{
      {"node", toml::table{{"id", node_id},
                           {"key", key_file},
                           {"data_dir", data_dir},
                           {"consortium", consortium_file}}},
      {"api", toml::table{{"listen", listen_address + ":" + std::to_string(listen_port)},
                          {"max_body_bytes", static_cast<int64_t>(max_body_bytes)},
                          {"threads", http_threads}}},
      {"blocks", toml::table{{"max_wait_ms", block_max_wait_ms},
                             {"max_transactions", static_cast<int64_t>(block_max_transactions)}}},
  };
  std::ostringstream os;
  os << t << "\n";
  return os.str();
}

}  // namespace chipledger
