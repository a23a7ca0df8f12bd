// A small blocking HTTP/1.1 client for node-to-node calls (the checkpoint
// cosignature exchange) and `chipledger-node admin`, on Boost.Beast, kept
// alive between requests. The node module's own, so the server does not depend on the
// client module; Beast stays in the .cc file.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "crypto/result.h"

namespace chipledger {

struct PeerReply {
  int status = 0;
  std::string body;
};

class PeerClient {
 public:
  // url: "http://IPV4-OR-HOST:PORT"; refuses anything else.
  static Result<std::unique_ptr<PeerClient>> make(const std::string& url,
                                                  std::chrono::milliseconds timeout);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // A failed Result: no HTTP answer (refused, reset, timeout); HTTP error
  // statuses come back as replies.
  Result<PeerReply> post(const std::string& target, const std::string& body,
                         const std::string& content_type);
  Result<PeerReply> get(const std::string& target);
  const std::string& url() const;

 private:
  struct Impl;
  explicit PeerClient(std::unique_ptr<Impl> impl);
  Result<PeerReply> request(bool post, const std::string& target, const std::string* body,
                            const std::string& content_type);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
