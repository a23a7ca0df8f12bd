// The [raft] section of node.toml, and three whole NodeServices (RocksDB,
// Raft, HTTP API) in process on loopback ports: a follower answers a
// submission with 421 and the leader's API URL, the CLI's NodeClient
// retries at the leader, every node serves the same log and checkpoints
// that every node cosigned (quorum 2), and `chipledger-node init` still
// gives a working one-node config.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/node_client.h"
#include "client/submission.h"
#include "ledger/checkpoint.h"
#include "net/http_client.h"
#include "node/dev_consortium.h"
#include "node/node_config.h"
#include "node/node_service.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/test_consortium.h"
#include "tests/node/test_tls.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;
namespace fs = std::filesystem;
using nlohmann::json;

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  REQUIRE(out.good());
}

const char* kBase = R"([node]
id = "node-1"
key = "keys/node-1.pem"
data_dir = "data"
consortium = "consortium.json"
[api]
plain_http = true
)";

// Without plain_http: the API serves HTTPS, and needs [tls].
const char* kHttpsBase = R"([node]
id = "node-1"
key = "keys/node-1.pem"
data_dir = "data"
consortium = "consortium.json"
)";

Result<NodeConfig> load_with(const TempDir& dir, const std::string& extra) {
  fs::path file = dir.path / "node.toml";
  write_file(file, std::string(kBase) + extra);
  return NodeConfig::load_file(file.string());
}

const char* kTls = R"(
[tls]
ca = "tls/ca.pem"
cert = "tls/node.pem"
key = "tls/node-key.pem"
)";

const char* kThreePeers = R"(
[[raft.peers]]
id = 1
address = "127.0.0.1:7901"
api = "http://127.0.0.1:7801"

[[raft.peers]]
id = 2
address = "127.0.0.1:7902"
api = "http://127.0.0.1:7802"

[[raft.peers]]
id = 3
address = "127.0.0.1:7903"
api = "http://127.0.0.1:7803"
)";

}  // namespace

TEST_CASE("node.toml without a raft table is a one-node cluster", "[raft][config]") {
  TempDir dir;
  auto c = must(load_with(dir, ""));
  CHECK(c.raft_id == 1);
  CHECK(c.raft_listen == "127.0.0.1:0");
  CHECK(c.raft_peers.empty());
  CHECK(c.raft_election_timeout_ms == 1000);
  CHECK(c.raft_heartbeat_timeout_ms == 100);
  CHECK(c.raft_snapshot_threshold == 8192);
  CHECK(c.raft_snapshot_trailing == 4096);
}

