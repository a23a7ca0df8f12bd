#define CATCH_CONFIG_EXTERNAL_INTERFACES  // for the failure listener below
#include "tests/integration/node_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace chipledger::integ {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- which test failed: a Catch listener ---------------------------------

std::atomic<bool> g_test_failed{false};

struct FailureListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    g_test_failed = false;
    TestEventListenerBase::testCaseStarting(info);
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) g_test_failed = true;
    return true;
  }
};

}  // namespace
}  // namespace chipledger::integ

using chipledger::integ::FailureListener;
CATCH_REGISTER_LISTENER(FailureListener)

namespace chipledger::integ {
namespace {

// ---- small POSIX helpers --------------------------------------------------

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2"));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

// Spawns argv with stdout and stderr into the given pipes and stdin from
// /dev/null. The parent's ends stay close-on-exec, so no other child keeps
// them open.
pid_t spawn(const std::vector<std::string>& argv, Pipe& out, Pipe& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err.write, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  out.close_write();
  err.close_write();
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// Reads whatever is ready on fd into `to`; false at end of file.
bool drain_fd(int fd, std::string& to) {
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      to.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return false;
  }
}

std::string tail(const std::string& s, size_t n = 6000) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

bool keep_all() {
  const char* k = std::getenv("CHIPLEDGER_INTEG_KEEP");
  return k != nullptr && *k != '\0' && std::string(k) != "0";
}

}  // namespace

// Reaps `pid`, waiting until `deadline`; nullopt when it is still running.
// Waits on a pidfd where the kernel has them, else polls waitpid briefly.
std::optional<int> wait_pid(pid_t pid, Clock::time_point deadline) {
  int pidfd = open_pidfd(pid);
  std::optional<int> result;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result = decode_status(status);
      break;
    }
    if (r < 0 && errno != EINTR) {
      result = -1;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(left.count()));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(2)));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return result;
}

bool current_test_failed() { return g_test_failed.load() || std::uncaught_exceptions() > 0; }

// ---- run_process ----------------------------------------------------------

std::string ProcessResult::describe() const {
  std::string s = "$ " + command + "\nexit code " + std::to_string(exit_code) +
                  (timed_out ? " (timed out)" : "") + "\n";
  s += "--- stdout ---\n" + tail(out, 3000) + "\n--- stderr ---\n" + tail(err, 3000);
  return s;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProcessResult res;
  for (const auto& a : argv) res.command += (res.command.empty() ? "" : " ") + a;
  Pipe out, err;
  pid_t pid = spawn(argv, out, err);
  auto deadline = Clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2] = {{out_open ? out.read : -1, POLLIN, 0}, {err_open ? err.read : -1, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      out_open = drain_fd(out.read, res.out);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      err_open = drain_fd(err.read, res.err);
    }
  }
  auto code = wait_pid(pid, Clock::now() + (res.timed_out ? 10s : timeout));
  if (!code) {
    kill(pid, SIGKILL);
    code = wait_pid(pid, Clock::now() + 10s);
    res.timed_out = true;
  }
  res.exit_code = code.value_or(-1);
  return res;
}

// ---- TempDir --------------------------------------------------------------

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

void set_config_value(const std::string& path, const std::string& key, const std::string& value) {
  std::string text = read_text_file(path);
  size_t at = 0;
  for (;;) {
    at = text.find(key, at);
    if (at == std::string::npos) throw std::runtime_error(path + " has no line setting " + key);
    const bool line_start = at == 0 || text[at - 1] == '\n';
    size_t after = at + key.size();
    while (after < text.size() && text[after] == ' ') ++after;
    if (line_start && after < text.size() && text[after] == '=') break;
    at += key.size();
  }
  size_t end = text.find('\n', at);
  if (end == std::string::npos) end = text.size();
  text.replace(at, end - at, key + " = " + value);
  write_text_file(path, text);
}

TempDir::TempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error(errno_text("mkdtemp " + templ));
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (current_test_failed() || keep_all()) {
    std::cerr << "integration: kept the test folder " << path_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---- NodeProcess ----------------------------------------------------------

NodeProcess::NodeProcess(const std::string& template_file,
                         const std::vector<std::string>& init_args) {
  std::vector<std::string> argv = {kNodeBin, "init", "--dir", dir(), "--port", "0"};
  if (!template_file.empty()) argv.insert(argv.end(), {"--template", template_file});
  argv.insert(argv.end(), init_args.begin(), init_args.end());
  auto init = run_process(argv, 60s);
  if (init.exit_code != 0) {
    throw std::runtime_error("chipledger-node init failed in " + dir() + "\n" + init.describe());
  }
}

std::unique_ptr<NodeProcess> NodeProcess::twin_of(const NodeProcess& other) {
  std::unique_ptr<NodeProcess> twin(new NodeProcess(NoInit{}));
  std::error_code ec;
  for (const char* item : {"consortium.json", "node.toml", "keys", "tls"}) {
    fs::copy(fs::path(other.dir()) / item, fs::path(twin->dir()) / item,
             fs::copy_options::recursive, ec);
    if (ec) throw std::runtime_error("copying " + std::string(item) + ": " + ec.message());
  }
  return twin;
}

NodeProcess::~NodeProcess() {
  bool failed = current_test_failed();
  if (running()) {
    try {
      stop(30s);
    } catch (const std::exception& e) {
      std::cerr << "integration: stopping the node: " << e.what() << "\n";
    }
  }
  if (failed) {
    std::cerr << "integration: test failed; node folder " << dir() << "\nnode output:\n"
              << tail(output()) << "\n";
  }
}

std::string NodeProcess::url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }

