#include "node/checkpoint_notifier.h"

#include <algorithm>

#include "node/thread_name.h"

namespace chipledger {

CheckpointNotifier::~CheckpointNotifier() { close(); }

void CheckpointNotifier::signed_own() {
  {
    std::lock_guard lock(mu_);
    ++version_;
  }
  cv_.notify_all();
}

void CheckpointNotifier::cosigned(std::optional<uint64_t> size) {
  {
    std::lock_guard lock(mu_);
    if (quorum_size_ == size) return;
    quorum_size_ = size;
  }
  cv_.notify_all();
}

void CheckpointNotifier::failed() {
  {
    std::lock_guard lock(mu_);
    failed_ = true;
  }
  cv_.notify_all();
}

uint64_t CheckpointNotifier::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t CheckpointNotifier::wait_for_version(uint64_t seen,
                                              std::chrono::steady_clock::time_point until) const {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [&] { return version_ > seen || stop_waiting_; });
  return version_;
}

void CheckpointNotifier::stop_waiting() {
  {
    std::lock_guard lock(mu_);
    stop_waiting_ = true;
  }
  cv_.notify_all();
}

bool CheckpointNotifier::ready(uint64_t size, std::chrono::steady_clock::time_point deadline,
                               std::chrono::steady_clock::time_point now) const {
  return closing_ || failed_ || deadline <= now || (quorum_size_ && *quorum_size_ >= size);
}

void CheckpointNotifier::when_cosigned(uint64_t size,
                                       std::chrono::steady_clock::time_point deadline,
                                       std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    if (!ready(size, deadline, std::chrono::steady_clock::now())) {
      waiters_.push_back(Waiter{size, deadline, std::move(done)});
      ++waiters_added_;
      if (!waiter_thread_.joinable())
        waiter_thread_ = std::thread([this] {
          name_this_thread("ckpt-waiters");
          run_waiters();
        });
      cv_.notify_all();
      return;
    }
  }
  done();
}

void CheckpointNotifier::run_waiters() {
  std::unique_lock lock(mu_);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    std::vector<std::function<void()>> due;
    auto next = now + std::chrono::hours(1);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (ready(it->size, it->deadline, now)) {
        due.push_back(std::move(it->done));
        it = waiters_.erase(it);
      } else {
        next = std::min(next, it->deadline);
        ++it;
      }
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& d : due) d();
      lock.lock();
      continue;
    }
    if (closing_) return;
    auto quorum_size = quorum_size_;
    uint64_t added = waiters_added_;
    bool was_failed = failed_;
    cv_.wait_until(lock, next, [&] {
      return closing_ || failed_ != was_failed || quorum_size_ != quorum_size ||
             waiters_added_ != added;
    });
  }
}

void CheckpointNotifier::close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (waiter_thread_.joinable()) waiter_thread_.join();
}

}  // namespace chipledger
