// Integration-test fixture: real chipledger-node and chipledger processes.
// NodeProcess writes a dev consortium into a fresh temp folder (`init --port
// 0`), runs the node as a child with its stdout/stderr captured through
// pipes, and waits (with deadlines) for its "listening on" line and for
// GET /v1/health. run_process() runs any program and captures its exit code,
// stdout and stderr. Nothing here mocks a chipledger component.
//
// Failures inside the fixture throw std::runtime_error with the node's
// output, which Catch reports. When a test fails, its temp folder is kept and
// its path printed; otherwise it is removed (CHIPLEDGER_INTEG_KEEP=1 keeps it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/integration/child_process.h"

namespace chipledger::integ {

using namespace std::chrono_literals;

// How much slower the sanitizer build runs (ASan + UBSan): time bounds and
// workloads of the integration tests scale by it.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 8;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

inline constexpr const char* kNodeBin = CHIPLEDGER_NODE_BIN;
inline constexpr const char* kCliBin = CHIPLEDGER_CLI_BIN;
// The demo consortium: members maker, distributor, integrator, datacenter,
// cloud-east (AE), broker, regulator, auditor; H100-SXM5 / 3A090 / 4A090
// controlled; AE, CN, HK, RU restricted.
inline constexpr const char* kDemoTemplate = CHIPLEDGER_SOURCE_DIR "/config/demo-consortium.json";

// True when an assertion of the running test case failed (or an exception is
// unwinding): the fixture then keeps its folder and prints where it is.
bool current_test_failed();

// Client options for a node of a consortium `chipledger-node init` wrote
// into `dir`: an https URL's certificate is checked against DIR/tls/ca.pem;
// with `as_node`, the client presents DIR/tls/AS_NODE.pem (mutual TLS: a
// node's call to another node).
HttpClientOptions node_client_options(const std::string& dir, std::chrono::milliseconds timeout,
                                      const std::string& as_node = "");
Result<std::unique_ptr<HttpClient>> connect_node(const std::string& url, const std::string& dir,
                                                 std::chrono::milliseconds timeout,
                                                 const std::string& as_node = "");

// A whole file's text; throws std::runtime_error naming the file when it
// cannot be read.
std::string read_text_file(const std::string& path);
// Replaces the file's text; throws when it cannot be written.
void write_text_file(const std::string& path, const std::string& text);
// Sets `key = value` (value as TOML text, e.g. "5" or "true") on the line
// of a config file that sets `key` (init writes every key); throws when
// the file has no such line.
void set_config_value(const std::string& path, const std::string& key, const std::string& value);

// A fresh folder under the system temp folder, removed by the destructor
// unless the running test failed (then kept and printed).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "chipledger-integ-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class NodeProcess {
 public:
  // Makes the temp folder and runs `chipledger-node init --dir D --port 0`
  // (with `--template FILE` when given, then `init_args`). Does not start
  // the node.
  explicit NodeProcess(const std::string& template_file = "",
                       const std::vector<std::string>& init_args = {});
  // A twin of `other`: the same trust file, node config and keys (copied to
  // a fresh folder) and its own empty data, so the two can grow two
  // different logs that the same node key signs: a fork. Not started.
  static std::unique_ptr<NodeProcess> twin_of(const NodeProcess& other);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Spawns the node and returns once it printed "listening on" and answers
  // GET /v1/health; throws with the node's output if it does not in time.
  void start(std::chrono::milliseconds deadline = 60s);
  // SIGTERM, then waits for the exit; returns the exit code (SIGKILLs and
  // throws when it does not exit in time).
  int stop(std::chrono::milliseconds deadline = 60s);
  // SIGKILL, then waits for the exit.
  void kill9();
  // stop() if running, then start() on the same data. The port changes.
  void restart();
  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }  // the running node's process id, -1 when stopped

  uint16_t port() const { return port_; }
  std::string url() const;      // https://127.0.0.1:PORT (http:// when the node said so)
  std::string node_id() const;  // the trust file's first node (the one init configured)
  const std::string& dir() const { return dir_.path(); }  // the init folder
  std::string key_file(const std::string& member) const;  // DIR/keys/M.pem
  std::string trust_file() const;                         // DIR/consortium.json
  // Everything the node printed on stdout and stderr, across all runs.
  std::string output() const;

  // Runs the CLI as `chipledger --node URL --state DIR/client-state.json
  // --trust DIR/consortium.json args...`.
  ProcessResult cli(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = 120s) const;

  // A client for the current URL (made again after a restart).
  HttpClient& http();
  std::unique_ptr<HttpClient> new_http(std::chrono::milliseconds timeout = 30s) const;
  // One presenting the node's own TLS certificate (as another node would
  // present its own): what the node-to-node endpoints require.
  std::unique_ptr<HttpClient> new_peer_http(std::chrono::milliseconds timeout = 30s) const;
  // GET target, which must answer 200 with JSON (throws otherwise).
  nlohmann::json get_json(const std::string& target);
  // GET /v1/health, 200 or 503 (a node that says it cannot do its job).
  nlohmann::json health();
  uint64_t log_size();  // GET /v1/health "size"
  std::string ledger_id();

 private:
  struct NoInit {};
  explicit NodeProcess(NoInit) {}
  int wait_exit(std::chrono::milliseconds deadline);  // reaps pid_, joins the reader
  [[noreturn]] void fail(const std::string& what);

  TempDir dir_;
  uint16_t port_ = 0;
  std::string scheme_ = "https";  // from the "listening on" line
  std::unique_ptr<HttpClient> http_;
  ChildProcess child_;
};

}  // namespace chipledger::integ
