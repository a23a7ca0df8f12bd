#include "tests/integration/cluster_process.h"

#include "bench/node_runner.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, size_t n = 4000) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

}  // namespace

LocalCluster::LocalCluster(unsigned nodes) {
  auto port = bench::free_base_port(nodes);
  if (!port) throw std::runtime_error(port.reason());
  int base = *port;
  auto init = run_process({kNodeBin, "init", "--dir", dir(), "--nodes", std::to_string(nodes),
                           "--port", std::to_string(base)},
                          60s);
  if (init.exit_code != 0) {
    throw std::runtime_error("chipledger-node init --nodes failed\n" + init.describe());
  }
  for (unsigned i = 0; i < nodes; ++i) {
    urls_.push_back("https://127.0.0.1:" + std::to_string(base + static_cast<int>(i)));
  }
  pids_.assign(nodes, -1);
  auto c = nlohmann::json::parse(read_file(trust_file()));
  ledger_id_ = c.at("ledger_id").get<std::string>();
}

LocalCluster::~LocalCluster() {
  bool failed = current_test_failed();
  for (size_t i = 0; i < size(); ++i) {
    if (running(i)) {
      kill(pids_[i], SIGKILL);
      wait_pid(pids_[i], Clock::now() + 30s);
      pids_[i] = -1;
    }
    if (failed) std::cerr << "integration: node-" << i + 1 << ".log:\n" << tail(log(i)) << "\n";
  }
}

std::string LocalCluster::key_file(const std::string& member) const {
  return dir() + "/keys/" + member + ".pem";
}

std::string LocalCluster::trust_file() const { return dir() + "/consortium.json"; }

std::string LocalCluster::log(size_t i) const {
  return read_file(dir() + "/node-" + std::to_string(i + 1) + ".log");
}

void LocalCluster::set_raft_option(const std::string& key, int64_t value) {
  for (size_t i = 0; i < size(); ++i) {
    std::string file = dir() + "/node-" + std::to_string(i + 1) + ".toml";
    std::istringstream in(read_file(file));
    std::string out, line, section;
    bool done = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '[') section = line;
      if (section == "[raft]" && line.rfind(key + " = ", 0) == 0) {
        line = key + " = " + std::to_string(value);
        done = true;
      }
      out += line + "\n";
    }
    if (!done) throw std::runtime_error(file + " has no [raft] " + key);
    std::ofstream(file, std::ios::trunc) << out;
  }
}

ProcessResult LocalCluster::cli(const Argv& args, const std::string& via,
                                std::chrono::milliseconds timeout) const {
  return run_process(Argv{kCliBin, "--node", via, "--trust", trust_file(), "--state",
                          dir() + "/client-state.json"} +
                         args,
                     timeout);
}

std::string LocalCluster::config_file(size_t i) const {
  return dir() + "/node-" + std::to_string(i + 1) + ".toml";
}

nlohmann::json LocalCluster::hold_back_last_node(uint32_t quorum) {
  const size_t last = size() - 1;
  nlohmann::json trust = nlohmann::json::parse(read_file(trust_file()));
  nlohmann::json newcomer = trust["nodes"][last];
  trust["nodes"].erase(last);
  trust["quorum"] = quorum;
  std::ofstream(trust_file(), std::ios::trunc) << trust.dump(2);
  const std::string peer =
      "    [[raft.peers]]\n    address = '" + newcomer["raft_address"].get<std::string>() + "'";
  for (size_t i = 0; i < last; ++i) {
    std::string text = read_file(config_file(i));
    auto at = text.find(peer);
    if (at == std::string::npos) throw std::runtime_error(config_file(i) + " has no such peer");
    auto end = text.find("\n\n", at);
    text.erase(at, end + 2 - at);
    std::ofstream(config_file(i), std::ios::trunc) << text;
  }
  std::string text = read_file(config_file(last));
  auto at = text.find("[raft]\n");
  if (at == std::string::npos) throw std::runtime_error(config_file(last) + " has no [raft]");
  text.insert(at + 7, "join = true\n");
  std::ofstream(config_file(last), std::ios::trunc) << text;
  return newcomer;
}

void LocalCluster::fail(size_t i, const std::string& what) {
  throw std::runtime_error("node-" + std::to_string(i + 1) + " in " + dir() + ": " + what +
                           "\nits log:\n" + tail(log(i)));
}

void LocalCluster::start(size_t i, std::chrono::milliseconds deadline_in) {
  if (running(i)) fail(i, "start() while it runs");
  auto deadline = Clock::now() + deadline_in;
  std::string n = std::to_string(i + 1);
  std::string log_file = dir() + "/node-" + n + ".log";
  { std::ofstream(log_file, std::ios::app) << "=== start ===\n"; }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  std::string config = dir() + "/node-" + n + ".toml";
  std::vector<std::string> argv = {kNodeBin, "--config", config};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) fail(i, std::string("cannot run chipledger-node: ") + std::strerror(rc));
  pids_[i] = pid;
  // Answers GET /v1/health, or exits, or the deadline passes.
  std::string last;
  while (true) {
    if (auto exited = wait_pid(pid, Clock::now()); exited) {
      pids_[i] = -1;
      fail(i, "exited with " + std::to_string(*exited) + " before answering GET /v1/health");
    }
    if (get_json(i, "/v1/health")) return;
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      wait_pid(pid, Clock::now() + 10s);
      pids_[i] = -1;
      fail(i, "did not answer GET /v1/health in time");
    }
    // Polled with a short pause; the node needs tens of milliseconds.
    std::this_thread::sleep_for(20ms);
  }
}