TEST_CASE("the raft table names this node, its address, timeouts and the peers", "[raft][config]") {
  TempDir dir;
  auto c = must(load_with(dir, std::string(R"(
[raft]
id = 2
listen = "127.0.0.1:7902"
election_timeout_ms = 500
heartbeat_timeout_ms = 50
snapshot_threshold = 1000
snapshot_trailing = 500
)") + kThreePeers + kTls));
  CHECK(c.raft_id == 2);
  CHECK(c.tls_cert_file == (dir.path / "tls" / "node.pem").string());
  CHECK(c.raft_listen == "127.0.0.1:7902");
  CHECK(c.raft_election_timeout_ms == 500);
  CHECK(c.raft_heartbeat_timeout_ms == 50);
  CHECK(c.raft_snapshot_threshold == 1000);
  CHECK(c.raft_snapshot_trailing == 500);
  REQUIRE(c.raft_peers.size() == 3);
  CHECK(c.raft_peers[2].id == 3);
  CHECK(c.raft_peers[2].address == "127.0.0.1:7903");
  CHECK(c.raft_peers[2].api_url == "http://127.0.0.1:7803");

  // to_toml writes what load_file reads back.
  write_file(dir.path / "again.toml", c.to_toml());
  auto again = must(NodeConfig::load_file((dir.path / "again.toml").string()));
  CHECK(again.raft_id == 2);
  CHECK(again.raft_listen == c.raft_listen);
  CHECK(again.raft_election_timeout_ms == 500);
  CHECK(again.raft_snapshot_threshold == 1000);
  CHECK(again.raft_snapshot_trailing == 500);
  CHECK(again.tls_key_file == c.tls_key_file);
  REQUIRE(again.raft_peers.size() == 3);
  CHECK(again.raft_peers[1].api_url == "http://127.0.0.1:7802");
}

TEST_CASE("the API serves HTTPS with tls, plain HTTP only when plain_http says so",
          "[raft][config]") {
  TempDir dir;
  auto write = [&](const std::string& toml) {
    fs::path file = dir.path / "node.toml";
    write_file(file, toml);
    return NodeConfig::load_file(file.string());
  };
  auto https = must(write(std::string(kHttpsBase) + kTls));
  CHECK_FALSE(https.plain_http);
  CHECK(https.api_over_tls());
  auto plain = must(write(std::string(kHttpsBase) + "[api]\nplain_http = true\n" + kTls));
  CHECK(plain.plain_http);
  CHECK_FALSE(plain.api_over_tls());
  // to_toml keeps it.
  write_file(dir.path / "again.toml", plain.to_toml());
  CHECK(must(NodeConfig::load_file((dir.path / "again.toml").string())).plain_http);
  write_file(dir.path / "again.toml", https.to_toml());
  CHECK_FALSE(must(NodeConfig::load_file((dir.path / "again.toml").string())).plain_http);

  // No [tls] and no plain_http: refused, naming both.
  auto bare = write(kHttpsBase);
  REQUIRE_FALSE(bare);
  CHECK_THAT(bare.reason(), Catch::Contains("[api] plain_http = true"));
  CHECK_THAT(bare.reason(), Catch::Contains("[tls] is missing"));
  auto off = write(std::string(kHttpsBase) + "[api]\nplain_http = false\n");
  REQUIRE_FALSE(off);
  CHECK_THAT(off.reason(), Catch::Contains("plain_http"));
  auto typo = write(std::string(kHttpsBase) + "[api]\nplain_http = \"yes\"\n" + kTls);
  REQUIRE_FALSE(typo);
  CHECK_THAT(typo.reason(), Catch::Contains("plain_http must be true or false"));

  // https peer API URLs are taken, a path is not.
  std::string peers = R"(
[raft]
id = 1
listen = "127.0.0.1:7901"
[[raft.peers]]
id = 1
address = "127.0.0.1:7901"
api = "https://127.0.0.1:7801"
[[raft.peers]]
id = 2
address = "127.0.0.1:7902"
api = "https://node-2.example.org:7802"
)";
  auto cluster = must(write(std::string(kHttpsBase) + peers + kTls));
  CHECK(cluster.raft_peers[1].api_url == "https://node-2.example.org:7802");
  std::string with_path = peers;
  with_path.replace(with_path.find("7802\""), 5, "7802/v1\"");
  auto bad = write(std::string(kHttpsBase) + with_path + kTls);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.reason(), Catch::Contains("no path"));
}

