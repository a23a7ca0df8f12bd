// HTTPS between the real CLI and a real node (docs/tls.md): init's
// certificates accepted; another CA, a certificate for another name and
// plain HTTP against HTTPS (either way) refused, each named; the
// node-to-node endpoints refuse a caller without a node's certificate; a
// plain_http node warns, and so does the CLI talking to it.
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "crypto/certificates.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

namespace fs = std::filesystem;

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

// A certificate of the node's own dev CA (init left its key in tls/).
CertificateAndKey dev_certificate(const NodeProcess& node, const std::string& cn,
                                  std::vector<std::string> hosts) {
  CertificateAndKey ca{read_text_file(node.dir() + "/tls/ca.pem"),
                       read_text_file(node.dir() + "/tls/ca-key.pem")};
  auto cert = issue_node_certificate(ca, {cn, 1, std::move(hosts), now() - 3600, now() + 86400});
  REQUIRE(cert);
  return *cert;
}

ProcessResult cli_at(const NodeProcess& node, const std::string& url, const Argv& args) {
  Argv argv{kCliBin, "--node", url, "--state", node.dir() + "/client-state.json"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, 60s);
}

TEST_CASE("https: the CLI checks an HTTPS node against the trust file's CA", "[integration]") {
  NodeProcess node;
  node.start();
  REQUIRE(node.url().rfind("https://127.0.0.1:", 0) == 0);
  CHECK(node.output().find("WARNING") == std::string::npos);

  // The trust file names the CA: no --ca needed, no warning.
  auto ok = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                      "TLS-0001", "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(ok.describe());
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.err.find("not authenticated") == std::string::npos);
  auto status = node.cli({"status", "TLS-0001"});
  INFO(status.describe());
  CHECK(status.exit_code == 0);
  // localhost is in the certificate too.
  auto by_name = cli_at(node, "https://localhost:" + std::to_string(node.port()),
                        {"--trust", node.trust_file(), "history", "TLS-0001"});
  INFO(by_name.describe());
  CHECK(by_name.exit_code == 0);

  // Another CA (--ca overrides the trust file's): refused, named.
  auto other = make_ca("some other CA", now() - 3600, now() + 86400);
  REQUIRE(other);
  write_text_file(node.dir() + "/other-ca.pem", other->cert_pem);
  auto refused = node.cli({"--ca", node.dir() + "/other-ca.pem", "history", "TLS-0001"});
  INFO(refused.describe());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("not issued by the consortium CA") != std::string::npos);

  // A trust file of before tls_ca still loads; an https URL then needs --ca.
  auto j = nlohmann::json::parse(read_text_file(node.trust_file()));
  REQUIRE(j.contains("tls_ca"));
  j.erase("tls_ca");
  write_text_file(node.dir() + "/old-trust.json", j.dump(2));
  auto old =
      cli_at(node, node.url(), {"--trust", node.dir() + "/old-trust.json", "history", "TLS-0001"});
  INFO(old.describe());
  CHECK(old.exit_code == 1);
  CHECK(old.err.find("give --ca FILE") != std::string::npos);
  auto with_ca = cli_at(node, node.url(),
                        {"--trust", node.dir() + "/old-trust.json", "--ca",
                         node.dir() + "/tls/ca.pem", "status", "TLS-0001"});
  INFO(with_ca.describe());
  CHECK(with_ca.exit_code == 0);

  // http:// against the HTTPS node: the node says so.
  auto plain = cli_at(node, "http://127.0.0.1:" + std::to_string(node.port()),
                      {"--trust", node.trust_file(), "history", "TLS-0001"});
  INFO(plain.describe());
  CHECK(plain.exit_code == 1);
  CHECK(plain.err.find("answers HTTPS only") != std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("https: a node certificate without the URL's host is refused, named", "[integration]") {
  NodeProcess node;
  // Re-issued for 127.0.0.1 only (no localhost) by the same CA.
  CertificateAndKey cert = dev_certificate(node, "node-maker", {"127.0.0.1"});
  write_text_file(node.dir() + "/tls/node-maker.pem", cert.cert_pem);
  write_text_file(node.dir() + "/tls/node-maker-key.pem", cert.key_pem);
  node.start();
  auto ok = node.cli({"history", "NEVER-1"});
  INFO(ok.describe());
  CHECK(ok.exit_code == 11);  // answered (not registered)
  auto refused = cli_at(node, "https://localhost:" + std::to_string(node.port()),
                        {"--trust", node.trust_file(), "history", "NEVER-1"});
  INFO(refused.describe());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("does not name localhost") != std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("https: the node-to-node endpoints refuse a caller without a node's certificate",
          "[integration]") {
  NodeProcess node;
  node.start();
  // Public reads need no certificate.
  CHECK(node.get_json("/v1/health")["status"] == "ok");
  auto anonymous = node.new_http();
  auto r = anonymous->post("/v1/checkpoint/signatures", "not a note", "text/plain");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 401);
  CHECK(r->body.find("client certificate") != std::string::npos);

  // A certificate of the CA for a name the trust file does not list as a node.
  CertificateAndKey stranger = dev_certificate(node, "stranger", {"127.0.0.1"});
  write_text_file(node.dir() + "/tls/stranger.pem", stranger.cert_pem);
  write_text_file(node.dir() + "/tls/stranger-key.pem", stranger.key_pem);
  auto other = connect_node(node.url(), node.dir(), 10s, "stranger");
  REQUIRE(other);
  r = (*other)->post("/v1/checkpoint/signatures", "not a note", "text/plain");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 403);
  CHECK(r->body.find("not a node of the consortium in force") != std::string::npos);

  // The node's own certificate passes the door; the note is then judged.
  r = node.new_peer_http()->post("/v1/checkpoint/signatures", "not a note", "text/plain");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 403);
  CHECK(r->body.find("not a node of the consortium in force") == std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("https: plain HTTP only when the config says so, with a warning on both sides",
          "[integration]") {
  NodeProcess node("", {"--plain-http"});
  node.start();
  REQUIRE(node.url().rfind("http://127.0.0.1:", 0) == 0);
  CHECK(node.output().find("WARNING: the API answers plain HTTP: development only") !=
        std::string::npos);
  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                       "PLAIN-1", "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  size_t warning = reg.err.find("the transport is not authenticated");
  CHECK(warning != std::string::npos);
  CHECK(reg.err.find("the transport is not authenticated", warning + 1) == std::string::npos);

  // https:// against it: named.
  auto tls = cli_at(
      node, "https://127.0.0.1:" + std::to_string(node.port()),
      {"--trust", node.trust_file(), "--ca", node.dir() + "/tls/ca.pem", "history", "PLAIN-1"});
  INFO(tls.describe());
  CHECK(tls.exit_code == 1);
  CHECK(tls.err.find("the node answers plain HTTP but the URL says https") != std::string::npos);
  CHECK(node.stop() == 0);

  // Without [tls] and without plain_http the node does not start.
  std::string config = read_text_file(node.dir() + "/node.toml");
  size_t plain = config.find("plain_http = true");
  REQUIRE(plain != std::string::npos);
  config.erase(plain, std::string("plain_http = true").size());
  size_t tls_at = config.find("[tls]");
  REQUIRE(tls_at != std::string::npos);
  size_t tls_end = config.find("\n[", tls_at + 1);
  config.erase(tls_at, tls_end == std::string::npos ? std::string::npos : tls_end + 1 - tls_at);
  write_text_file(node.dir() + "/bare.toml", config);
  auto bare = run_process({kNodeBin, "--config", node.dir() + "/bare.toml"}, 30s);
  INFO(bare.describe());
  CHECK(bare.exit_code == 2);
  CHECK(bare.err.find("[api] plain_http = true") != std::string::npos);
}

}  // namespace
}  // namespace chipledger::integ
