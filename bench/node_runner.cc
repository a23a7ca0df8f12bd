#include "bench/node_runner.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "net/http_client.h"

extern char** environ;

namespace chipledger::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Spawns argv with stdin from /dev/null and stdout+stderr appended to `log`.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Result<pid_t>::error("cannot run " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for `pid` to exit, at most `deadline`; -2 when it is still running.
int wait_exit(pid_t pid, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() > until) return -2;
    std::this_thread::sleep_for(5ms);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

namespace {

// True when nothing listens on or holds 127.0.0.1:port right now.
bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The lowest port the kernel hands out for outgoing connections
// (/proc/sys/net/ipv4/ip_local_port_range; Linux's default 32768).
int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return in >> low && low > 0 ? low : 32768;
}

}  // namespace

// Below the ephemeral range: a node restarted after kill -9 must get its
// port back, and an outgoing connection of any process on the machine can
// take a port of the ephemeral range while the node is down.
Result<int> free_base_port(unsigned n) {
  int top = std::min(ephemeral_low(), 65536) - 100 - static_cast<int>(n);
  if (top <= 10000)
    return Result<int>::error("no port range below the ephemeral ports for a cluster");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, top);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = pick(rng);
    bool ok = true;
    for (unsigned i = 0; ok && i < n; ++i) {
      ok = port_free(base + static_cast<int>(i)) && port_free(base + 100 + static_cast<int>(i));
    }
    if (ok) return base;
  }
  return Result<int>::error("no free block of loopback ports for a cluster");
}

std::string default_node_bin() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "chipledger-node";
  return (self.parent_path() / "chipledger-node").string();
}

Result<TlsContextPtr> client_tls_for(const std::string& url, const std::string& dir) {
  if (url.rfind("https://", 0) != 0) return TlsContextPtr{};
  auto ca = read_pem_file(dir + "/tls/ca.pem", "the consortium CA");
  if (!ca) return ca.status();
  return make_client_context(*ca, nullptr);
}

Result<std::unique_ptr<HttpClient>> NodeRunner::connect(const std::string& url) const {
  return HttpClient::connect_to(url, HttpClientOptions{2s, 1u << 20, "chipledger-bench", tls_});
}

