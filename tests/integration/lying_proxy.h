// A test proxy that plays a lying node, or anyone on the wire, between the
// real `chipledger` CLI and a real chipledger-node: it forwards each request
// to the node and lets a test replace the answer, or answer without asking
// the node at all. It only rewrites what the node said (the node itself is
// the real program): the attacks of issue 10 are a node choosing which of
// its own validly signed answers to show, or making one up.
//
// Over HTTPS the proxy presents the node's own certificate (a lying node
// operator holds it), so the CLI's TLS check passes and only the proofs
// can catch the lies; it reaches the node checking the node's certificate
// against the same CA.
//
// Rules run on the proxy's server threads; they must be thread-safe. A rule
// that returns nullopt leaves the exchange alone.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "node/http_server.h"

namespace chipledger::integ {

class LyingProxy {
 public:
  // Answers instead of the node: the request is not forwarded.
  using Before = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
  // Replaces the node's answer to a forwarded request.
  using After = std::function<std::optional<HttpResponse>(const HttpRequest&, const HttpReply&)>;

  // Listens on a free loopback port, forwarding to `upstream_url`. With
  // `tls_dir` (an init folder's tls/) and `node_id`: serves HTTPS with that
  // node's certificate and key, and checks the upstream's against the CA.
  explicit LyingProxy(std::string upstream_url, const std::string& tls_dir = "",
                      const std::string& node_id = "");
  ~LyingProxy();
  LyingProxy(const LyingProxy&) = delete;
  LyingProxy& operator=(const LyingProxy&) = delete;

  std::string url() const;
  // Forwards to another node from now on (a split view: two nodes' logs
  // shown as one).
  void set_upstream(std::string url);
  void before(Before rule);
  void after(After rule);
  void honest();  // drops every rule
  // How many answers a rule made up or replaced so far.
  uint64_t lies() const { return lies_.load(); }

 private:
  void handle(HttpRequest req, Responder respond);

  std::string upstream_;
  HttpClientOptions upstream_options_;
  bool tls_ = false;
  std::unique_ptr<HttpServer> server_;
  mutable std::mutex mu_;
  Before before_;
  After after_;
  std::atomic<uint64_t> lies_{0};
};

// An answer with a JSON body.
HttpResponse json_response(int status, const std::string& body);

}  // namespace chipledger::integ
