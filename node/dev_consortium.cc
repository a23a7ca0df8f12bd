#include "node/dev_consortium.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/certificates.h"
#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "ledger/transaction.h"
#include "node/node_config.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The consortium `init` writes without a template: one member per role.
const char* const kDefaultTemplate = R"json({
  "members": [
    {"id": "maker", "name": "Maker Semiconductor (fab)", "roles": ["manufacturer"], "country": "TW"},
    {"id": "distributor", "name": "Distributor Logistics", "roles": ["distributor"], "country": "SG"},
    {"id": "datacenter", "name": "Datacenter Operator", "roles": ["operator"], "country": "US"},
    {"id": "regulator", "name": "Export Control Agency", "roles": ["regulator"], "country": "US"},
    {"id": "auditor", "name": "Independent Auditor", "roles": ["auditor"], "country": "DE"}
  ],
  "node": {"id": "node-maker", "member": "maker"}
})json";

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::error("cannot write " + path.string());
  return Status::ok();
}

// A secret: mode 0600 from its creation; an existing file is not overwritten.
Status write_secret(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error("cannot create " + path.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w <= 0) {
      ::close(fd);
      return Status::error("cannot write " + path.string());
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) return Status::error("cannot write " + path.string());
  return Status::ok();
}

// The dev CA and one certificate per node (DIR/tls): valid from an hour
// ago (clocks differ) for a year; the CA for ten.
// Returns the CA's certificate (PEM).
Result<std::string> write_dev_certificates(
    const fs::path& dir, const std::string& ledger_id,
    const std::vector<std::pair<std::string, uint64_t>>& nodes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Result<std::string>::error("cannot create " + dir.string());
  fs::permissions(dir, fs::perms::owner_all, ec);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto ca =
      make_ca("chipledger dev CA " + ledger_id.substr(0, 40), now - 3600, now + 10 * 365 * 86400);
  if (!ca) return ca.status().context("the dev CA");
  CL_TRY(write_text(dir / "ca.pem", ca->cert_pem));
  CL_TRY(write_secret(dir / "ca-key.pem", ca->key_pem));
  for (const auto& [node_id, raft_id] : nodes) {
    NodeCertificateRequest req{
        node_id, raft_id, {"localhost", "127.0.0.1"}, now - 3600, now + 365 * 86400};
    auto cert = issue_node_certificate(*ca, req);
    if (!cert) return cert.status().context("the certificate of " + node_id);
    CL_TRY(write_text(dir / (node_id + ".pem"), cert->cert_pem));
    CL_TRY(write_secret(dir / (node_id + "-key.pem"), cert->key_pem));
  }
  return ca->cert_pem;
}

std::string random_suffix() {
  uint8_t bytes[4];
  RAND_bytes(bytes, sizeof bytes);
  return hex_encode(ByteView(bytes, sizeof bytes));
}

