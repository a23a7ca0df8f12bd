// HTTPS between the one HTTP client and the node's HTTP server, in process,
// with real certificates (crypto/certificates.h): the server's certificate
// checked against the CA and the URL's host, each refusal named; client
// certificates passed on to the handler; plain HTTP and HTTPS mixed up in
// either direction answered with a reason (docs/tls.md).
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/certificates.h"
#include "net/http_client.h"
#include "net/tls_context.h"
#include "node/http_server.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

const CertificateAndKey& ca() {
  static const CertificateAndKey c = [] {
    auto r = make_ca("https test CA", now() - 3600, now() + 86400);
    REQUIRE(r);
    return *r;
  }();
  return c;
}

const CertificateAndKey& other_ca() {
  static const CertificateAndKey c = [] {
    auto r = make_ca("another CA", now() - 3600, now() + 86400);
    REQUIRE(r);
    return *r;
  }();
  return c;
}

TlsIdentity identity(const std::string& node, std::vector<std::string> hosts,
                     const CertificateAndKey& issuer = ca(), int64_t not_after = now() + 86400) {
  auto cert = issue_node_certificate(issuer, {node, 1, std::move(hosts), now() - 7200, not_after});
  REQUIRE(cert);
  auto info = certificate_info(cert->cert_pem);
  REQUIRE(info);
  return TlsIdentity{issuer.cert_pem, cert->cert_pem, cert->key_pem, *info};
}

// Answers every request with what the server saw of it.
void echo(HttpRequest req, Responder respond) {
  json j{{"target", req.target}, {"tls", req.over_tls}, {"client", req.client_certificate_cn}};
  respond(HttpResponse{200, "application/json", j.dump()});
}

std::unique_ptr<HttpServer> serve(const TlsIdentity* id) {
  HttpServerOptions options;
  if (id != nullptr) {
    auto ctx = make_server_context(*id, ClientCertificates::request);
    REQUIRE(ctx);
    options.tls = *ctx;
  }
  auto server = HttpServer::bind(options, echo);
  REQUIRE(server);
  (*server)->start();
  return std::move(*server);
}

HttpClientOptions trusting(const std::string& ca_pem, const TlsIdentity* as = nullptr) {
  HttpClientOptions options;
  options.timeout = 10s;
  auto ctx = make_client_context(ca_pem, as);
  REQUIRE(ctx);
  options.tls = *ctx;
  return options;
}

std::string https(const HttpServer& s, const std::string& host = "127.0.0.1") {
  return "https://" + host + ":" + std::to_string(s.port());
}

std::string get_error(const std::string& url, const HttpClientOptions& options) {
  auto client = HttpClient::connect_to(url, options);
  REQUIRE(client);
  auto r = (*client)->get("/v1/health");
  REQUIRE_FALSE(r);
  return r.reason();
}

TEST_CASE("https: a certificate of the CA naming the host is accepted, kept alive", "[https]") {
  TlsIdentity server_id = identity("node-a", {"localhost", "127.0.0.1"});
  auto server = serve(&server_id);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    INFO(host);
    auto client = HttpClient::connect_to(https(*server, host), trusting(ca().cert_pem));
    REQUIRE(client);
    CHECK((*client)->uses_tls());
    auto r = (*client)->get("/one");
    INFO(r.reason());
    REQUIRE(r);
    json j = json::parse(r->body);
    CHECK(j["tls"] == true);
    CHECK(j["client"] == "");  // no client certificate: fine for the server
    REQUIRE((*client)->get("/two"));
    REQUIRE((*client)->post("/three", "{}"));
    CHECK((*client)->connections_opened() == 1);
  }
}

TEST_CASE("https: a client certificate of the CA reaches the handler, one of another CA is refused",
          "[https]") {
  TlsIdentity server_id = identity("node-a", {"127.0.0.1"});
  auto server = serve(&server_id);
  TlsIdentity peer = identity("node-b", {"127.0.0.1"});
  auto client = HttpClient::connect_to(https(*server), trusting(ca().cert_pem, &peer));
  REQUIRE(client);
  auto r = (*client)->get("/x");
  INFO(r.reason());
  REQUIRE(r);
  CHECK(json::parse(r->body)["client"] == "node-b");

  TlsIdentity stranger = identity("node-b", {"127.0.0.1"}, other_ca());
  auto refused = HttpClient::connect_to(https(*server), trusting(ca().cert_pem, &stranger));
  REQUIRE(refused);
  auto no = (*refused)->get("/x");
  CHECK_FALSE(no);  // the server's handshake refuses it: no answer
}

TEST_CASE("https: a certificate of another CA is refused, named", "[https]") {
  TlsIdentity server_id = identity("node-a", {"127.0.0.1"}, other_ca());
  auto server = serve(&server_id);
  std::string e = get_error(https(*server), trusting(ca().cert_pem));
  INFO(e);
  CHECK_THAT(e, Catch::Contains("not issued by the consortium CA"));
  CHECK_THAT(e, Catch::Contains("node-a"));
}

TEST_CASE("https: a certificate that does not name the URL's host is refused, named", "[https]") {
  TlsIdentity server_id = identity("node-a", {"node-a.example.org", "10.1.2.3"});
  auto server = serve(&server_id);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    std::string e = get_error(https(*server, host), trusting(ca().cert_pem));
    INFO(e);
    CHECK_THAT(e, Catch::Contains("does not name " + host));
    CHECK_THAT(e, Catch::Contains("node-a.example.org"));
  }
}

TEST_CASE("https: an expired certificate is refused, named", "[https]") {
  TlsIdentity server_id = identity("node-a", {"127.0.0.1"}, ca(), now() - 60);
  auto server = serve(&server_id);
  std::string e = get_error(https(*server), trusting(ca().cert_pem));
  INFO(e);
  CHECK_THAT(e, Catch::Contains("has expired"));
}

TEST_CASE("https: a plain HTTP server behind an https URL, and the other way round, are named",
          "[https]") {
  auto plain = serve(nullptr);
  std::string e =
      get_error("https://127.0.0.1:" + std::to_string(plain->port()), trusting(ca().cert_pem));
  INFO(e);
  CHECK_THAT(e, Catch::Contains("the node answers plain HTTP but the URL says https"));

  TlsIdentity server_id = identity("node-a", {"127.0.0.1"});
  auto tls = serve(&server_id);
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(tls->port()), 10s);
  REQUIRE(client);
  auto r = (*client)->get("/v1/health");
  INFO(r.reason());
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK_THAT(r->body, Catch::Contains("answers HTTPS only"));
}

}  // namespace
}  // namespace chipledger