Result<std::unique_ptr<NodeRunner>> NodeRunner::init(const std::string& node_bin, bool keep,
                                                     unsigned nodes, bool tls) {
  using R = Result<std::unique_ptr<NodeRunner>>;
  if (nodes < 1 || nodes > 9) return R::error("--nodes must be 1 to 9");
  std::string templ = (fs::temp_directory_path() / "chipledger-bench-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr)
    return R::error("mkdtemp " + templ + ": " + std::strerror(errno));
  std::unique_ptr<NodeRunner> runner(new NodeRunner(node_bin, buf.data(), keep));
  // Plain HTTP by default: the figures measure the ledger, comparable
  // across sessions (docs/performance.md); --tls measures what HTTPS adds.
  std::vector<std::string> argv{node_bin, "init", "--dir",       runner->dir_,
                                "--port", "0",    "--plain-http"};
  int base = 0;
  if (nodes > 1) {
    auto port = free_base_port(nodes);
    if (!port) return port.status();
    base = *port;
    argv = {node_bin,      "init",
            "--dir",       runner->dir_,
            "--nodes",     std::to_string(nodes),
            "--port",      std::to_string(base),
            "--plain-http"};
  }
  if (tls) argv.pop_back();
  std::string log = runner->root_ + "/init.log";
  auto pid = spawn(argv, log);
  if (!pid) return pid.status();
  int code = wait_exit(*pid, 60s);
  if (code != 0) {
    if (code == -2) {
      kill(*pid, SIGKILL);
      wait_exit(*pid, 10s);
    }
    return R::error(node_bin + " init failed (exit " + std::to_string(code) +
                    "): " + read_file(log));
  }
  if (tls) {
    auto ctx = client_tls_for("https://", runner->dir_);
    if (!ctx) return ctx.status();
    runner->tls_ = std::move(*ctx);
  }
  if (nodes == 1) {
    runner->nodes_.push_back({runner->dir_ + "/node.toml", runner->dir_ + "/node.log", "", -1});
  }
  for (unsigned i = 0; nodes > 1 && i < nodes; ++i) {
    std::string name = runner->dir_ + "/node-" + std::to_string(i + 1);
    runner->nodes_.push_back({name + ".toml", name + ".log",
                              std::string(tls ? "https" : "http") +
                                  "://127.0.0.1:" + std::to_string(base + static_cast<int>(i)),
                              -1});
  }
  return runner;
}

NodeRunner::~NodeRunner() {
  stop();
  if (keep_) {
    std::cerr << "chipledger-bench: kept the node folder " << root_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::vector<pid_t> NodeRunner::follower_pids() const {
  std::vector<pid_t> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i != leader_) out.push_back(nodes_[i].pid);
  }
  return out;
}

std::string NodeRunner::log_tail(size_t bytes) const {
  std::string all;
  for (const auto& n : nodes_) {
    std::string s = read_file(n.log);
    if (nodes_.size() > 1) all += "--- " + n.log + "\n";
    all += s.size() <= bytes ? s : "..." + s.substr(s.size() - bytes);
  }
  return all;
}

Status NodeRunner::start(std::chrono::seconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (auto& n : nodes_) {
    if (n.pid > 0) return Status::error("the node is already running");
    CL_TRY(start_one(n, until));
  }
  Status st = nodes_.size() > 1 ? wait_leader(until) : Status::ok();
  if (!st) stop();
  return st;
}

// Starts one node; a single node's URL comes from its log ("listening on").
Status NodeRunner::start_one(Node& n, std::chrono::steady_clock::time_point until) {
  auto pid = spawn({node_bin_, "--config", n.config}, n.log);
  if (!pid) return pid.status();
  n.pid = *pid;
  static constexpr std::string_view kMarker = "listening on ";  // then http(s)://HOST:PORT
  while (n.url.empty()) {
    std::string out = read_file(n.log);
    size_t at = out.find(std::string(kMarker) + (tls_ ? "https://" : "http://"));
    if (at != std::string::npos) {
      size_t begin = at + kMarker.size();
      size_t end = out.find_first_of(" \r\n", begin);
      if (end != std::string::npos) n.url = out.substr(begin, end - begin);
    }
    if (!n.url.empty()) break;
    if (wait_exit(n.pid, 0ms) != -2) {
      n.pid = -1;
      return Status::error("the node exited before listening:\n" + log_tail());
    }
    if (std::chrono::steady_clock::now() > until) {
      return Status::error("the node printed no \"listening on\" line in time:\n" + log_tail());
    }
    std::this_thread::sleep_for(10ms);
  }
  while (true) {
    auto http = connect(n.url);
    if (http) {
      auto r = (*http)->get("/v1/health");
      if (r && r->status == 200) return Status::ok();
    }
    if (wait_exit(n.pid, 0ms) != -2) {
      n.pid = -1;
      return Status::error(n.config + ": the node exited:\n" + log_tail());
    }
    if (std::chrono::steady_clock::now() > until) {
      return Status::error(n.url + ": GET /v1/health did not answer 200 in time:\n" + log_tail());
    }
    std::this_thread::sleep_for(10ms);
  }
}

// Waits until every node names the same leader and exactly one is it.
Status NodeRunner::wait_leader(std::chrono::steady_clock::time_point until) {
  while (true) {
    std::optional<std::string> named;
    std::optional<size_t> leader;
    bool agree = true;
    for (size_t i = 0; i < nodes_.size() && agree; ++i) {
      auto http = connect(nodes_[i].url);
      auto r = http ? (*http)->get("/v1/health") : Result<HttpReply>(http.status());
      auto j =
          r && r->status == 200 ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
      const auto raft =
          j.is_object() ? j.value("raft", nlohmann::json::object()) : nlohmann::json::object();
      std::string url = raft.contains("leader") && raft["leader"].is_string()
                            ? raft["leader"].get<std::string>()
                            : "";
      agree = !url.empty() && (!named || *named == url);
      named = url;
      if (raft.value("role", "") == "leader") leader = i;
    }
    if (agree && leader && nodes_[*leader].url == *named) {
      leader_ = *leader;
      return Status::ok();
    }
    if (std::chrono::steady_clock::now() > until) {
      return Status::error("no Raft leader that every node names in time:\n" + log_tail());
    }
    std::this_thread::sleep_for(50ms);
  }
}

int NodeRunner::stop() {
  int result = -1;
  for (auto& n : nodes_) {
    if (n.pid > 0) kill(n.pid, SIGTERM);
  }
  for (auto& n : nodes_) {
    if (n.pid <= 0) continue;
    int code = wait_exit(n.pid, 60s);
    if (code == -2) {
      kill(n.pid, SIGKILL);
      code = wait_exit(n.pid, 10s);
    }
    n.pid = -1;
    if (result <= 0) result = code;
  }
  return result;
}

}  // namespace chipledger::bench
