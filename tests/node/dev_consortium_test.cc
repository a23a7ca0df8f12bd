// `chipledger-node init` (write_dev_consortium): the built-in consortium and
// one built from a template (config/demo-consortium.json): members, roles,
// countries and policy as listed, a fresh key per member and for the node
// (mode 0600), a trust file that loads, and refusals with reasons.
#include "node/dev_consortium.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "crypto/keys.h"
#include "ledger/consortium.h"
#include "node/node_config.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kDemoTemplate =
    std::string(CHIPLEDGER_TEST_VECTORS) + "/../../config/demo-consortium.json";

struct TempFolder {
  fs::path path;
  TempFolder() {
    std::string tmpl = (fs::temp_directory_path() / "chipledger-init-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

Consortium load(const DevConsortium& dev) {
  auto c = Consortium::load_file(dev.consortium_file);
  INFO(c.reason());
  REQUIRE(c.is_ok());
  return std::move(c).value();
}

// The member's key file holds the private half of the key the trust file lists.
void require_key_matches(const fs::path& dir, const Member& m) {
  fs::path file = dir / "keys" / (m.id + ".pem");
  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto key = PrivateKey::load_file(file.string());
  REQUIRE(key.is_ok());
  REQUIRE(m.keys.size() == 1);
  CHECK(m.keys[0].key_id() == key->public_key().key_id());
}

TEST_CASE("init without a template: one member per role, no export policy", "[init]") {
  TempFolder t;
  auto dev = write_dev_consortium({(t.path / "net").string(), "", 7801, ""});
  INFO(dev.reason());
  REQUIRE(dev.is_ok());
  CHECK(dev->ledger_id.rfind("chipledger.dev/dev-", 0) == 0);
  CHECK(dev->node_id == "node-maker");
  CHECK(dev->members ==
        std::vector<std::string>{"maker", "distributor", "datacenter", "regulator", "auditor"});
  Consortium c = load(*dev);
  CHECK(c.members().size() == 5);
  CHECK(c.member("datacenter")->has_role(Role::operator_));
  CHECK(c.member("distributor")->country == "SG");
  CHECK(c.policy().restricted_destinations.empty());
  CHECK(c.policy().controlled_models.empty());
  for (const auto& [id, m] : c.members()) require_key_matches(t.path / "net", m);
  REQUIRE(c.nodes().size() == 1);
  CHECK(c.nodes()[0].member == "maker");
  // Governance by default: every member an admin, a majority (3 of 5) needed.
  REQUIRE(c.governance());
  CHECK(c.governance()->admins.size() == 5);
  CHECK(c.governance()->threshold == 3);
  auto config = NodeConfig::load_file(dev->node_config_file);
  REQUIRE(config.is_ok());
  CHECK(config->node_id == "node-maker");
  CHECK(config->listen_port == 7801);
  // HTTPS by default: the trust file names the dev CA, which issued the
  // node's certificate.
  CHECK(config->api_over_tls());
  CHECK(dev->nodes[0].api_url == "https://127.0.0.1:7801");
  REQUIRE_FALSE(c.tls_ca().empty());
  std::ifstream ca_in(t.path / "net" / "tls" / "ca.pem");
  std::stringstream ca_text;
  ca_text << ca_in.rdbuf();
  CHECK(c.tls_ca() == ca_text.str());

  // It refuses to overwrite.
  auto again = write_dev_consortium({(t.path / "net").string(), "", 7801, ""});
  REQUIRE_FALSE(again.is_ok());
  CHECK_THAT(again.reason(), Catch::Contains("init refuses to overwrite it"));
}

TEST_CASE("init --plain-http: plain_http in the config, http URLs, no tls_ca", "[init]") {
  TempFolder t;
  DevConsortiumOptions options{(t.path / "plain").string(), "", 7801, ""};
  options.plain_http = true;
  auto dev = write_dev_consortium(options);
  INFO(dev.reason());
  REQUIRE(dev.is_ok());
  CHECK(dev->nodes[0].api_url == "http://127.0.0.1:7801");
  Consortium c = load(*dev);
  CHECK(c.tls_ca().empty());
  auto config = NodeConfig::load_file(dev->node_config_file);
  REQUIRE(config.is_ok());
  CHECK(config->plain_http);
  CHECK(config->has_tls());  // Raft still runs over mutual TLS
  CHECK_FALSE(config->api_over_tls());
}

TEST_CASE("the trust file's tls_ca: optional, checked, kept by to_json", "[init]") {
  TempFolder t;
  auto dev = write_dev_consortium({(t.path / "net").string(), "", 7801, ""});
  REQUIRE(dev.is_ok());
  std::ifstream in(dev->consortium_file);
  auto j = nlohmann::json::parse(in);
  REQUIRE(j.contains("tls_ca"));
  // Round trip.
  auto c = Consortium::from_json(j.dump());
  REQUIRE(c.is_ok());
  auto again = Consortium::from_json(c->to_json());
  REQUIRE(again.is_ok());
  CHECK(again->tls_ca() == j["tls_ca"].get<std::string>());
  // A trust file of before tls_ca loads as it did, with no CA.
  nlohmann::json old = j;
  old.erase("tls_ca");
  auto loaded = Consortium::from_json(old.dump());
  REQUIRE(loaded.is_ok());
  CHECK(loaded->tls_ca().empty());
  CHECK(nlohmann::json::parse(loaded->to_json()).contains("tls_ca") == false);
  // Not PEM, not a string, or a node certificate instead of a CA: refused.
  for (const nlohmann::json& bad : {nlohmann::json("not a certificate"), nlohmann::json(42)}) {
    nlohmann::json b = j;
    b["tls_ca"] = bad;
    auto r = Consortium::from_json(b.dump());
    REQUIRE_FALSE(r.is_ok());
    CHECK_THAT(r.reason(), Catch::Contains("tls_ca"));
  }
  std::ifstream node_cert(t.path / "net" / "tls" / "node-maker.pem");
  std::stringstream node_pem;
  node_pem << node_cert.rdbuf();
  nlohmann::json b = j;
  b["tls_ca"] = node_pem.str();
  auto r = Consortium::from_json(b.dump());
  REQUIRE_FALSE(r.is_ok());
  CHECK_THAT(r.reason(), Catch::Contains("not a CA"));
}

TEST_CASE("init --template config/demo-consortium.json: members, roles, policy", "[init]") {
  TempFolder t;
  auto dev = write_dev_consortium({(t.path / "demo").string(), "", 0, kDemoTemplate});
  INFO(dev.reason());
  REQUIRE(dev.is_ok());
  CHECK(dev->ledger_id == "chipledger.demo/h100-custody");
  CHECK(dev->members == std::vector<std::string>{"maker", "distributor", "integrator", "datacenter",
                                                 "cloud-east", "broker", "regulator", "auditor"});
  Consortium c = load(*dev);
  CHECK(c.member("integrator")->has_role(Role::distributor));
  CHECK(c.member("integrator")->country == "US");
  CHECK(c.member("cloud-east")->has_role(Role::operator_));
  CHECK(c.member("cloud-east")->country == "AE");
  CHECK(c.member("regulator")->has_role(Role::regulator));
  CHECK(c.member("auditor")->country == "DE");
  for (const auto& [id, m] : c.members()) require_key_matches(t.path / "demo", m);
  const Policy& p = c.policy();
  CHECK(p.is_controlled("H100-SXM5", ""));
  CHECK(p.is_controlled("B200", "4A090"));
  CHECK_FALSE(p.is_controlled("L4", "5A992"));
  CHECK(p.restricted_destinations == std::set<std::string, std::less<>>{"AE", "CN", "HK", "RU"});
  CHECK(p.max_attestation_age_ms == 168 * 3600 * 1000ull);
  CHECK(p.max_transit_ms == 336 * 3600 * 1000ull);
  CHECK(p.attestation_root_window_ms == 3600 * 1000ull);
  CHECK(c.nodes()[0].id == "node-maker");
  REQUIRE(c.governance());
  CHECK(c.governance()->admins == std::vector<std::string>{"datacenter", "maker", "regulator"});
  CHECK(c.governance()->threshold == 2);

  // --ledger-id overrides the template's; two inits never share keys.
  auto other = write_dev_consortium({(t.path / "demo2").string(), "demo/other", 0, kDemoTemplate});
  REQUIRE(other.is_ok());
  CHECK(other->ledger_id == "demo/other");
  CHECK(load(*other).member("maker")->keys[0].key_id() != c.member("maker")->keys[0].key_id());
}

TEST_CASE("init --template refuses what is wrong, with the reason", "[init]") {
  TempFolder t;
  auto init = [&](const std::string& text) {
    std::string file = t.file("t.json", text);
    return write_dev_consortium({(t.path / "out").string(), "", 0, file}).reason();
  };
  const std::string member = R"({"id": "m", "roles": ["manufacturer"], "country": "TW"})";
  CHECK_THAT(init("[]"), Catch::Contains("is not a JSON object"));
  CHECK_THAT(init("{}"), Catch::Contains("'members' must be a non-empty list"));
  CHECK_THAT(init(R"({"members": [{"id": "m", "roles": ["manufacturer"], "country": "TW",
                                   "keys": ["-----BEGIN PUBLIC KEY-----"]}]})"),
             Catch::Contains("a template carries none, init generates them"));
  CHECK_THAT(init(R"({"members": [{"id": "m", "roles": ["smuggler"], "country": "TW"}]})"),
             Catch::Contains("unknown role 'smuggler'"));
  CHECK_THAT(init(R"({"members": [{"id": "m", "roles": ["manufacturer"], "country": "tw"}]})"),
             Catch::Contains("member m"));
  CHECK_THAT(
      init(R"({"members": [)" + member + R"(], "policy": {"restricted_destinations": ["XYZ"]}})"),
      Catch::Contains("policy: restricted_destinations"));
  CHECK_THAT(init(R"({"members": [)" + member + R"(], "node": {"id": "n", "member": "ghost"}})"),
             Catch::Contains("names unknown member 'ghost'"));
  CHECK_THAT(
      write_dev_consortium({(t.path / "x").string(), "", 0, "/no/such/template.json"}).reason(),
      Catch::Contains("cannot read template /no/such/template.json"));
  CHECK_THAT(init(R"({"members": [)" + member + R"(], "quorum": "two"})"),
             Catch::Contains("'quorum' must be a whole number"));
  // Nothing, not even a key, was written for a refused template.
  CHECK_FALSE(fs::exists(t.path / "out"));
}

