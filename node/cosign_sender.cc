#include "node/cosign_sender.h"

#include <algorithm>
#include <limits>

#include "net/http_client.h"
#include "node/node_log.h"
#include "node/thread_name.h"

namespace chipledger {

CosignSender::CosignSender(CheckpointPublisher& publisher, std::vector<std::string> peer_urls,
                           Options options)
    : publisher_(publisher), peers_(std::move(peer_urls)), options_(options) {}

CosignSender::~CosignSender() { stop(); }

void CosignSender::start() {
  std::lock_guard lock(threads_mu_);
  started_ = true;
  for (const auto& url : peers_) threads_.emplace_back([this, url] { run(url); });
}

void CosignSender::add_peer(const std::string& url) {
  std::lock_guard lock(threads_mu_);
  if (stopping_ || std::find(peers_.begin(), peers_.end(), url) != peers_.end()) return;
  peers_.push_back(url);
  if (started_) threads_.emplace_back([this, url] { run(url); });
}

void CosignSender::set_tls(TlsContextPtr tls) {
  std::lock_guard lock(tls_mu_);
  options_.tls = std::move(tls);
  ++tls_generation_;
}

void CosignSender::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(threads_mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  publisher_.stop_waiting();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

void CosignSender::run(const std::string& url) {
  name_this_thread("cosign-sender");
  using Clock = std::chrono::steady_clock;
  const std::string& me = publisher_.node_id();
  auto current_tls = [this](uint64_t* generation) {
    std::lock_guard lock(tls_mu_);
    *generation = tls_generation_;
    return options_.tls;
  };
  uint64_t generation = 0;
  TlsContextPtr tls = current_tls(&generation);
  auto client =
      HttpClient::connect_to(url, HttpClientOptions::for_peer(options_.request_timeout, tls));
  if (!client) {
    LogLine(LogLevel::warn) << "chipledger-node " << me << ": cannot send checkpoint signatures to "
                            << url << ": " << client.reason();
    return;
  }
  constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
  uint64_t sent = 0;  // the publisher's version this peer has seen
  bool failing = false;
  std::chrono::milliseconds retry = options_.min_retry;
  while (!stopping_) {
    if (failing) {
      // Wait out the retry delay (only stop() cuts it short).
      publisher_.wait_for_version(kNever, Clock::now() + retry);
    } else {
      publisher_.wait_for_version(sent, Clock::now() + std::chrono::hours(1));
    }
    if (stopping_) break;
    uint64_t version = 0;
    ServedCheckpoint cp = publisher_.newest(&version);
    if (!failing && version <= sent) continue;
    if (cp.note.empty()) {
      sent = version;
      continue;
    }
    if (uint64_t g = 0; current_tls(&g) != tls || g != generation) {
      tls = current_tls(&generation);
      auto renewed =
          HttpClient::connect_to(url, HttpClientOptions::for_peer(options_.request_timeout, tls));
      if (renewed) client = std::move(renewed);
    }
    // Idempotent: a peer given the same cosigned checkpoint twice keeps one.
    auto reply = (*client)->post("/v1/checkpoint/signatures", cp.note, "text/plain; charset=utf-8",
                                 Idempotent::yes);
    bool answered = reply && reply->status != 503 && reply->status < 500;
    if (!answered) {
      if (!failing) {
        LogLine(LogLevel::warn) << "chipledger-node " << me << ": peer " << url
                                << " did not take checkpoint signatures ("
                                << (reply ? "HTTP " + std::to_string(reply->status) + " " +
                                                reply->body
                                          : reply.reason())
                                << "); retrying";
      }
      failing = true;
      retry = std::min(retry * 2, options_.max_retry);
      continue;
    }
    if (failing) {
      LogLine(LogLevel::info) << "chipledger-node " << me << ": peer " << url
                              << " takes checkpoint signatures again";
    }
    failing = false;
    retry = options_.min_retry;
    sent = version;
    if (reply->status == 200) {
      ++delivered_;
    } else {
      // 403 / 409: the peer refused this checkpoint; the next one goes anyway.
      LogLine(LogLevel::warn) << "chipledger-node " << me << ": peer " << url
                              << " refused checkpoint " << cp.size << ": HTTP " << reply->status
                              << " " << reply->body;
    }
  }
}

}  // namespace chipledger
