#include "tests/integration/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string tail_of(const std::string& s, size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

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

std::string ProcessResult::describe() const {
  std::string s = "$ " + command + "\nexit code " + std::to_string(exit_code) +
                  (timed_out ? " (timed out)" : "") + "\n";
  s += "--- stdout ---\n" + tail_of(out, 3000) + "\n--- stderr ---\n" + tail_of(err, 3000);
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

// ---- ChildProcess ---------------------------------------------------------

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(10s);
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& banner) {
  if (running()) throw std::runtime_error("spawn() while " + argv[0] + " runs");
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard lock(mu_);
    run_stdout_.clear();
    output_closed_ = false;
    all_output_ += banner;
  }
  Pipe out, err;
  pid_ = chipledger::integ::spawn(argv, out, err);
  reader_ = std::thread([this, o = out.read, e = err.read] { reader_loop(o, e); });
  out.read = err.read = -1;  // the reader owns them now
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& marker,
                                                       Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] {
    size_t at = run_stdout_.find(marker);
    return output_closed_ ||
           (at != std::string::npos && run_stdout_.find('\n', at) != std::string::npos);
  });
  size_t at = run_stdout_.find(marker);
  if (at == std::string::npos) return std::nullopt;
  size_t end = run_stdout_.find('\n', at);
  if (end == std::string::npos) return std::nullopt;
  return run_stdout_.substr(at, end - at);
}

bool ChildProcess::output_closed_within(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, wait, [&] { return output_closed_; });
}

void ChildProcess::signal(int sig) const {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds deadline) {
  if (!running()) return 0;
  auto code = wait_pid(pid_, Clock::now() + deadline);
  if (!code) return std::nullopt;
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return code;
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mu_);
  return all_output_;
}

void ChildProcess::reader_loop(int out_fd, int err_fd) {
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

}  // namespace chipledger::integ
