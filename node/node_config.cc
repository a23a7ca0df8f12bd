#include "node/node_config.h"

#include <filesystem>
#include <sstream>
#include <type_traits>

#include "net/url.h"
#include "node/node_log.h"
#include "node/thread_priority.h"
#include "node/toml_file.h"

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

// "a.b.c.d:port" with a dotted-quad IPv4 address: what libraft 0.15 parses.
Result<uint16_t> check_raft_address(const std::string& address, const std::string& what) {
  auto colon = address.rfind(':');
  int parts = 0;
  bool ok = colon != std::string::npos;
  if (ok) {
    std::string host = address.substr(0, colon);
    size_t start = 0;
    while (ok && start <= host.size()) {
      size_t dot = host.find('.', start);
      if (dot == std::string::npos) dot = host.size();
      std::string part = host.substr(start, dot - start);
      ok = !part.empty() && part.size() <= 3 &&
           part.find_first_not_of("0123456789") == std::string::npos && std::stoi(part) <= 255;
      ++parts;
      start = dot + 1;
    }
    ok = ok && parts == 4;
  }
  std::string port = ok ? address.substr(colon + 1) : "";
  ok = ok && !port.empty() && port.size() <= 5 &&
       port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) <= 65535;
  if (!ok) {
    return Result<uint16_t>::error(
        what + " must be an IPv4 address and port like 127.0.0.1:7900, not '" + address + "'");
  }
  return static_cast<uint16_t>(std::stoi(port));
}

Status parse_raft(const toml::table& t, NodeConfig& c) {
  const toml::node_view<const toml::node> raft = t["raft"];
  if (!raft) return Status::ok();
  if (!raft.is_table()) return Status::error("[raft] must be a table");
  auto id = raft["id"].value<int64_t>();
  if (raft["id"] && (!id || *id < 1)) return Status::error("[raft] id must be a whole number >= 1");
  if (id) c.raft_id = static_cast<uint64_t>(*id);
  if (raft["listen"]) {
    auto listen = raft["listen"].value<std::string>();
    if (!listen) return Status::error("[raft] listen must be a string");
    c.raft_listen = *listen;
  }
  auto listen_port = check_raft_address(c.raft_listen, "[raft] listen");
  if (!listen_port) return listen_port.status();
  c.raft_election_timeout_ms = raft["election_timeout_ms"].value_or(c.raft_election_timeout_ms);
  c.raft_heartbeat_timeout_ms = raft["heartbeat_timeout_ms"].value_or(c.raft_heartbeat_timeout_ms);
  if (raft["join"]) {
    auto join = raft["join"].value<bool>();
    if (!join) return Status::error("[raft] join must be true or false");
    c.raft_join = *join;
  }
  c.raft_snapshot_threshold = raft["snapshot_threshold"].value_or(c.raft_snapshot_threshold);
  c.raft_snapshot_trailing = raft["snapshot_trailing"].value_or(c.raft_snapshot_trailing);
  // Small windows ran into a libraft 0.15 assertion in the simulation
  // (docs/design-notes.md); real deployments want thousands anyway.
  if (c.raft_snapshot_threshold < 64 || c.raft_snapshot_threshold > (1 << 30) ||
      c.raft_snapshot_trailing < 64 || c.raft_snapshot_trailing > (1 << 30)) {
    return Status::error(
        "[raft] snapshot_threshold and snapshot_trailing must be 64..2^30 entries");
  }
  if (c.raft_heartbeat_timeout_ms < 1 ||
      c.raft_heartbeat_timeout_ms >= c.raft_election_timeout_ms) {
    return Status::error(
        "[raft] heartbeat_timeout_ms must be positive and below election_timeout_ms");
  }
  if (raft["peers"]) {
    const toml::array* peers = raft["peers"].as_array();
    if (!peers) return Status::error("[raft] peers must be an array of tables ([[raft.peers]])");
    for (size_t i = 0; i < peers->size(); ++i) {
      std::string what = "[raft] peers[" + std::to_string(i) + "]";
      const toml::table* p = peers->get(i)->as_table();
      if (!p) return Status::error(what + " must be a table with id, address and api");
      RaftPeerConfig peer;
      auto pid = (*p)["id"].value<int64_t>();
      auto address = (*p)["address"].value<std::string>();
      auto api = (*p)["api"].value<std::string>();
      if (!pid || *pid < 1) return Status::error(what + ".id must be a whole number >= 1");
      if (!address) return Status::error(what + ".address is missing (a string)");
      if (!api) {
        return Status::error(what + ".api must be the peer's API URL (https://HOST:PORT)");
      }
      auto api_url = parse_url(*api);
      if (!api_url || (!api_url->path.empty() && api_url->path != "/")) {
        return Status::error(what + ".api must be the peer's API URL (https://HOST:PORT): " +
                             (api_url ? "a node URL has no path" : api_url.reason()));
      }
      peer.id = static_cast<uint64_t>(*pid);
      peer.address = *address;
      peer.api_url = *api;
      auto port = check_raft_address(peer.address, what + ".address");
      if (!port) return port.status();
      for (const auto& other : c.raft_peers) {
        if (other.id == peer.id || other.address == peer.address) {
          return Status::error(what + " repeats the id or address of another peer");
        }
      }
      c.raft_peers.push_back(std::move(peer));
    }
  }
  if (!c.raft_peers.empty()) {
    bool self = false;
    for (const auto& p : c.raft_peers) {
      if (p.id == c.raft_id) {
        self = true;
        if (p.address != c.raft_listen) {
          return Status::error("[raft] peers lists this node (id " + std::to_string(p.id) +
                               ") at " + p.address + ", but [raft] listen is " + c.raft_listen);
        }
      }
    }
    if (!self) {
      return Status::error("[raft] peers does not list this node's id " +
                           std::to_string(c.raft_id));
    }
  }
  if (*listen_port == 0 && c.raft_peers.size() > 1) {
    return Status::error("[raft] listen needs a fixed port in a cluster of several nodes");
  }
  return Status::ok();
}

