// Tells the rest of the node when its checkpoints change: a version that
// grows with every checkpoint this node signs (what the cosign senders wait
// on), and callbacks for those waiting until a checkpoint of some size has a
// quorum (GET /v1/checkpoint). It holds no checkpoint itself: its owner
// reports the newest quorum size (cosigned()) and each new signature
// (signed_own()). Callbacks run without its lock, on the caller's thread when
// ready at once, else on one thread of the notifier's. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace chipledger {

class CheckpointNotifier {
 public:
  CheckpointNotifier() = default;
  ~CheckpointNotifier();  // close()
  CheckpointNotifier(const CheckpointNotifier&) = delete;
  CheckpointNotifier& operator=(const CheckpointNotifier&) = delete;

  // This node signed a checkpoint: the version grows.
  void signed_own();
  // The newest size with a quorum is now `size` (if any).
  void cosigned(std::optional<uint64_t> size);
  // The node failed: every waiter is answered now, later ones at once.
  void failed();

  uint64_t version() const;
  // Blocks until version() > `seen` or `until` passes, or stop_waiting().
  uint64_t wait_for_version(uint64_t seen, std::chrono::steady_clock::time_point until) const;
  void stop_waiting();

  // Calls `done` once a checkpoint of at least `size` has a quorum, or at
  // `deadline`, whichever comes first.
  void when_cosigned(uint64_t size, std::chrono::steady_clock::time_point deadline,
                     std::function<void()> done);
  // Calls every waiting callback now (later ones at once) and joins the
  // thread that runs them.
  void close();

 private:
  struct Waiter {
    uint64_t size;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> done;
  };
  bool ready(uint64_t size, std::chrono::steady_clock::time_point deadline,
             std::chrono::steady_clock::time_point now) const;  // under mu_
  void run_waiters();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t version_ = 0;
  std::optional<uint64_t> quorum_size_;
  bool failed_ = false;
  bool stop_waiting_ = false;
  bool closing_ = false;
  std::vector<Waiter> waiters_;
  uint64_t waiters_added_ = 0;
  std::thread waiter_thread_;
};

}  // namespace chipledger
