// Checks the Raft messages a peer sends, as the bytes stream in, before
// libraft reads them (docs/tls.md, "Frames"). libraft 0.15 trusts a
// message's lengths and counts: it allocates what the preamble and header
// state (a whole snapshot at once) and its decoders read fixed fields past
// the end of a short header. The guard passes only a stream of well-formed
// messages within the limits; at the first byte that is not, feed() fails
// and the connection is to be closed. It buffers at most one preamble and
// one header (bounded by the limits), never a payload.
// Message framing (libraft's uv_encoding.c): preamble = type (u64 LE) and
// header length (u64 LE); the header; for AppendEntries the entries' data,
// for InstallSnapshot the snapshot's data.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"

namespace chipledger {

struct RaftFrameLimits {
  uint64_t max_entries = 4096;               // per AppendEntries message
  uint64_t max_entry_bytes = 64ull << 20;    // one log entry (a block)
  uint64_t max_append_bytes = 256ull << 20;  // all entries of one message
  uint64_t max_snapshot_bytes = 8ull << 30;  // one InstallSnapshot's data
  uint64_t max_servers = 64;                 // in a snapshot's configuration
  uint64_t max_address_bytes = 255;          // a server's address
};

class RaftFrameGuard {
 public:
  explicit RaftFrameGuard(RaftFrameLimits limits = {}) : limits_(limits) {}

  // The next bytes of the stream: ok while everything so far is well-formed
  // messages (the last one possibly incomplete); once it failed, it fails.
  Status feed(ByteView bytes);

  uint64_t messages() const { return messages_; }  // complete messages seen
  // True between messages (nothing of a message pending).
  bool at_boundary() const { return stage_ == Stage::preamble && buffer_.empty(); }

 private:
  enum class Stage { preamble, header, payload };
  Status check_header();

  RaftFrameLimits limits_;
  Stage stage_ = Stage::preamble;
  Bytes buffer_;  // the preamble or header being gathered
  uint64_t type_ = 0;
  uint64_t header_len_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t messages_ = 0;
  std::string failed_;  // the first problem, once there was one
};

}  // namespace chipledger
