#include "node/resign_timer.h"

#include <algorithm>

#include "node/thread_name.h"

namespace chipledger {

ResignTimer::ResignTimer(std::function<void()> tick, std::chrono::milliseconds period)
    : tick_(std::move(tick)), period_(period) {}

ResignTimer::~ResignTimer() { stop(); }

std::chrono::milliseconds ResignTimer::period_for(uint64_t interval_seconds) {
  uint64_t quarter = interval_seconds * 1000 / 4;
  return std::chrono::milliseconds(std::clamp<uint64_t>(quarter, 50, 5000));
}

void ResignTimer::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    name_this_thread("resign-timer");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (cv_.wait_for(lock, period_, [&] { return stopping_; })) break;
      lock.unlock();
      tick_();
      lock.lock();
    }
  });
}

void ResignTimer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace chipledger
