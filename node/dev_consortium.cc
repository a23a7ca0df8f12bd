#include "node/dev_consortium.h"

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

}  // namespace

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options) {
  auto tmpl = load_template(options.template_file);
  if (!tmpl) return tmpl.status();
  json t = std::move(*tmpl);
  std::string where =
      options.template_file.empty() ? "built-in template" : "template " + options.template_file;
  if (auto st = check_template(t); !st) return st.context(where);

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
  json node = t.value("node", json::object());
  std::string first_member = t["members"][0]["id"].get<std::string>();
  out.node_id = node.value("id", "node-" + first_member);
  std::string node_member = node.value("member", first_member);
  CL_TRY(check_member_id(out.node_id).context(where + ": node"));

  // Fresh keys, and the trust file: the template with their public halves
  // filled in. Checked whole before anything is written.
  std::vector<std::pair<std::string, PrivateKey>> keys;
  json c{{"ledger_id", out.ledger_id},
         {"quorum", t.value("quorum", json(1))},
         {"policy", t.value("policy", json::object())},
         {"members", json::array()}};
  for (json m : t["members"]) {
    std::string id = m["id"].get<std::string>();
    auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
    if (!key) return key.status().context("member " + id);
    m["keys"] = json::array({key->public_key().pem()});
    c["members"].push_back(std::move(m));
    out.members.push_back(id);
    keys.emplace_back(id, std::move(*key));
  }
  auto node_key = PrivateKey::generate(KeyAlgorithm::ed25519);
  if (!node_key) return node_key.status().context("node key");
  c["nodes"] = json::array(
      {{{"id", out.node_id}, {"member", node_member}, {"key", node_key->public_key().pem()}}});
  keys.emplace_back(out.node_id, std::move(*node_key));
  auto consortium = Consortium::from_json(c.dump());
  if (!consortium) return consortium.status().context(where);

  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  if (ec) return Result<DevConsortium>::error("cannot create " + (dir / "keys").string());
  fs::permissions(dir / "keys", fs::perms::owner_all, ec);
  for (const auto& [id, key] : keys) {
    CL_TRY(key.save_file((dir / "keys" / (id + ".pem")).string()).context("key of " + id));
  }
  CL_TRY(write_text(consortium_file, consortium->to_json()));
  out.consortium_file = consortium_file.string();

  NodeConfig config;
  config.node_id = out.node_id;
  config.key_file = "keys/" + out.node_id + ".pem";
  config.data_dir = "data";
  config.consortium_file = "consortium.json";
  config.listen_port = options.port;
  // A one-node Raft cluster. With a fixed API port, Raft listens 100 above
  // it (room to grow the cluster later); with port 0 the kernel picks one,
  // which only a cluster of one can use.
  config.raft_id = 1;
  config.raft_listen =
      "127.0.0.1:" +
      std::to_string(options.port != 0 && options.port <= 65435 ? options.port + 100 : 0);
  fs::path config_file = dir / "node.toml";
  CL_TRY(write_text(config_file, config.to_toml()));
  out.node_config_file = config_file.string();
  return out;
}

}  // namespace chipledger
