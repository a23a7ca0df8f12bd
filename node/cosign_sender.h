// Sends this node's newest signed checkpoint (with every signature it has)
// to each peer's API, POST /v1/checkpoint/signatures, so that every node
// gathers the others' signatures (docs/checkpoint.md, "Cosigning"). One
// thread per peer, so a slow or dead peer holds up nobody else. Sends are
// coalesced: a peer gets the newest checkpoint when it is ready for the next
// one, never a queue of old ones. A peer that does not answer is retried
// with a growing delay (capped), sooner when a new checkpoint is signed.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_context.h"
#include "node/checkpoint_publisher.h"

namespace chipledger {

class CosignSender {
 public:
  struct Options {
    std::chrono::milliseconds request_timeout{2000};
    std::chrono::milliseconds min_retry{50};
    std::chrono::milliseconds max_retry{1000};
    // For https peers: this node's client context (its certificate, mutual
    // TLS: the peers take signatures only from a node's certificate).
    TlsContextPtr tls = nullptr;
  };

  // peer_urls: the other nodes' API URLs (not this node's).
  CosignSender(CheckpointPublisher& publisher, std::vector<std::string> peer_urls, Options options);
  ~CosignSender();  // stop()
  CosignSender(const CosignSender&) = delete;
  CosignSender& operator=(const CosignSender&) = delete;

  void start();
  void stop();
  // A node the consortium added (a governance vote) gets this node's
  // signatures from now on; a URL already served, or after stop(), is a no-op.
  void add_peer(const std::string& url);
  // A renewed client certificate: each peer's connection is made again
  // with it before its next request.
  void set_tls(TlsContextPtr tls);
  // Checkpoints a peer accepted (kept or pending), for tests and metrics.
  uint64_t delivered() const { return delivered_.load(); }

 private:
  void run(const std::string& url);

  CheckpointPublisher& publisher_;
  std::vector<std::string> peers_;
  Options options_;
  std::mutex tls_mu_;
  uint64_t tls_generation_ = 0;  // guarded by tls_mu_, with options_.tls
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> delivered_{0};
  std::mutex threads_mu_;  // guards peers_, threads_, started_
  bool started_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chipledger