// [tls] ca, cert and key: all three or none.
Status parse_tls(const toml::table& t, const fs::path& base, NodeConfig& c) {
  const toml::node_view<const toml::node> tls = t["tls"];
  if (tls) {
    if (!tls.is_table()) return Status::error("[tls] must be a table with ca, cert and key");
    for (const char* key : {"ca", "cert", "key"}) {
      auto v = tls[key].value<std::string>();
      if (!v || v->empty())
        return Status::error(std::string("[tls] ") + key + " is missing (a file)");
    }
    c.tls_ca_file = resolve(base, *tls["ca"].value<std::string>());
    c.tls_cert_file = resolve(base, *tls["cert"].value<std::string>());
    c.tls_key_file = resolve(base, *tls["key"].value<std::string>());
    c.tls_renew_warning_days = tls["renew_warning_days"].value_or(c.tls_renew_warning_days);
    if (c.tls_renew_warning_days < 1 || c.tls_renew_warning_days > 3650) {
      return Status::error("[tls] renew_warning_days must be 1..3650");
    }
  }
  if (!c.has_tls() && (c.raft_peers.size() > 1 || c.raft_join)) {
    return Status::error(
        "[tls] is missing: Raft between nodes runs only over mutual TLS (docs/tls.md)");
  }
  if (!c.has_tls() && !c.plain_http) {
    return Status::error(
        "[tls] is missing: the API serves HTTPS with the node's certificate; a node without "
        "[tls] serves plain HTTP only with [api] plain_http = true (development only, "
        "docs/tls.md)");
  }
  return Status::ok();
}

// An integer key of [table] in [min, max], or its default.
Result<int64_t> table_integer(const toml::table& t, const char* table, const char* key,
                              int64_t fallback, int64_t min, int64_t max) {
  auto node = t[table][key];
  if (!node) return fallback;
  auto v = node.value<int64_t>();
  if (!v || *v < min || *v > max) {
    return Result<int64_t>::error("[" + std::string(table) + "] " + std::string(key) +
                                  " must be an integer in " + std::to_string(min) + ".." +
                                  std::to_string(max));
  }
  return *v;
}

Result<int64_t> api_integer(const toml::table& t, const char* key, int64_t fallback, int64_t min,
                            int64_t max) {
  return table_integer(t, "api", key, fallback, min, max);
}

