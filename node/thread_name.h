// Names the calling thread for ps, top and perf (`perf report --sort comm`):
// at most 15 characters are kept (the kernel's limit); longer names are cut.
#pragma once

#include <string_view>

namespace chipledger {

void name_this_thread(std::string_view name);

}  // namespace chipledger
