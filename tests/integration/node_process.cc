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

bool keep_all() {
  const char* k = std::getenv("CHIPLEDGER_INTEG_KEEP");
  return k != nullptr && *k != '\0' && std::string(k) != "0";
}

}  // namespace

bool current_test_failed() { return g_test_failed.load() || std::uncaught_exceptions() > 0; }

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
              << tail_of(output()) << "\n";
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

std::string NodeProcess::output() const { return child_.output(); }

void NodeProcess::fail(const std::string& what) {
  if (running()) {
    child_.signal(SIGKILL);
    wait_exit(10s);
  }
  throw std::runtime_error("node in " + dir() + ": " + what + "\nnode output:\n" +
                           tail_of(output()));
}

void NodeProcess::start(std::chrono::milliseconds deadline_in) {
  if (running()) fail("start() while the node is running");
  auto deadline = Clock::now() + deadline_in;
  http_.reset();
  port_ = 0;
  child_.spawn({kNodeBin, "--config", dir() + "/node.toml"}, "=== start ===\n");

  // 1. The "listening on https://HOST:PORT" (or http://) line.
  static const std::string kMarker = "listening on ";
  std::string line = child_.wait_for_line(kMarker, deadline).value_or("");
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
    // Wakes early when the node exits; otherwise retries soon.
    if (child_.output_closed_within(10ms)) fail("the node exited before answering GET /v1/health");
    if (Clock::now() > deadline) fail("GET /v1/health did not answer in time: " + last);
  }
}

int NodeProcess::wait_exit(std::chrono::milliseconds deadline) {
  auto code = child_.wait_exit(deadline);
  if (!code) return -2;  // still running
  http_.reset();
  return *code;
}

int NodeProcess::stop(std::chrono::milliseconds deadline) {
  if (!running()) return 0;
  child_.signal(SIGTERM);
  int code = wait_exit(deadline);
  if (code == -2) {
    child_.signal(SIGKILL);
    wait_exit(10s);
    fail("the node did not exit within " + std::to_string(deadline.count()) +
         " ms of SIGTERM (SIGKILLed)");
  }
  return code;
}

void NodeProcess::kill9() {
  if (!running()) fail("kill9() while the node is not running");
  child_.signal(SIGKILL);
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
