#include "node/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace chipledger {

namespace {

id_t this_thread_id() { return static_cast<id_t>(::syscall(SYS_gettid)); }

}  // namespace

int this_thread_nice() {
  errno = 0;
  int nice = ::getpriority(PRIO_PROCESS, this_thread_id());
  return errno == 0 ? nice : 0;
}

Status lower_this_thread_priority(int step) {
  if (step < 0 || step > kMaxThreadNiceStep) {
    return Status::error("a thread's priority is lowered by 0.." +
                         std::to_string(kMaxThreadNiceStep) + ", not " + std::to_string(step));
  }
  if (step == 0) return Status::ok();
  const int nice = std::min(kMaxThreadNiceStep, this_thread_nice() + step);
  if (::setpriority(PRIO_PROCESS, this_thread_id(), nice) != 0) {
    return Status::error(std::string("cannot set the thread's nice value to ") +
                         std::to_string(nice) + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace chipledger