TEST_CASE("raft table mistakes are refused with a reason", "[raft][config]") {
  TempDir dir;
  struct Case {
    std::string toml;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"[raft]\nid = 0\n", "id must be"},
      {"[raft]\nlisten = \"localhost:7900\"\n", "IPv4 address and port"},
      {"[raft]\nlisten = \"127.0.0.1\"\n", "IPv4 address and port"},
      {"[raft]\nlisten = \"127.0.0.1:70000\"\n", "IPv4 address and port"},
      {"[raft]\nelection_timeout_ms = 100\nheartbeat_timeout_ms = 100\n", "heartbeat"},
      {"[raft]\nsnapshot_threshold = 10\n", "snapshot_threshold and snapshot_trailing"},
      {"[raft]\nsnapshot_trailing = 0\n", "snapshot_threshold and snapshot_trailing"},
      {std::string("[raft]\nid = 4\nlisten = \"127.0.0.1:7904\"\n") + kThreePeers,
       "does not list this node"},
      {std::string("[raft]\nid = 1\nlisten = \"127.0.0.1:7999\"\n") + kThreePeers,
       "but [raft] listen is"},
      {std::string("[raft]\nid = 1\nlisten = \"127.0.0.1:0\"\n") +
           "[[raft.peers]]\nid = 1\naddress = \"127.0.0.1:0\"\napi = \"http://a:1\"\n"
           "[[raft.peers]]\nid = 2\naddress = \"127.0.0.1:7902\"\napi = \"http://b:1\"\n",
       "fixed port"},
      {"[raft]\nlisten = \"127.0.0.1:7901\"\n[[raft.peers]]\nid = 1\naddress = "
       "\"127.0.0.1:7901\"\napi = \"ftp://x\"\n",
       "API URL"},
      {"[raft]\nlisten = \"127.0.0.1:7901\"\n[[raft.peers]]\nid = 1\naddress = "
       "\"127.0.0.1:7901\"\napi = \"http://x:1\"\n[[raft.peers]]\nid = 1\naddress = "
       "\"127.0.0.1:7902\"\napi = \"http://y:1\"\n",
       "repeats"},
      {std::string("[raft]\nid = 1\nlisten = \"127.0.0.1:7901\"\n") + kThreePeers,
       "Raft between nodes runs only over mutual TLS"},
      {std::string("[raft]\nid = 1\nlisten = \"127.0.0.1:7901\"\n") + kThreePeers +
           "[tls]\nca = \"ca.pem\"\ncert = \"n.pem\"\n",
       "[tls] key is missing"},
      {std::string("[raft]\nid = 1\nlisten = \"127.0.0.1:7901\"\n") + kThreePeers + kTls +
           "renew_warning_days = 0\n",
       "renew_warning_days must be 1..3650"},
  };
  for (const auto& c : cases) {
    INFO(c.toml);
    auto r = load_with(dir, c.toml);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.reason(), Catch::Contains(c.reason));
  }
}

TEST_CASE("init writes a one-node raft config that starts and takes submissions",
          "[raft][config]") {
  TempDir dir;
  auto dev = must(write_dev_consortium({(dir.path / "net").string(), "", 0, ""}));
  auto config = must(NodeConfig::load_file(dev.node_config_file));
  CHECK(config.raft_id == 1);
  CHECK(config.raft_listen == "127.0.0.1:0");
  CHECK(config.api_over_tls());
  auto node = must(NodeService::open(config));
  must_ok(node->start());
  // HTTPS, checked against the CA the trust file names.
  auto trust = must(Consortium::load_file(dev.consortium_file));
  REQUIRE_FALSE(trust.tls_ca().empty());
  HttpClientOptions options;
  options.tls = must(make_client_context(trust.tls_ca(), nullptr));
  auto client =
      must(NodeClient::connect_to("https://127.0.0.1:" + std::to_string(node->port()), options));
  auto health = must(client->health());
  CHECK(health["raft"]["role"] == "leader");
  CHECK(health["raft"]["id"] == 1);
  CHECK(fs::exists(dir.path / "net" / "data" / "raft"));

  // With a fixed API port, Raft listens 100 above it.
  auto fixed = must(write_dev_consortium({(dir.path / "net2").string(), "", 17800, ""}));
  CHECK(must(NodeConfig::load_file(fixed.node_config_file)).raft_listen == "127.0.0.1:17900");
  node->stop();
}

namespace {

// Three NodeServices of one consortium, each with its own folder and ports.
struct ServiceCluster {
  TempDir tmp{"chipledger-raft-cluster-"};
  std::unique_ptr<TestConsortium> tc = make_consortium("raft-cluster", 2, 3);
  std::vector<NodeConfig> configs;
  std::vector<std::unique_ptr<NodeService>> nodes;

  ServiceCluster() {
    write_file(tmp.path / "consortium.json", tc->consortium.to_json());
    std::vector<RaftPeerConfig> peers;
    for (size_t i = 0; i < 3; ++i) {
      uint16_t api = free_port();
      peers.push_back(RaftPeerConfig{i + 1, "127.0.0.1:" + std::to_string(free_port()),
                                     "https://127.0.0.1:" + std::to_string(api)});
      NodeConfig c;
      c.node_id = tc->node_id(i);
      c.key_file = (tmp.path / (c.node_id + ".pem")).string();
      must_ok(tc->node_key(i).save_file(c.key_file));
      c.data_dir = (tmp.path / c.node_id).string();
      c.consortium_file = (tmp.path / "consortium.json").string();
      c.listen_port = api;
      c.raft_id = i + 1;
      c.raft_listen = peers.back().address;
      c.raft_election_timeout_ms = 400;
      c.raft_heartbeat_timeout_ms = 40;
      write_test_tls(tmp.path, c);
      configs.push_back(c);
    }
    for (auto& c : configs) c.raft_peers = peers;
    for (auto& c : configs) {
      nodes.push_back(must(NodeService::open(c)));
      must_ok(nodes.back()->start());
    }
  }
  ~ServiceCluster() {
    for (auto& n : nodes) n->stop();
  }

