// libFuzzer target: the Raft frame guard (node/raft_frame_guard.h) never
// crashes, never reads outside what it was given, and once it refused a
// stream it keeps refusing, however the bytes are cut into reads.
#include <cstdlib>

#include "node/raft_frame_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  if (size == 0) return 0;
  // The first byte chooses the read size; small limits reach every branch.
  size_t chunk = 1 + data[0] % 64;
  RaftFrameLimits limits;
  limits.max_entries = 8;
  limits.max_entry_bytes = 256;
  limits.max_append_bytes = 1024;
  limits.max_snapshot_bytes = 4096;
  limits.max_servers = 4;
  RaftFrameGuard guard(limits);
  bool refused = false;
  for (size_t at = 1; at < size; at += chunk) {
    size_t n = std::min(chunk, size - at);
    bool ok = guard.feed(ByteView(data + at, n)).is_ok();
    if (refused && ok) std::abort();  // a refusal must stick
    refused = refused || !ok;
  }
  return 0;
}
