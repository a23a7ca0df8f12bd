#include "node/dev_consortium.h"

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "node/node_config.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;

struct DevMember {
  const char* id;
  const char* name;
  Role role;
  const char* country;
};

constexpr DevMember kMembers[] = {
    {"maker", "Maker Semiconductor (fab)", Role::manufacturer, "TW"},
    {"distributor", "Distributor Logistics", Role::distributor, "SG"},
    {"datacenter", "Datacenter Operator", Role::operator_, "US"},
    {"regulator", "Export Control Agency", Role::regulator, "US"},
    {"auditor", "Independent Auditor", Role::auditor, "DE"},
};
constexpr const char* kNodeId = "node-maker";

Result<PublicKey> new_key_file(const fs::path& path) {
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  if (!key) return key.status();
  CL_TRY(key->save_file(path.string()));
  return key->public_key();
}

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

}  // namespace

Result<DevConsortium> write_dev_consortium(const DevConsortiumOptions& options) {
  fs::path dir = fs::absolute(options.dir);
  fs::path consortium_file = dir / "consortium.json";
  if (fs::exists(consortium_file)) {
    return Result<DevConsortium>::error(consortium_file.string() +
                                        " exists already; init refuses to overwrite it");
  }
  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  if (ec) return Result<DevConsortium>::error("cannot create " + (dir / "keys").string());
  fs::permissions(dir / "keys", fs::perms::owner_all, ec);

  std::string ledger_id =
      options.ledger_id.empty() ? "chipledger.dev/dev-" + random_suffix() : options.ledger_id;
  auto consortium = Consortium::create(ledger_id, 1, Policy{});
  if (!consortium) return consortium.status();
  for (const auto& m : kMembers) {
    auto key = new_key_file(dir / "keys" / (std::string(m.id) + ".pem"));
    if (!key) return key.status().context("member " + std::string(m.id));
    CL_TRY(consortium->add_member(Member{m.id, m.name, {m.role}, m.country, {*key}}));
  }
  auto node_key = new_key_file(dir / "keys" / (std::string(kNodeId) + ".pem"));
  if (!node_key) return node_key.status().context("node key");
  CL_TRY(consortium->add_node(NodeInfo{kNodeId, "maker", *node_key}));
  CL_TRY(write_text(consortium_file, consortium->to_json()));

  NodeConfig config;
  config.node_id = kNodeId;
  config.key_file = "keys/" + std::string(kNodeId) + ".pem";
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
  return DevConsortium{consortium_file.string(), config_file.string(), ledger_id};
}

}  // namespace chipledger