  std::string url(size_t i) const { return configs[i].raft_peers[i].api_url; }
  HttpClientOptions https() const { return test_https_options(); }

  json health(size_t i) {
    auto client = must(NodeClient::connect_to(url(i), https()));
    return must(client->health());
  }

  // The index of the node every node names as leader.
  std::optional<size_t> leader() {
    std::optional<size_t> found;
    std::string leader_url;
    for (size_t i = 0; i < 3; ++i) {
      json h = health(i);
      if (!h["raft"]["leader"].is_string()) return std::nullopt;
      if (!leader_url.empty() && h["raft"]["leader"] != leader_url) return std::nullopt;
      leader_url = h["raft"]["leader"];
      if (h["raft"]["role"] == "leader") found = i;
    }
    if (found && url(*found) != leader_url) return std::nullopt;
    return found;
  }
};

}  // namespace

TEST_CASE(
    "three node services: a follower redirects, the client retries at the leader, every "
    "node serves the same log",
    "[raft][cluster]") {
  ServiceCluster c;
  std::optional<size_t> leader;
  REQUIRE(eventually([&] { return (leader = c.leader()).has_value(); }));
  size_t follower = (*leader + 1) % 3;

  SignedTransaction tx = register_tx(*c.tc, {"SN-A"}, now_ms());
  // A plain POST to a follower: 421 with the leader's API URL.
  auto http = must(HttpClient::connect_to(c.url(follower), c.https()));
  json body{{"tx", base64_encode(tx.wire())}};
  auto reply = must(http->post("/v1/transactions", body.dump()));
  CHECK(reply.status == 421);
  json j = json::parse(reply.body);
  CHECK(j["leader"] == c.url(*leader));
  CHECK(j["error"].get<std::string>().find("follower") != std::string::npos);

  // The CLI's submission follows it and gets the answer from the leader.
  auto client = must(NodeClient::connect_to(c.url(follower), c.https()));
  const auto deadline = [] { return std::chrono::steady_clock::now() + 20s; };
  auto first = submit_and_resolve(*client, tx, deadline(), 5s);
  CHECK(first.kind == SubmitOutcome::Kind::accepted);
  CHECK(first.index == 0);
  CHECK(client->url() == c.url(*leader));
  auto second = submit_and_resolve(*client, register_tx(*c.tc, {"SN-B"}, now_ms()), deadline(), 5s);
  CHECK(second.kind == SubmitOutcome::Kind::accepted);
  CHECK(second.index == 1);
  CHECK(second.attempts == 1);  // straight to the leader this time

  // Every node applies both, signs the checkpoint and gathers the others'
  // signatures: each serves checkpoint 2 signed by all three nodes.
  std::optional<Hash> root;
  for (size_t i = 0; i < 3; ++i) {
    INFO("node " << i);
    REQUIRE(eventually([&] { return c.health(i)["size"] == 2; }));
    auto node = must(NodeClient::connect_to(c.url(i), c.https()));
    REQUIRE(eventually([&] {
      auto note = node->checkpoint();
      if (!note) return false;
      auto v = verify_checkpoint(c.tc->consortium, *note);
      return v && v->checkpoint.size == 2 && v->signers.size() == 3;
    }));
    auto verified = must(verify_checkpoint(c.tc->consortium, must(node->checkpoint())));
    CHECK(verified.checkpoint.size == 2);
    CHECK(verified.signers == std::vector<std::string>{"node-1", "node-2", "node-3"});
    if (root) CHECK(verified.checkpoint.root == *root);
    root = verified.checkpoint.root;
    // Reads work on every node.
    auto chip = must(node->chip("SN-B"));
    CHECK(chip.has_value());
  }
}

}  // namespace chipledger