void LocalCluster::start_all(std::chrono::milliseconds deadline) {
  for (size_t i = 0; i < size(); ++i) start(i, deadline);
}

int LocalCluster::stop(size_t i, std::chrono::milliseconds deadline) {
  if (!running(i)) return 0;
  kill(pids_[i], SIGTERM);
  auto code = wait_pid(pids_[i], Clock::now() + deadline);
  if (!code) {
    kill(pids_[i], SIGKILL);
    wait_pid(pids_[i], Clock::now() + 10s);
    pids_[i] = -1;
    fail(i, "did not exit within " + std::to_string(deadline.count()) + " ms of SIGTERM");
  }
  pids_[i] = -1;
  return *code;
}

void LocalCluster::kill9(size_t i) {
  if (!running(i)) fail(i, "kill9() while it is not running");
  kill(pids_[i], SIGKILL);
  auto code = wait_pid(pids_[i], Clock::now() + 30s);
  if (!code) fail(i, "did not die within 30 s of SIGKILL");
  pids_[i] = -1;
}

std::optional<int> LocalCluster::wait_exit(size_t i, std::chrono::milliseconds deadline) {
  if (!running(i)) fail(i, "wait_exit() while it is not running");
  auto code = wait_pid(pids_[i], Clock::now() + deadline);
  if (code) pids_[i] = -1;
  return code;
}

Result<std::unique_ptr<HttpClient>> LocalCluster::connect(size_t i,
                                                          std::chrono::milliseconds timeout,
                                                          const std::string& as_node) const {
  return connect_node(url(i), dir(), timeout, as_node);
}

std::optional<nlohmann::json> LocalCluster::get_json(size_t i, const std::string& target) const {
  auto client = connect(i, 5s);
  if (!client) return std::nullopt;
  auto r = (*client)->get(target);
  // /v1/health answers 503 while the node cannot do its job: still its account.
  const bool health_503 = target == "/v1/health" && r && r->status == 503;
  if (!r || (r->status != 200 && !health_503)) return std::nullopt;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<size_t> LocalCluster::leader() const {
  std::optional<size_t> found;
  std::string named;
  for (size_t i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    auto h = get_json(i, "/v1/health");
    if (!h || !(*h)["raft"]["leader"].is_string()) return std::nullopt;
    std::string l = (*h)["raft"]["leader"];
    if (!named.empty() && l != named) return std::nullopt;
    named = l;
    if ((*h)["raft"]["role"] == "leader") found = i;
  }
  if (!found || url(*found) != named) return std::nullopt;
  return found;
}

size_t LocalCluster::wait_leader(std::chrono::milliseconds limit,
                                 std::optional<size_t> not_this) const {
  auto deadline = Clock::now() + limit;
  while (true) {
    auto l = leader();
    if (l && l != not_this) return *l;
    if (Clock::now() > deadline) {
      throw std::runtime_error("no Raft leader that every running node names within " +
                               std::to_string(limit.count()) + " ms (cluster in " + dir() + ")");
    }
    std::this_thread::sleep_for(20ms);
  }
}

// The log size and checkpoint root every running node agrees on: each
// serves GET /v1/checkpoint with a quorum of valid signatures at its own
// log size, and all sizes and roots are equal.
std::optional<std::pair<uint64_t, Hash>> agreed(const LocalCluster& c, const Consortium& trust,
                                                std::string* why) {
  std::optional<std::pair<uint64_t, Hash>> seen;
  auto not_yet = [&](std::string reason) {
    *why = std::move(reason);
    return std::nullopt;
  };
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c.running(i)) continue;
    std::string node = "node-" + std::to_string(i + 1);
    auto h = c.get_json(i, "/v1/health");
    if (!h) return not_yet(node + " does not answer");
    uint64_t size = (*h)["size"];
    auto http = c.connect(i, 10s);
    if (!http) return not_yet(http.reason());
    auto r = (*http)->get("/v1/checkpoint?wait_ms=0");
    if (!r || r->status != 200) return not_yet("no checkpoint from " + node);
    auto v = verify_checkpoint(trust, r->body);
    if (!v) return not_yet(node + ": " + v.reason());
    if (v->checkpoint.size != size) {
      *why = "node-" + std::to_string(i + 1) + " has " + std::to_string(size) +
             " entries, its quorum checkpoint " + std::to_string(v->checkpoint.size);
      return std::nullopt;
    }
    if (seen && (seen->first != size || seen->second != v->checkpoint.root)) {
      *why = "node-" + std::to_string(i + 1) + " is at " + std::to_string(size) + ", another at " +
             std::to_string(seen->first) + " (or the roots differ)";
      return std::nullopt;
    }
    seen = std::make_pair(size, v->checkpoint.root);
  }
  return seen;
}

std::pair<uint64_t, Hash> wait_agreed(const LocalCluster& c, const Consortium& trust,
                                      std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  std::string why;
  while (true) {
    if (auto a = agreed(c, trust, &why)) return *a;
    if (Clock::now() > deadline) throw std::runtime_error("the nodes did not converge: " + why);
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace chipledger::integ