std::string NodeProcess::node_id() const {
  std::ifstream in(trust_file());
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("nodes") || j["nodes"].empty()) {
    throw std::runtime_error("no nodes in " + trust_file());
  }
  return j["nodes"][0].at("id").get<std::string>();
}

std::string NodeProcess::key_file(const std::string& member) const {
  return dir() + "/keys/" + member + ".pem";
}

std::string NodeProcess::trust_file() const { return dir() + "/consortium.json"; }

std::string NodeProcess::output() const {
  std::lock_guard lock(mu_);
  return all_output_;
}

void NodeProcess::fail(const std::string& what) {
  if (running()) {
    kill(pid_, SIGKILL);
    wait_exit(10s);
  }
  throw std::runtime_error("node in " + dir() + ": " + what + "\nnode output:\n" + tail(output()));
}

void NodeProcess::reader_loop(int out_fd, int err_fd) {
  bool out_open = true, err_open = true;
  std::string chunk;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      bool& open = i == 0 ? out_open : err_open;
      if (!open || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      chunk.clear();
      open = drain_fd(fds[i].fd, chunk);
      std::lock_guard lock(mu_);
      if (i == 0) run_stdout_ += chunk;
      all_output_ += chunk;
    }
    cv_.notify_all();
  }
  ::close(out_fd);
  ::close(err_fd);
  {
    std::lock_guard lock(mu_);
    output_closed_ = true;
  }
  cv_.notify_all();
}

