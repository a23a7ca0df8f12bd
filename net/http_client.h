// The one HTTP/1.1 client of chipledger, used by the CLI, the benchmark and
// the node's calls to other nodes (cosignatures, `chipledger-node admin`, a
// follower's leader). Blocking, one request at a time, not thread-safe: use
// one client per thread. Keeps one connection alive between requests and
// reconnects when the server closed it. Beast stays in the .cc file.
//
// https:// (docs/tls.md): TLS 1.3 with the client context in the options
// (make_client_context: the consortium CA, and for a node's calls to
// another node its own certificate, mutual TLS); the server's certificate
// must chain to that CA and name the URL's host (expect_host). A failed
// handshake says why: not of the CA, another name, expired, or a server
// that answers plain HTTP. An https URL without a context is refused at
// connect_to. http:// stays plain whatever the options say.
//
// Timeout: each call (get or post) returns within the client's timeout,
// connecting, sending, reading and any retry included; name resolution is
// not bounded by it. A call that runs out of time fails ("no answer within
// N ms") and is never retried: the server may still be working on it.
//
// Retry policy (one for every caller):
// - Before a request goes out on a kept-alive connection, the client checks
//   without blocking whether the server has closed it (an idle timeout); if
//   so it connects afresh first. Nothing was sent, so this is safe for any
//   request.
// - A request that fails on a reused connection because the connection
//   closed or was reset before any byte of an answer arrived (the server
//   closed it at the same moment) is sent once more on a fresh connection
//   when it is a GET, or a POST the caller marked Idempotent::yes. Any other
//   POST is not retried: the server may have applied it, and the failure
//   says so.
// - A failure to connect, a timeout, or an answer that does not parse is
//   never retried. HTTP error statuses are answers, not failures.
// Failure codes: `unavailable` when no byte of the request was sent (no
// connection, a failed TLS handshake: nothing was done), `unknown` once the
// request may have reached the server (a reset, a timeout, a broken
// answer: the server may have acted on it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "crypto/result.h"
#include "net/tls_context.h"

namespace chipledger {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type = {};  // the Content-Type header, as sent
};

// Whether sending a POST twice has the effect of sending it once (a
// read-only query, a cosignature); such a POST may be retried.
enum class Idempotent : bool { no = false, yes = true };

struct HttpClientOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  uint64_t max_response_body = 64ull << 20;  // history answers can be big
  std::string user_agent = "chipledger";
  // For https:// URLs: make_client_context(ca, identity). Shared between
  // clients (it is only read once made).
  TlsContextPtr tls = nullptr;

  // For a node's calls to another node: answers are small (at most 1 MiB),
  // so a hostile peer cannot make the node buffer a large one.
  static HttpClientOptions for_peer(std::chrono::milliseconds timeout,
                                    TlsContextPtr tls = nullptr) {
    return HttpClientOptions{timeout, 1u << 20, "chipledger-node", std::move(tls)};
  }
};

class HttpClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout = std::chrono::seconds(30);

  // base_url: "http://HOST:PORT" or "https://HOST:PORT" (HOST a name, IPv4
  // or [IPv6]), an optional trailing '/'. Refuses anything else, https
  // without options.tls, and a non-positive timeout, with a reason.
  // Connects lazily: the first request reports an unreachable node.
  static Result<std::unique_ptr<HttpClient>> connect_to(
      const std::string& base_url, std::chrono::milliseconds timeout = kDefaultTimeout);
  static Result<std::unique_ptr<HttpClient>> connect_to(const std::string& base_url,
                                                        const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A failed Result means no HTTP answer (connection refused, timeout, ...);
  // HTTP error statuses come back as a reply. `target` starts with '/'.
  Result<HttpReply> get(const std::string& target);
  Result<HttpReply> post(const std::string& target, const std::string& body,
                         const std::string& content_type = "application/json",
                         Idempotent idempotent = Idempotent::no);

  const std::string& url() const;  // "http://HOST:PORT" or "https://HOST:PORT"
  bool uses_tls() const;           // an https URL
  std::chrono::milliseconds timeout() const;
  // The timeout of the calls from now on (positive).
  void set_timeout(std::chrono::milliseconds timeout);
  const HttpClientOptions& options() const;
  // Connections opened so far (1 while keep-alive holds).
  uint64_t connections_opened() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
