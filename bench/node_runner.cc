#include "bench/node_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "client/http_client.h"

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

std::string default_node_bin() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "chipledger-node";
  return (self.parent_path() / "chipledger-node").string();
}

Result<std::unique_ptr<NodeRunner>> NodeRunner::init(const std::string& node_bin, bool keep) {
  std::string templ = (fs::temp_directory_path() / "chipledger-bench-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return Result<std::unique_ptr<NodeRunner>>::error("mkdtemp " + templ + ": " +
                                                      std::strerror(errno));
  }
  std::unique_ptr<NodeRunner> runner(new NodeRunner(node_bin, buf.data(), keep));
  std::string log = runner->root_ + "/init.log";
  auto pid = spawn({node_bin, "init", "--dir", runner->dir_, "--port", "0"}, log);
  if (!pid) return pid.status();
  int code = wait_exit(*pid, 60s);
  if (code != 0) {
    if (code == -2) {
      kill(*pid, SIGKILL);
      wait_exit(*pid, 10s);
    }
    return Result<std::unique_ptr<NodeRunner>>::error(
        node_bin + " init failed (exit " + std::to_string(code) + "): " + read_file(log));
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

std::string NodeRunner::log_tail(size_t bytes) const {
  std::string s = read_file(dir_ + "/node.log");
  return s.size() <= bytes ? s : "..." + s.substr(s.size() - bytes);
}

Status NodeRunner::start(std::chrono::seconds deadline) {
  if (pid_ > 0) return Status::error("the node is already running");
  std::string log = dir_ + "/node.log";
  auto pid = spawn({node_bin_, "--config", dir_ + "/node.toml"}, log);
  if (!pid) return pid.status();
  pid_ = *pid;
  auto until = std::chrono::steady_clock::now() + deadline;
  static constexpr std::string_view kMarker = "listening on ";  // then http://HOST:PORT
  while (url_.empty()) {
    std::string out = read_file(log);
    size_t at = out.find(std::string(kMarker) + "http://");
    if (at != std::string::npos) {
      size_t begin = at + kMarker.size();
      size_t end = out.find_first_of(" \r\n", begin);
      if (end != std::string::npos) url_ = out.substr(begin, end - begin);
    }
    if (!url_.empty()) break;
    if (wait_exit(pid_, 0ms) != -2) {
      pid_ = -1;
      return Status::error("the node exited before listening:\n" + log_tail());
    }
    if (std::chrono::steady_clock::now() > until) {
      stop();
      return Status::error("the node printed no \"listening on\" line in time:\n" + log_tail());
    }
    std::this_thread::sleep_for(10ms);
  }
  while (true) {
    auto http = HttpClient::connect_to(url_, 2s);
    if (!http) return http.status();
    auto r = (*http)->get("/v1/health");
    if (r && r->status == 200) return Status::ok();
    if (std::chrono::steady_clock::now() > until) {
      stop();
      return Status::error("GET /v1/health did not answer 200 in time:\n" + log_tail());
    }
    std::this_thread::sleep_for(10ms);
  }
}

int NodeRunner::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = wait_exit(pid_, 60s);
  if (code == -2) {
    kill(pid_, SIGKILL);
    code = wait_exit(pid_, 10s);
  }
  pid_ = -1;
  return code;
}

}  // namespace chipledger::bench
