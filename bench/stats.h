// Small measurement helpers for chipledger-bench: a wall clock, latency
// percentiles, and what the machine and a process look like while measuring
// (load average, resident size), so every figure carries its conditions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace chipledger::bench {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

uint64_t unix_ms();

// Latencies in microseconds -> p50 / p99 / max / mean in milliseconds.
struct LatencySummary {
  size_t samples = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  nlohmann::json to_json() const;
};
LatencySummary summarize(std::vector<uint64_t> latencies_us);

// The 1, 5 and 15 minute load averages (/proc/loadavg); empty when unreadable.
std::vector<double> load_average();

// VmRSS and VmHWM of a process in KiB (/proc/PID/status).
struct ProcessMemory {
  uint64_t rss_kib = 0;
  uint64_t peak_rss_kib = 0;
};
std::optional<ProcessMemory> process_memory(pid_t pid);

unsigned cpu_count();

// CPU time (user + system, seconds) a process has used: /proc/PID/stat for
// another process, getrusage for this one. CPU time per request is steadier
// than wall-clock throughput on a machine others are using.
std::optional<double> process_cpu_seconds(pid_t pid);
double own_cpu_seconds();

// CPU used by the node (when its pid is known), by a cluster's other nodes
// (when given) and by this client over a span.
class CpuMeter {
 public:
  explicit CpuMeter(pid_t node_pid, std::vector<pid_t> followers = {});
  // {"node_seconds","client_seconds", "followers_seconds" with followers,
  // and each per unit of work in microseconds}.
  nlohmann::json finish(size_t units, const std::string& unit) const;

 private:
  static std::optional<double> total(const std::vector<pid_t>& pids);
  pid_t node_pid_;
  std::vector<pid_t> followers_;
  std::optional<double> node_start_;
  std::optional<double> followers_start_;
  double client_start_;
};

}  // namespace chipledger::bench
