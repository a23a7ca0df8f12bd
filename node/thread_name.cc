#include "node/thread_name.h"

#include <pthread.h>

#include <string>

namespace chipledger {

void name_this_thread(std::string_view name) {
  std::string cut(name.substr(0, 15));
  // Failure only means the name is not shown; nothing depends on it.
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace chipledger