TEST_CASE("the checkpoint quorum is a strict majority of the nodes, with distinct keys",
          "[init][consortium]") {
  TempFolder t;
  // The demo template names no quorum: init makes it a majority.
  DevConsortiumOptions three{(t.path / "three").string(), "", 7900, kDemoTemplate};
  three.nodes = 3;
  three.plain_http = true;
  auto dev = write_dev_consortium(three);
  INFO(dev.reason());
  REQUIRE(dev.is_ok());
  Consortium c = load(*dev);
  CHECK(c.nodes().size() == 3);
  CHECK(c.quorum() == 2);
  CHECK(load(*write_dev_consortium({(t.path / "one").string(), "", 0, kDemoTemplate})).quorum() ==
        1);

  // A template's own quorum that is not a majority is refused, nothing written.
  std::string text = R"({"members": [{"id": "m1", "roles": ["manufacturer"], "country": "TW"},
                                     {"id": "m2", "roles": ["distributor"], "country": "SG"},
                                     {"id": "m3", "roles": ["operator"], "country": "US"}],
                         "quorum": 1})";
  DevConsortiumOptions weak{(t.path / "weak").string(), "", 7910, t.file("weak.json", text)};
  weak.nodes = 3;
  weak.plain_http = true;
  CHECK_THAT(write_dev_consortium(weak).reason(),
             Catch::Contains("quorum 1 of 3 nodes is not a strict majority (at least 2)"));
  CHECK_FALSE(fs::exists(t.path / "weak"));

  // The trust file itself: each weakness refused with its reason.
  std::ifstream in(dev->consortium_file);
  json j = json::parse(in);
  auto reason = [](const json& v) { return Consortium::from_json(v.dump()).reason(); };
  json q1 = j;
  q1["quorum"] = 1;
  CHECK_THAT(reason(q1), Catch::Contains("quorum 1 of 3 nodes is not a strict majority"));
  json q4 = j;
  q4["quorum"] = 4;
  CHECK_THAT(reason(q4), Catch::Contains("quorum 4 is larger than the 3 nodes"));
  json shared = j;
  shared["nodes"][2]["key"] = shared["nodes"][0]["key"];
  CHECK_THAT(reason(shared), Catch::Contains("have the same checkpoint key"));
  json ghost = j;
  ghost["nodes"][1]["member"] = "ghost";
  CHECK_THAT(reason(ghost), Catch::Contains("names unknown member 'ghost'"));
  json all = j;
  all["quorum"] = 3;
  CHECK(Consortium::from_json(all.dump()).is_ok());
  CHECK(Consortium::from_json(j.dump()).is_ok());
}

}  // namespace
}  // namespace chipledger
