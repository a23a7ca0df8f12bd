// A small blocking HTTP/1.1 client on Boost.Beast for the CLI and tests.
// Keeps one connection alive between requests and reconnects when the
// server closed it. Only http:// URLs.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "crypto/result.h"

namespace chipledger {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // base_url like "http://127.0.0.1:7800"; refuses anything else with a reason.
  static Result<std::unique_ptr<HttpClient>> connect_to(
      const std::string& base_url, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  // A failed Result means no HTTP answer (connection refused, timeout, ...);
  // HTTP error statuses come back as a reply.
  Result<HttpReply> get(const std::string& target);
  Result<HttpReply> post(const std::string& target, const std::string& body,
                         const std::string& content_type = "application/json");

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
