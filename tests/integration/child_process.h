// Child programs of the integration tests: run_process() runs one to its
// end and captures its exit code, stdout and stderr; ChildProcess keeps a
// long-running one (a node, a landmark) with its output captured by a
// reader thread, waits for a line it prints, and stops it. Every wait has
// a deadline. Nothing here knows what the program is.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chipledger::integ {

using namespace std::chrono_literals;

// A command line, and two joined.
using Argv = std::vector<std::string>;
inline Argv operator+(Argv a, const Argv& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Reaps child `pid`, waiting until `deadline` (on a pidfd where the kernel
// has them); its exit status (128 + signal when killed), or nullopt while it
// still runs.
std::optional<int> wait_pid(pid_t pid, std::chrono::steady_clock::time_point deadline);

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
  bool timed_out = false;
  std::string describe() const;  // command line, exit code and output, for INFO
  std::string command;
};

// Runs argv[0] (an absolute path) with argv, stdin from /dev/null, and waits
// at most `timeout` (then SIGKILLs it and sets timed_out).
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = 120s);

// The last `n` bytes of `s` ("…" before when cut).
std::string tail_of(const std::string& s, size_t n = 6000);
// "what: strerror(errno)".
std::string errno_text(const std::string& what);

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILLs a child still running and reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (stdin /dev/null); a new run: this run's stdout starts
  // empty, `banner` is appended to output(). Throws when it cannot.
  void spawn(const std::vector<std::string>& argv, const std::string& banner = "");
  // The first line of this run's stdout that holds `marker`, from the
  // marker on; nullopt when the deadline passed or the child closed its
  // output first.
  std::optional<std::string> wait_for_line(const std::string& marker,
                                           std::chrono::steady_clock::time_point deadline);
  // Whether the child closed its output (it exited) within `wait`.
  bool output_closed_within(std::chrono::milliseconds wait);
  void signal(int sig) const;  // to the running child
  // Reaps the child within `deadline`: its exit code, or nullopt while it
  // still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string output() const;  // every run's stdout and stderr

 private:
  void reader_loop(int out_fd, int err_fd);

  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string run_stdout_;
  std::string all_output_;
  bool output_closed_ = false;
};

}  // namespace chipledger::integ