// [api] connection caps, deadlines and answer sizes (docs/node-config.md).
Status parse_api_limits(const toml::table& t, NodeConfig& c) {
  auto get = [&](const char* key, auto& field, int64_t min, int64_t max) -> Status {
    auto v = api_integer(t, key, static_cast<int64_t>(field), min, max);
    if (!v) return v.status();
    field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
    return Status::ok();
  };
  CL_TRY(get("max_pending_per_address", c.max_pending_per_address, 0,
             static_cast<int64_t>(c.max_pending_transactions)));
  CL_TRY(get("max_connections", c.max_connections, 1, 1'000'000));
  CL_TRY(get("max_connections_per_address", c.max_connections_per_address, 1,
             static_cast<int64_t>(c.max_connections)));
  CL_TRY(get("idle_timeout_seconds", c.idle_timeout_seconds, 1, 3600));
  CL_TRY(get("header_timeout_seconds", c.header_timeout_seconds, 1, 600));
  CL_TRY(get("body_timeout_seconds", c.body_timeout_seconds, 1, 3600));
  CL_TRY(get("max_answer_bytes", c.max_answer_bytes, 1 << 20, int64_t{1} << 32));
  return Status::ok();
}

// [log] level and format (docs/node-config.md).
Status parse_log(const toml::table& t, NodeConfig& c) {
  for (auto [key, field] : {std::pair{"level", &c.log_level}, std::pair{"format", &c.log_format}}) {
    auto node = t["log"][key];
    if (!node) continue;
    auto v = node.value<std::string>();
    if (!v) return Status::error("[log] " + std::string(key) + " must be a string");
    *field = *v;
  }
  if (auto level = parse_log_level(c.log_level); !level) return level.status();
  if (auto format = parse_log_format(c.log_format); !format) return format.status();
  return Status::ok();
}

}  // namespace

Result<NodeConfig> NodeConfig::load_file(const std::string& path) {
  auto parsed = read_toml_file(path);
  if (!parsed) return parsed.status();
  const toml::table& t = *parsed;
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
  const int64_t min_free_mb =
      t["node"]["min_free_mb"].value_or<int64_t>(static_cast<int64_t>(c.min_free_bytes >> 20));
  if (min_free_mb < 0 || min_free_mb > 1'000'000'000) {
    return Result<NodeConfig>::error(path + ": [node] min_free_mb must be 0..1000000000");
  }
  c.min_free_bytes = static_cast<uint64_t>(min_free_mb) << 20;
  const int64_t reserve_mb =
      t["node"]["reserve_mb"].value_or<int64_t>(static_cast<int64_t>(c.reserve_bytes >> 20));
  if (reserve_mb < 0 || reserve_mb > min_free_mb) {
    return Result<NodeConfig>::error(path + ": [node] reserve_mb must be 0.." +
                                     std::to_string(min_free_mb) +
                                     " (at most min_free_mb: the warning comes first)");
  }
  c.reserve_bytes = static_cast<uint64_t>(reserve_mb) << 20;
  CL_TRY(parse_listen(t["api"]["listen"].value_or(std::string("127.0.0.1:7800")), c.listen_address,
                      c.listen_port)
             .context(path + ": [api]"));
  c.max_body_bytes = t["api"]["max_body_bytes"].value_or<int64_t>(16 << 20);
  c.http_threads = t["api"]["threads"].value_or(2);
  auto nice = table_integer(t, "api", "thread_nice", c.http_thread_nice, 0, kMaxThreadNiceStep);
  if (!nice) return Result<NodeConfig>(nice.status().context(path));
  c.http_thread_nice = static_cast<int>(*nice);
  if (t["api"]["plain_http"]) {
    auto plain = t["api"]["plain_http"].value<bool>();
    if (!plain) return Result<NodeConfig>::error(path + ": [api] plain_http must be true or false");
    c.plain_http = *plain;
  }
  auto pending = t["api"]["max_pending_transactions"].value_or<int64_t>(
      static_cast<int64_t>(c.max_pending_transactions));
  if (pending < 1 || pending > 10'000'000) {
    return Result<NodeConfig>::error(path + ": [api] max_pending_transactions must be 1..10000000");
  }
  c.max_pending_transactions = static_cast<size_t>(pending);
  CL_TRY(parse_api_limits(t, c).context(path));
  CL_TRY(parse_log(t, c).context(path));
  c.block_max_wait_ms = t["blocks"]["max_wait_ms"].value_or(2);
  c.block_max_transactions = t["blocks"]["max_transactions"].value_or<int64_t>(2000);
  auto in_flight = table_integer(t, "blocks", "max_in_flight",
                                 static_cast<int64_t>(c.block_max_in_flight), 1, 16);
  if (!in_flight) return Result<NodeConfig>(in_flight.status().context(path));
  c.block_max_in_flight = static_cast<size_t>(*in_flight);
  if (c.http_threads < 1 || c.block_max_wait_ms < 0 || c.block_max_transactions < 1 ||
      c.max_body_bytes < 1024) {
    return Result<NodeConfig>::error(
        path + ": [api] threads, [blocks] and max_body_bytes must be positive");
  }
  auto resign = t["checkpoint"]["resign_interval_seconds"].value_or<int64_t>(
      static_cast<int64_t>(c.checkpoint_resign_interval_seconds));
  if (resign < 1 || resign > 86400) {
    return Result<NodeConfig>::error(path +
                                     ": [checkpoint] resign_interval_seconds must be 1..86400");
  }
  c.checkpoint_resign_interval_seconds = static_cast<uint64_t>(resign);
  CL_TRY(parse_raft(t, c).context(path));
  CL_TRY(parse_tls(t, base, c).context(path));
  return c;
}