Result<json> load_template(const std::string& file) {
  if (file.empty()) return json::parse(kDefaultTemplate);
  std::ifstream in(file);
  if (!in) return Result<json>::error("cannot read template " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  json t = json::parse(ss.str(), nullptr, false);
  if (t.is_discarded() || !t.is_object()) {
    return Result<json>::error("template " + file + " is not a JSON object");
  }
  return t;
}

// Checks the template's shape; what Consortium::from_json checks (ids,
// roles, countries, policy) it leaves to it.
Status check_template(const json& t) {
  if (!t.contains("members") || !t["members"].is_array() || t["members"].empty()) {
    return Status::error("'members' must be a non-empty list");
  }
  for (const auto& m : t["members"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) {
      return Status::error("every member needs an 'id'");
    }
    std::string id = m["id"].get<std::string>();
    CL_TRY(check_member_id(id).context("member"));
    if (m.contains("keys")) {
      return Status::error("member " + id +
                           " lists keys; a template carries none, init generates them");
    }
  }
  if (t.contains("nodes")) return Status::error("give the node as 'node' {id, member}; no keys");
  if (t.contains("node")) {
    const json& n = t["node"];
    bool ok = n.is_object() && (!n.contains("id") || n["id"].is_string()) &&
              (!n.contains("member") || n["member"].is_string());
    if (!ok) return Status::error("'node' must be an object {\"id\": ..., \"member\": ...}");
  }
  if (t.contains("quorum") && !t["quorum"].is_number_unsigned()) {
    return Status::error("'quorum' must be a whole number");
  }
  if (t.contains("ledger_id") && !t["ledger_id"].is_string()) {
    return Status::error("'ledger_id' must be a string");
  }
  return Status::ok();
}

bool has_role(const json& member, const std::string& role) {
  if (!member.contains("roles") || !member["roles"].is_array()) return false;
  for (const auto& r : member["roles"]) {
    if (r.is_string() && r.get<std::string>() == role) return true;
  }
  return false;
}

// The organisations that run the nodes, as (node id, member): the
// template's node (or the first member) first, then for each custody role
// (manufacturer, distributor, operator) that no chosen member has, the
// first member with it, then the other members in order.
Result<std::vector<std::pair<std::string, std::string>>> pick_nodes(const json& t, unsigned n) {
  using R = Result<std::vector<std::pair<std::string, std::string>>>;
  const json& members = t["members"];
  json node = t.value("node", json::object());
  std::string member = node.value("member", members[0]["id"].get<std::string>());
  std::vector<std::pair<std::string, std::string>> out{
      {node.value("id", "node-" + member), member}};
  std::vector<const json*> chosen;
  for (const auto& m : members) {
    if (m["id"] == member) chosen.push_back(&m);
  }
  auto take = [&](const json& m) {
    std::string id = m["id"].get<std::string>();
    for (const auto& [node_id, owner] : out) {
      if (owner == id || node_id == "node-" + id) return;
    }
    out.emplace_back("node-" + id, id);
    chosen.push_back(&m);
  };
  for (const std::string role : {"manufacturer", "distributor", "operator"}) {
    bool covered = false;
    for (const json* c : chosen) covered = covered || has_role(*c, role);
    for (const auto& m : members) {
      if (covered || out.size() >= n) break;
      if (has_role(m, role)) {
        size_t before = out.size();
        take(m);
        covered = out.size() > before;
      }
    }
  }
  for (const auto& m : members) {
    if (out.size() >= n) break;
    take(m);
  }
  if (out.size() < n) {
    return R::error("the template has " + std::to_string(members.size()) + " member(s); " +
                    std::to_string(n) + " nodes need one member (organisation) each");
  }
  out.resize(n);
  return out;
}

}  // namespace

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options) {
  auto tmpl = load_template(options.template_file);
  if (!tmpl) return tmpl.status();
  json t = std::move(*tmpl);
  std::string where =
      options.template_file.empty() ? "built-in template" : "template " + options.template_file;
  if (auto st = check_template(t); !st) return st.context(where);
  const unsigned n = options.nodes;
  if (n < 1 || n > 9) return Result<DevConsortium>::error("--nodes must be 1 to 9");
  if (n > 1 && (options.port == 0 || options.port > 65535 - 100 - (n - 1))) {
    return Result<DevConsortium>::error(
        "a cluster of several nodes needs a fixed base port (--port P: APIs on P.., Raft on "
        "P+100..), not " +
        std::to_string(options.port));
  }
  auto owners = pick_nodes(t, n);
  if (!owners) return owners.status().context(where);

  fs::path dir = fs::absolute(options.dir);
  fs::path consortium_file = dir / "consortium.json";
  if (fs::exists(consortium_file)) {
    return Result<DevConsortium>::error(consortium_file.string() +
                                        " exists already; init refuses to overwrite it");
  }
  DevConsortium out;
  out.ledger_id = !options.ledger_id.empty() ? options.ledger_id
                  : t.contains("ledger_id")  ? t["ledger_id"].get<std::string>()
                                             : "chipledger.dev/dev-" + random_suffix();
  // At least a strict majority must cosign a checkpoint, so two checkpoints
  // that disagree can never both reach the quorum: that is the default, and
  // a template's own quorum must be one (Consortium::validate refuses it
  // otherwise, before anything is written).
  out.quorum = t.value("quorum", n / 2 + 1);

  // Fresh keys, and the trust file: the template with their public halves
  // filled in. Checked whole before anything is written.
  std::vector<std::pair<std::string, PrivateKey>> keys;
  json c{{"ledger_id", out.ledger_id},
         {"quorum", out.quorum},
         {"policy", t.value("policy", json::object())},
         {"members", json::array()},
         {"nodes", json::array()}};
  for (json m : t["members"]) {
    std::string id = m["id"].get<std::string>();
    auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
    if (!key) return key.status().context("member " + id);
    m["keys"] = json::array({key->public_key().pem()});
    c["members"].push_back(std::move(m));
    out.members.push_back(id);
    keys.emplace_back(id, std::move(*key));
  }
  // Governance (docs/governance.md): the template's, or every member an
  // admin and a majority of them needed, so that no single member rules.
  if (t.contains("governance")) {
    c["governance"] = t["governance"];
  } else {
    c["governance"] = {{"admins", out.members}, {"threshold", out.members.size() / 2 + 1}};
  }
  const std::string scheme = options.plain_http ? "http://" : "https://";
  for (size_t i = 0; i < owners->size(); ++i) {
    const auto& [node_id, member] = (*owners)[i];
    CL_TRY(check_member_id(node_id).context(where + ": node"));
    auto node_key = PrivateKey::generate(KeyAlgorithm::ed25519);
    if (!node_key) return node_key.status().context("node key of " + node_id);
    json node{{"id", node_id}, {"member", member}, {"key", node_key->public_key().pem()}};
    // A fixed port: clients find every node's API in the trust file.
    if (options.port != 0 && i < n) {
      node["api"] = scheme + "127.0.0.1:" + std::to_string(options.port + i);
      // Its Raft server: governance changes the Raft configuration by it.
      if (options.port <= 65435 - i) {
        node["raft_id"] = i + 1;
        node["raft_address"] = "127.0.0.1:" + std::to_string(options.port + 100 + i);
      }
    }
    c["nodes"].push_back(std::move(node));
    keys.emplace_back(node_id, std::move(*node_key));
  }
  auto consortium = Consortium::from_json(c.dump());
  if (!consortium) return consortium.status().context(where);
  if (fs::exists(dir / "tls" / "ca.pem")) {
    return Result<DevConsortium>::error((dir / "tls").string() +
                                        " holds certificates already; init refuses to overwrite "
                                        "them");
  }

  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  if (ec) return Result<DevConsortium>::error("cannot create " + (dir / "keys").string());
  fs::permissions(dir / "keys", fs::perms::owner_all, ec);
  for (const auto& [id, key] : keys) {
    CL_TRY(key.save_file((dir / "keys" / (id + ".pem")).string()).context("key of " + id));
  }
  // The certificates first: the trust file names their CA (tls_ca), so
  // clients check the nodes' HTTPS certificates against it.
  std::vector<std::pair<std::string, uint64_t>> cert_nodes;
  for (unsigned i = 0; i < n; ++i) cert_nodes.emplace_back((*owners)[i].first, i + 1);
  auto ca_pem = write_dev_certificates(dir / "tls", out.ledger_id, cert_nodes);
  if (!ca_pem) return ca_pem.status();
  if (!options.plain_http) CL_TRY(consortium->set_tls_ca(*ca_pem).context("the dev CA"));
  CL_TRY(write_text(consortium_file, consortium->to_json()));
  out.consortium_file = consortium_file.string();

  std::vector<RaftPeerConfig> peers;
  for (unsigned i = 0; i < n && n > 1; ++i) {
    peers.push_back(RaftPeerConfig{i + 1, "127.0.0.1:" + std::to_string(options.port + 100 + i),
                                   scheme + "127.0.0.1:" + std::to_string(options.port + i)});
  }
  for (unsigned i = 0; i < n; ++i) {
    const auto& [node_id, member] = (*owners)[i];
    NodeConfig config;
    config.node_id = node_id;
    config.key_file = "keys/" + node_id + ".pem";
    config.consortium_file = "consortium.json";
    config.raft_id = i + 1;
    config.tls_ca_file = "tls/ca.pem";
    config.tls_cert_file = "tls/" + node_id + ".pem";
    config.tls_key_file = "tls/" + node_id + "-key.pem";
    config.plain_http = options.plain_http;
    fs::path config_file;
    if (n == 1) {
      config.data_dir = "data";
      config.listen_port = options.port;
      // A one-node Raft cluster. With a fixed API port, Raft listens 100
      // above it (room to grow the cluster later); with port 0 the kernel
      // picks one, which only a cluster of one can use.
      config.raft_listen =
          "127.0.0.1:" +
          std::to_string(options.port != 0 && options.port <= 65435 ? options.port + 100 : 0);
      config_file = dir / "node.toml";
    } else {
      std::string name = "node-" + std::to_string(i + 1);
      config.data_dir = name;
      config.listen_port = static_cast<uint16_t>(options.port + i);
      config.raft_listen = peers[i].address;
      config.raft_peers = peers;
      config_file = dir / (name + ".toml");
    }
    CL_TRY(write_text(config_file, config.to_toml()));
    out.nodes.push_back(
        DevConsortium::Node{node_id, member, config_file.string(),
                            scheme + "127.0.0.1:" + std::to_string(config.listen_port)});
  }
  out.node_id = out.nodes[0].id;
  out.node_config_file = out.nodes[0].config_file;
  return out;
}

}  // namespace chipledger
