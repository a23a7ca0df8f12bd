// `chipledger-node init --nodes N`: a local cluster's trust file (one node
// per organisation, each with its own key, a majority quorum) and one node
// config per node with distinct API and Raft ports and every node as a peer.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "node/dev_consortium.h"
#include "node/node_config.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;
namespace fs = std::filesystem;

DevConsortiumOptions cluster_options(const fs::path& dir, unsigned nodes, uint16_t port = 17800,
                                     std::string templ = "") {
  DevConsortiumOptions o;
  o.dir = dir.string();
  o.port = port;
  o.nodes = nodes;
  o.template_file = std::move(templ);
  return o;
}

}  // namespace

TEST_CASE("init --nodes 3 writes a three-organisation cluster with a majority quorum",
          "[init][cluster]") {
  TempDir tmp;
  fs::path dir = tmp.path / "cluster";
  auto dev = must(write_dev_consortium(cluster_options(dir, 3)));
  REQUIRE(dev.nodes.size() == 3);
  CHECK(dev.quorum == 2);
  CHECK(dev.node_id == "node-maker");
  CHECK(dev.node_config_file == (dir / "node-1.toml").string());

  auto consortium = must(Consortium::load_file(dev.consortium_file));
  CHECK(consortium.quorum() == 2);
  REQUIRE(consortium.nodes().size() == 3);
  std::vector<std::pair<std::string, std::string>> expected = {{"node-maker", "maker"},
                                                               {"node-distributor", "distributor"},
                                                               {"node-datacenter", "datacenter"}};
  std::set<std::string> key_ids;
  std::set<uint16_t> ports;
  for (size_t i = 0; i < 3; ++i) {
    INFO("node " << i);
    const NodeInfo& n = consortium.nodes()[i];
    CHECK(n.id == expected[i].first);
    CHECK(n.member == expected[i].second);
    CHECK(dev.nodes[i].id == n.id);
    CHECK(dev.nodes[i].member == n.member);
    key_ids.insert(hex_encode(n.key.key_id()));

    auto config = must(NodeConfig::load_file(dev.nodes[i].config_file));
    CHECK(config.node_id == n.id);
    CHECK(config.raft_id == i + 1);
    CHECK(config.data_dir == (dir / ("node-" + std::to_string(i + 1))).string());
    CHECK(config.consortium_file == dev.consortium_file);
    // The node's own key file matches what the trust file lists.
    auto key = must(PrivateKey::load_file(config.key_file));
    CHECK(key.public_key().der() == n.key.der());
    CHECK(config.listen_port == 17800 + i);
    CHECK(config.raft_listen == "127.0.0.1:" + std::to_string(17900 + i));
    CHECK(dev.nodes[i].api_url == "https://127.0.0.1:" + std::to_string(17800 + i));
    ports.insert(config.listen_port);
    ports.insert(static_cast<uint16_t>(std::stoi(config.raft_listen.substr(10))));
    REQUIRE(config.raft_peers.size() == 3);
    for (size_t p = 0; p < 3; ++p) {
      CHECK(config.raft_peers[p].id == p + 1);
      CHECK(config.raft_peers[p].address == "127.0.0.1:" + std::to_string(17900 + p));
      CHECK(config.raft_peers[p].api_url == "https://127.0.0.1:" + std::to_string(17800 + p));
    }
  }
  CHECK(key_ids.size() == 3);  // every node its own key
  CHECK(ports.size() == 6);
  // The members' keys are there too.
  for (const char* m : {"maker", "distributor", "datacenter", "regulator", "auditor"}) {
    CHECK(fs::exists(dir / "keys" / (std::string(m) + ".pem")));
  }
}

TEST_CASE("init --nodes picks one organisation per custody role from a template",
          "[init][cluster]") {
  TempDir tmp;
  auto dev = must(write_dev_consortium(cluster_options(
      tmp.path / "demo", 3, 18800,
      std::string(CHIPLEDGER_TEST_VECTORS) + "/../../config/demo-consortium.json")));
  REQUIRE(dev.nodes.size() == 3);
  CHECK(dev.nodes[0].member == "maker");
  CHECK(dev.nodes[1].member == "distributor");
  CHECK(dev.nodes[2].member == "datacenter");
  CHECK(dev.ledger_id == "chipledger.demo/h100-custody");
  // The template's quorum of 1 is raised to a majority.
  CHECK(dev.quorum == 2);

  // Five nodes: then the other members in order.
  auto five = must(write_dev_consortium(cluster_options(tmp.path / "five", 5, 19800)));
  REQUIRE(five.nodes.size() == 5);
  CHECK(five.nodes[3].member == "regulator");
  CHECK(five.nodes[4].member == "auditor");
  CHECK(five.quorum == 3);
}

TEST_CASE("init --nodes refuses a port of 0 and too few organisations", "[init][cluster]") {
  TempDir tmp;
  auto zero = write_dev_consortium(cluster_options(tmp.path / "zero", 3, 0));
  REQUIRE_FALSE(zero);
  CHECK_THAT(zero.reason(), Catch::Contains("fixed base port"));
  CHECK_FALSE(fs::exists(tmp.path / "zero" / "consortium.json"));

  fs::path small = tmp.path / "small.json";
  std::ofstream(small) << R"({"members": [
    {"id": "maker", "roles": ["manufacturer"], "country": "TW"},
    {"id": "op", "roles": ["operator"], "country": "US"}]})";
  auto few = write_dev_consortium(cluster_options(tmp.path / "few", 3, 17800, small.string()));
  REQUIRE_FALSE(few);
  CHECK_THAT(few.reason(), Catch::Contains("need one member"));

  // One node stays what it was: node.toml, no peers.
  auto one = must(write_dev_consortium(cluster_options(tmp.path / "one", 1, 0)));
  REQUIRE(one.nodes.size() == 1);
  CHECK(one.node_config_file == (tmp.path / "one" / "node.toml").string());
  CHECK(must(NodeConfig::load_file(one.node_config_file)).raft_peers.empty());
}

}  // namespace chipledger