void NodeProcess::start(std::chrono::milliseconds deadline_in) {
  if (running()) fail("start() while the node is running");
  auto deadline = Clock::now() + deadline_in;
  {
    std::lock_guard lock(mu_);
    run_stdout_.clear();
    output_closed_ = false;
    all_output_ += "=== start ===\n";
  }
  http_.reset();
  port_ = 0;
  Pipe out, err;
  pid_ = spawn({kNodeBin, "--config", dir() + "/node.toml"}, out, err);
  reader_ = std::thread([this, o = out.read, e = err.read] { reader_loop(o, e); });
  out.read = err.read = -1;  // the reader owns them now

  // 1. The "listening on https://HOST:PORT" (or http://) line.
  static const std::string kMarker = "listening on ";
  std::string line;
  {
    std::unique_lock lock(mu_);
    bool seen = cv_.wait_until(lock, deadline, [&] {
      size_t at = run_stdout_.find(kMarker);
      return output_closed_ ||
             (at != std::string::npos && run_stdout_.find('\n', at) != std::string::npos);
    });
    size_t at = run_stdout_.find(kMarker);
    if (seen && at != std::string::npos) {
      size_t end = run_stdout_.find('\n', at);
      if (end != std::string::npos) line = run_stdout_.substr(at, end - at);
    }
  }
  if (line.empty()) fail("no \"listening on\" line before the deadline (or the node exited)");
  const std::string where = line.substr(kMarker.size());
  if (where.rfind("https://", 0) == 0) {
    scheme_ = "https";
  } else if (where.rfind("http://", 0) == 0) {
    scheme_ = "http";
  } else {
    fail("no URL in: " + line);
  }
  size_t colon = line.rfind(':');
  unsigned long port = 0;
  try {
    port = std::stoul(line.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (colon == std::string::npos || port == 0 || port > 65535)
    fail("cannot read a port in: " + line);
  port_ = static_cast<uint16_t>(port);

  // 2. GET /v1/health answers 200.
  std::string last;
  while (true) {
    auto client = connect_node(url(), dir(), 2s);
    if (!client) fail(client.reason());
    auto r = (*client)->get("/v1/health");
    // Up: its account of itself, 200, or 503 while it cannot do its job.
    if (r && (r->status == 200 || r->status == 503) &&
        r->body.find("\"status\"") != std::string::npos) {
      break;
    }
    last = r ? "HTTP " + std::to_string(r->status) + " " + r->body : r.reason();
    {
      std::unique_lock lock(mu_);
      // Wakes early when the node prints or exits; otherwise retries soon.
      cv_.wait_for(lock, 10ms, [&] { return output_closed_; });
      if (output_closed_) {
        lock.unlock();
        fail("the node exited before answering GET /v1/health");
      }
    }
    if (Clock::now() > deadline) fail("GET /v1/health did not answer in time: " + last);
  }
}

int NodeProcess::wait_exit(std::chrono::milliseconds deadline) {
  auto code = wait_pid(pid_, Clock::now() + deadline);
  if (!code) return -2;  // still running
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  http_.reset();
  return *code;
}

int NodeProcess::stop(std::chrono::milliseconds deadline) {
  if (!running()) return 0;
  kill(pid_, SIGTERM);
  int code = wait_exit(deadline);
  if (code == -2) {
    kill(pid_, SIGKILL);
    wait_exit(10s);
    fail("the node did not exit within " + std::to_string(deadline.count()) +
         " ms of SIGTERM (SIGKILLed)");
  }
  return code;
}

void NodeProcess::kill9() {
  if (!running()) fail("kill9() while the node is not running");
  kill(pid_, SIGKILL);
  if (wait_exit(30s) == -2) fail("the node did not die within 30 s of SIGKILL");
}

void NodeProcess::restart() {
  if (running()) {
    int code = stop();
    if (code != 0) fail("the node exited with " + std::to_string(code) + " on SIGTERM");
  }
  start();
}

ProcessResult NodeProcess::cli(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) const {
  // The CLI's checkpoint memory stays in the test's folder.
  std::vector<std::string> argv = {
      kCliBin, "--node", url(), "--state", dir() + "/client-state.json", "--trust", trust_file()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout);
}

std::unique_ptr<HttpClient> NodeProcess::new_http(std::chrono::milliseconds timeout) const {
  auto c = connect_node(url(), dir(), timeout);
  if (!c) throw std::runtime_error(c.reason());
  return std::move(*c);
}

std::unique_ptr<HttpClient> NodeProcess::new_peer_http(std::chrono::milliseconds timeout) const {
  auto c = connect_node(url(), dir(), timeout, node_id());
  if (!c) throw std::runtime_error(c.reason());
  return std::move(*c);
}

HttpClientOptions node_client_options(const std::string& dir, std::chrono::milliseconds timeout,
                                      const std::string& as_node) {
  HttpClientOptions options;
  options.timeout = timeout;
  const std::string ca_file = dir + "/tls/ca.pem";
  if (!fs::exists(ca_file)) return options;
  std::optional<TlsIdentity> identity;
  std::string ca;
  if (!as_node.empty()) {
    auto id = TlsIdentity::load(
        {ca_file, dir + "/tls/" + as_node + ".pem", dir + "/tls/" + as_node + "-key.pem"},
        static_cast<int64_t>(std::time(nullptr)));
    if (!id) throw std::runtime_error(id.reason());
    ca = id->ca_pem;
    identity = std::move(*id);
  } else {
    auto pem = read_pem_file(ca_file, "TLS CA");
    if (!pem) throw std::runtime_error(pem.reason());
    ca = std::move(*pem);
  }
  auto ctx = make_client_context(ca, identity ? &*identity : nullptr);
  if (!ctx) throw std::runtime_error(ctx.reason());
  options.tls = std::move(*ctx);
  return options;
}

Result<std::unique_ptr<HttpClient>> connect_node(const std::string& url, const std::string& dir,
                                                 std::chrono::milliseconds timeout,
                                                 const std::string& as_node) {
  return HttpClient::connect_to(url, node_client_options(dir, timeout, as_node));
}

HttpClient& NodeProcess::http() {
  if (!http_) http_ = new_http();
  return *http_;
}

nlohmann::json NodeProcess::get_json(const std::string& target) {
  auto r = http().get(target);
  if (!r) throw std::runtime_error("GET " + target + ": " + r.reason());
  if (r->status != 200) {
    throw std::runtime_error("GET " + target + ": HTTP " + std::to_string(r->status) + " " +
                             r->body);
  }
  return nlohmann::json::parse(r->body);
}

nlohmann::json NodeProcess::health() {
  auto r = http().get("/v1/health");
  if (!r) throw std::runtime_error("GET /v1/health: " + r.reason());
  if (r->status != 200 && r->status != 503) {
    throw std::runtime_error("GET /v1/health: HTTP " + std::to_string(r->status) + " " + r->body);
  }
  return nlohmann::json::parse(r->body);
}

uint64_t NodeProcess::log_size() { return health().at("size").get<uint64_t>(); }

std::string NodeProcess::ledger_id() { return health().at("ledger_id").get<std::string>(); }

}  // namespace chipledger::integ