std::string NodeConfig::to_toml() const {
  toml::table t{
      {"node", toml::table{{"id", node_id},
                           {"key", key_file},
                           {"data_dir", data_dir},
                           {"consortium", consortium_file},
                           {"min_free_mb", static_cast<int64_t>(min_free_bytes >> 20)},
                           {"reserve_mb", static_cast<int64_t>(reserve_bytes >> 20)}}},
      {"api",
       toml::table{
           {"listen", listen_address + ":" + std::to_string(listen_port)},
           {"max_body_bytes", static_cast<int64_t>(max_body_bytes)},
           {"max_pending_transactions", static_cast<int64_t>(max_pending_transactions)},
           {"max_connections", static_cast<int64_t>(max_connections)},
           {"max_connections_per_address", static_cast<int64_t>(max_connections_per_address)},
           {"idle_timeout_seconds", idle_timeout_seconds},
           {"header_timeout_seconds", header_timeout_seconds},
           {"body_timeout_seconds", body_timeout_seconds},
           {"max_answer_bytes", static_cast<int64_t>(max_answer_bytes)},
           {"threads", http_threads},
           {"thread_nice", http_thread_nice}}},
      {"blocks", toml::table{{"max_wait_ms", block_max_wait_ms},
                             {"max_transactions", static_cast<int64_t>(block_max_transactions)},
                             {"max_in_flight", static_cast<int64_t>(block_max_in_flight)}}},
      {"checkpoint", toml::table{{"resign_interval_seconds",
                                  static_cast<int64_t>(checkpoint_resign_interval_seconds)}}},
  };
  if (plain_http) t["api"].as_table()->insert("plain_http", true);
  if (max_pending_per_address) {
    t["api"].as_table()->insert("max_pending_per_address",
                                static_cast<int64_t>(max_pending_per_address));
  }
  if (has_tls()) {
    t.insert("tls", toml::table{{"ca", tls_ca_file},
                                {"cert", tls_cert_file},
                                {"key", tls_key_file},
                                {"renew_warning_days", tls_renew_warning_days}});
  }
  toml::table raft{{"id", static_cast<int64_t>(raft_id)},
                   {"listen", raft_listen},
                   {"election_timeout_ms", raft_election_timeout_ms},
                   {"heartbeat_timeout_ms", raft_heartbeat_timeout_ms},
                   {"snapshot_threshold", raft_snapshot_threshold},
                   {"snapshot_trailing", raft_snapshot_trailing}};
  if (raft_join) raft.insert("join", true);
  if (!raft_peers.empty()) {
    toml::array peers;
    for (const auto& p : raft_peers) {
      peers.push_back(toml::table{
          {"id", static_cast<int64_t>(p.id)}, {"address", p.address}, {"api", p.api_url}});
    }
    raft.insert("peers", std::move(peers));
  }
  t.insert("raft", std::move(raft));
  std::ostringstream os;
  os << t << "\n";
  return os.str();
}

Status parse_listen(const std::string& listen, std::string& address, uint16_t& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::error("listen must be HOST:PORT");
  address = listen.substr(0, colon);
  int number = 0;
  try {
    number = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    number = -1;
  }
  if (number < 0 || number > 65535) return Status::error("listen has no valid port");
  port = static_cast<uint16_t>(number);
  return Status::ok();
}

}  // namespace chipledger
