// The seed of a randomised test: CHIPLEDGER_TEST_SEED when set (to replay a
// failure), otherwise a fresh random one. Every test that uses it prints it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace chipledger::testing {

inline uint64_t test_seed() {
  if (const char* env = std::getenv("CHIPLEDGER_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

}  // namespace chipledger::testing
