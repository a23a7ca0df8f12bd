#include "bench/stats.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>

namespace chipledger::bench {

uint64_t unix_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

nlohmann::json LatencySummary::to_json() const {
  return {
      {"samples", samples}, {"p50", p50_ms}, {"p99", p99_ms}, {"max", max_ms}, {"mean", mean_ms}};
}

LatencySummary summarize(std::vector<uint64_t> us) {
  LatencySummary s;
  s.samples = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  // Nearest-rank percentile: the smallest sample with at least p% at or below it.
  auto rank = [&](double p) {
    size_t r = static_cast<size_t>(p / 100.0 * static_cast<double>(us.size()) + 0.999999);
    return us[std::clamp<size_t>(r, 1, us.size()) - 1] / 1000.0;
  };
  s.p50_ms = rank(50);
  s.p99_ms = rank(99);
  s.max_ms = us.back() / 1000.0;
  s.mean_ms = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size()) / 1000.0;
  return s;
}

std::vector<double> load_average() {
  std::ifstream in("/proc/loadavg");
  std::vector<double> out(3);
  if (!(in >> out[0] >> out[1] >> out[2])) return {};
  return out;
}

std::optional<ProcessMemory> process_memory(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return std::nullopt;
  ProcessMemory m;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    uint64_t kib = 0;
    fields >> key >> kib;
    if (key == "VmRSS:") m.rss_kib = kib;
    if (key == "VmHWM:") m.peak_rss_kib = kib;
  }
  return m;
}

unsigned cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
    return static_cast<unsigned>(CPU_COUNT(&set));  // the cores this process may use
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0) return static_cast<unsigned>(n);
  return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<double> process_cpu_seconds(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Fields after the command name (which may hold spaces, so skip past its ')').
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

CpuMeter::CpuMeter(pid_t node_pid, std::vector<pid_t> followers)
    : node_pid_(node_pid),
      followers_(std::move(followers)),
      node_start_(process_cpu_seconds(node_pid)),
      followers_start_(total(followers_)),
      client_start_(own_cpu_seconds()) {}

std::optional<double> CpuMeter::total(const std::vector<pid_t>& pids) {
  if (pids.empty()) return std::nullopt;
  double sum = 0;
  for (pid_t p : pids) {
    auto s = process_cpu_seconds(p);
    if (!s) return std::nullopt;
    sum += *s;
  }
  return sum;
}

nlohmann::json CpuMeter::finish(size_t units, const std::string& unit) const {
  double client = own_cpu_seconds() - client_start_;
  auto per = [&](double seconds) {
    return units > 0 ? seconds * 1e6 / static_cast<double>(units) : 0.0;
  };
  nlohmann::json j{{"client_seconds", client}, {"client_us_per_" + unit, per(client)}};
  auto node_end = process_cpu_seconds(node_pid_);
  if (node_start_ && node_end) {
    j["node_seconds"] = *node_end - *node_start_;
    j["node_us_per_" + unit] = per(*node_end - *node_start_);
  }
  auto followers_end = total(followers_);
  if (followers_start_ && followers_end) {
    j["followers_seconds"] = *followers_end - *followers_start_;
    j["followers_us_per_" + unit] = per(*followers_end - *followers_start_);
  }
  return j;
}

}  // namespace chipledger::bench
