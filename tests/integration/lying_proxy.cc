#include "tests/integration/lying_proxy.h"

#include <ctime>
#include <stdexcept>

namespace chipledger::integ {

LyingProxy::LyingProxy(std::string upstream_url, const std::string& tls_dir,
                       const std::string& node_id)
    : upstream_(std::move(upstream_url)) {
  HttpServerOptions options;
  options.max_body_bytes = 64u << 20;
  if (!tls_dir.empty()) {
    auto id = TlsIdentity::load({tls_dir + "/ca.pem", tls_dir + "/" + node_id + ".pem",
                                 tls_dir + "/" + node_id + "-key.pem"},
                                static_cast<int64_t>(std::time(nullptr)));
    if (!id) throw std::runtime_error("lying proxy: " + id.reason());
    auto server_tls = make_server_context(*id, ClientCertificates::none);
    auto client_tls = make_client_context(id->ca_pem, nullptr);
    if (!server_tls || !client_tls) throw std::runtime_error("lying proxy: no TLS context");
    options.tls = std::move(*server_tls);
    upstream_options_.tls = std::move(*client_tls);
    tls_ = true;
  }
  auto server = HttpServer::bind(options, [this](HttpRequest req, Responder respond) {
    handle(std::move(req), std::move(respond));
  });
  if (!server) throw std::runtime_error("lying proxy: " + server.reason());
  server_ = std::move(*server);
  server_->start();
}

LyingProxy::~LyingProxy() { server_->stop(); }

std::string LyingProxy::url() const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(server_->port());
}

void LyingProxy::set_upstream(std::string url) {
  std::lock_guard lock(mu_);
  upstream_ = std::move(url);
}

void LyingProxy::before(Before rule) {
  std::lock_guard lock(mu_);
  before_ = std::move(rule);
}

void LyingProxy::after(After rule) {
  std::lock_guard lock(mu_);
  after_ = std::move(rule);
}

void LyingProxy::honest() {
  std::lock_guard lock(mu_);
  before_ = nullptr;
  after_ = nullptr;
}

void LyingProxy::handle(HttpRequest req, Responder respond) {
  Before before;
  After after;
  std::string upstream;
  {
    std::lock_guard lock(mu_);
    before = before_;
    after = after_;
    upstream = upstream_;
  }
  if (before) {
    if (auto lie = before(req)) {
      ++lies_;
      return respond(std::move(*lie));
    }
  }
  // One connection per request: the proxy's threads never share a client.
  auto http = HttpClient::connect_to(upstream, upstream_options_);
  if (!http) return respond(json_response(502, "{\"error\":\"proxy: bad upstream\"}"));
  auto reply =
      req.method == "POST" ? (*http)->post(req.target, req.body) : (*http)->get(req.target);
  if (!reply) return respond(json_response(502, "{\"error\":\"proxy: no answer upstream\"}"));
  if (after) {
    if (auto lie = after(req, *reply)) {
      ++lies_;
      return respond(std::move(*lie));
    }
  }
  bool text = reply->body.rfind("{", 0) != 0 && reply->body.rfind("[", 0) != 0;
  respond(HttpResponse{reply->status, text ? "text/plain; charset=utf-8" : "application/json",
                       std::move(reply->body)});
}

HttpResponse json_response(int status, const std::string& body) {
  return HttpResponse{status, "application/json", body};
}

}  // namespace chipledger::integ
