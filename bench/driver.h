// Drives a node over its real HTTP API: `concurrency` threads, each with its
// own keep-alive HttpClient, take prepared requests in order and time each
// one. Closed loop (as fast as answers come) or paced at a fixed rate, in
// which case a request's latency counts from its scheduled send time, so a
// node that falls behind shows it (no coordinated omission).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/stats.h"
#include "net/http_client.h"

namespace chipledger::bench {

struct DriveOptions {
  std::string url;
  unsigned concurrency = 1;
  std::optional<double> rate;  // requests per second; nullopt: closed loop
  std::chrono::milliseconds timeout{30000};
  TlsContextPtr tls = nullptr;  // https:// URLs: the consortium CA's client context
};

struct DriveResult {
  size_t ok = 0;                       // accepted (submissions) or verified ok (verify)
  size_t refused = 0;                  // answered, but not ok (422, or a non-ok verdict)
  size_t failed = 0;                   // no answer, or an unexpected status
  double seconds = 0;                  // from the first request's start to the last answer
  std::vector<uint64_t> latencies_us;  // of every answered request
  std::string first_problem;           // the first refusal or failure, for the report
};

// What one request did: ok, refused (answered, not ok) or failed, with a reason.
enum class Outcome { ok, refused, failed };
struct RequestResult {
  Outcome outcome = Outcome::failed;
  std::string problem;
};

// Runs `request(i, http)` for i in [0, count) on `concurrency` threads.
// Each thread first answers GET /v1/health, so connecting is not measured.
using RequestFn = std::function<RequestResult(size_t i, HttpClient& http)>;
DriveResult drive(size_t count, const DriveOptions& options, const RequestFn& request);

// The common request: POST /v1/transactions with a prepared body; ok when
// the node answers 200 {"accepted":true,...}.
RequestResult post_transaction(HttpClient& http, const std::string& body);
// POST /v1/transactions/batch with a prepared {"txs": [...]} body; ok when
// the node answers 200 and refused none of them.
RequestResult post_batch(HttpClient& http, const std::string& body);

}  // namespace chipledger::bench
