#include "bench/driver.h"

#include <atomic>
#include <mutex>
#include <thread>

namespace chipledger::bench {

RequestResult post_transaction(HttpClient& http, const std::string& body) {
  auto r = http.post("/v1/transactions", body);
  if (!r) return {Outcome::failed, r.reason()};
  // The node's own compact JSON; a full parse here would cost client CPU
  // that the node, on the same cores, then lacks.
  if (r->status == 200 && r->body.find("\"accepted\":true") != std::string::npos) {
    return {Outcome::ok, {}};
  }
  Outcome o = r->status == 422 ? Outcome::refused : Outcome::failed;
  return {o, "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300)};
}

RequestResult post_batch(HttpClient& http, const std::string& body) {
  auto r = http.post("/v1/transactions/batch", body);
  if (!r) return {Outcome::failed, r.reason()};
  if (r->status == 200 && r->body.find("\"refused\":0,") != std::string::npos) {
    return {Outcome::ok, {}};
  }
  Outcome o = r->status == 200 ? Outcome::refused : Outcome::failed;
  return {o, "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300)};
}

DriveResult drive(size_t count, const DriveOptions& options, const RequestFn& request) {
  DriveResult result;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  SteadyClock::time_point start;
  std::vector<std::thread> threads;
  unsigned n_threads = std::max(1u, options.concurrency);

  for (unsigned t = 0; t < n_threads; ++t) {
    threads.emplace_back([&] {
      DriveResult mine;
      auto http = HttpClient::connect_to(
          options.url,
          HttpClientOptions{options.timeout, 64ull << 20, "chipledger-bench", options.tls});
      bool usable = false;
      if (!http) {
        mine.first_problem = http.reason();
      } else {
        auto health = (*http)->get("/v1/health");
        usable = health && health->status == 200;
        if (!usable)
          mine.first_problem =
              health ? "GET /v1/health: HTTP " + std::to_string(health->status) : health.reason();
      }
      ready++;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      while (usable) {
        size_t i = next++;
        if (i >= count) break;
        auto t0 = SteadyClock::now();
        if (options.rate) {
          auto due =
              start + std::chrono::duration_cast<SteadyClock::duration>(
                          std::chrono::duration<double>(static_cast<double>(i) / *options.rate));
          std::this_thread::sleep_until(due);
          t0 = due;
        }
        RequestResult r = request(i, **http);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
        if (r.outcome != Outcome::failed)
          mine.latencies_us.push_back(static_cast<uint64_t>(us.count()));
        (r.outcome == Outcome::ok        ? mine.ok
         : r.outcome == Outcome::refused ? mine.refused
                                         : mine.failed)++;
        if (r.outcome != Outcome::ok && mine.first_problem.empty()) mine.first_problem = r.problem;
      }
      std::lock_guard lock(mu);
      result.ok += mine.ok;
      result.refused += mine.refused;
      result.failed += mine.failed;
      result.latencies_us.insert(result.latencies_us.end(), mine.latencies_us.begin(),
                                 mine.latencies_us.end());
      if (result.first_problem.empty()) result.first_problem = mine.first_problem;
    });
  }
  while (ready.load() < n_threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = SteadyClock::now();
  go = true;
  for (auto& t : threads) t.join();
  result.seconds = seconds_since(start);
  // Requests no thread could send (every connection failed) count as failed.
  size_t done = result.ok + result.refused + result.failed;
  if (done < count) result.failed += count - done;
  return result;
}

}  // namespace chipledger::bench
