#include "node/thread_name.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>

namespace {

// The kernel's name of the calling thread, as ps and perf show it.
std::string own_thread_name() {
  std::ifstream in("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

using namespace chipledger;

TEST_CASE("thread names: a thread is shown by its name, cut to the kernel's 15 characters",
          "[thread_name]") {
  std::string short_name, long_name;
  std::thread t([&] {
    name_this_thread("http-7");
    short_name = own_thread_name();
    name_this_thread("a-name-longer-than-fifteen");
    long_name = own_thread_name();
  });
  t.join();
  CHECK(short_name == "http-7");
  CHECK(long_name == "a-name-longer-t");
}
