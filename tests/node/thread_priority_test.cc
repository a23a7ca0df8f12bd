#include "node/thread_priority.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

using namespace chipledger;

TEST_CASE("thread priority: a thread lowers its own priority by a step, others keep theirs",
          "[thread_priority]") {
  const int base = this_thread_nice();
  int after_two = -100, after_zero = -100, after_bad = -100;
  Status bad;
  std::thread t([&] {
    REQUIRE(lower_this_thread_priority(2));
    after_two = this_thread_nice();
    REQUIRE(lower_this_thread_priority(0));
    after_zero = this_thread_nice();
    bad = lower_this_thread_priority(20);
    after_bad = this_thread_nice();
  });
  t.join();
  CHECK(after_two == std::min(19, base + 2));
  CHECK(after_zero == after_two);
  CHECK_FALSE(bad);
  CHECK_THAT(bad.reason(), Catch::Contains("0..19"));
  CHECK(after_bad == after_two);
  CHECK(this_thread_nice() == base);  // the test's own thread is untouched
}
