// An HTTP/1.1 server on Boost.Beast over Boost.Asio: keep-alive connections,
// a pool of io threads, a limit on the request body (413 with a JSON reason
// past it), 400 with a JSON reason for requests that do not parse. What a
// stranger can hold is bounded (docs/api.md, "Limits"): connections in all
// and per client address (node/connection_governor.h: a newcomer over a cap
// takes the slot of the connection that waited longest for a request, or
// gets 503 and a close when all are busy), and every wait has a deadline:
// idle keep-alive, TLS handshake and header, body, and each write. Each
// request goes to the handler, which may answer later from another thread.
// With a TLS context (make_server_context) it serves HTTPS only: each
// connection's handshake is bounded by the read timeout, a verified client
// certificate's CN goes with each of its requests (HttpRequest), and a
// client that sends plain HTTP gets a plain 400 saying the node answers
// HTTPS.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "crypto/result.h"
#include "net/tls_context.h"
#include "node/http_types.h"

namespace chipledger {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see HttpServer::port())
  size_t max_body_bytes = 1 << 20;
  int threads = 2;
  // Added to each worker thread's nice value (0..19; 0: unchanged).
  int thread_nice = 0;
  TlsContextPtr tls = nullptr;  // set: HTTPS only
  size_t max_connections = 1024;
  size_t max_connections_per_address = 128;
  // A connection waiting for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{30000};
  // From the first byte: the TLS handshake, then the whole request header.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};   // the whole body
  std::chrono::milliseconds write_timeout{30000};  // each answer
};

class HttpServer {
 public:
  // Binds and listens; does not serve until start().
  static Result<std::unique_ptr<HttpServer>> bind(const HttpServerOptions& options,
                                                  HttpHandler handler);
  ~HttpServer();  // stops and joins
  uint16_t port() const;
  void start();  // serves on background threads
  void stop();   // closes the listener and connections, joins threads
  // HTTPS: connections accepted from now on use `tls` (a renewed
  // certificate); open ones keep theirs.
  Status set_tls(TlsContextPtr tls);
  ConnectionStats stats() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
