// Calls a function every `period` on a thread of its own until stop(): what
// makes a node re-sign its current checkpoint while the ledger is idle
// (CheckpointPublisher::resign_if_due, docs/checkpoint.md "Freshness"), and
// what makes the leader follow governance's node changes in Raft.
// The function decides by its own clock whether anything is due, so the
// period only bounds how late a re-signature can be.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace chipledger {

class ResignTimer {
 public:
  ResignTimer(std::function<void()> tick, std::chrono::milliseconds period);
  ~ResignTimer();  // stop()
  ResignTimer(const ResignTimer&) = delete;
  ResignTimer& operator=(const ResignTimer&) = delete;

  void start();
  void stop();

  // The tick period for a re-signing interval: a quarter of it, between
  // 50 ms and 5 s.
  static std::chrono::milliseconds period_for(uint64_t interval_seconds);

 private:
  std::function<void()> tick_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chipledger
