#include "node/raft_frame_guard.h"

#include <algorithm>
#include <string>

#include "node/raft_wire.h"

namespace chipledger {
namespace {

// libraft 0.15's message types (raft.h, RAFT_IO_*) and entry types.
enum : uint64_t {
  kAppendEntries = 1,
  kAppendEntriesResult = 2,
  kRequestVote = 3,
  kRequestVoteResult = 4,
  kInstallSnapshot = 5,
  kTimeoutNow = 6,
};
constexpr size_t kPreamble = 16;
// The longest header of a message without a variable part: what libraft
// writes, with room for fields a later minor version appends.
constexpr uint64_t kMaxFixedHeader = 64;

// The fewest header bytes libraft's decoder of `type` reads (0: unknown type).
uint64_t min_header(uint64_t type) {
  switch (type) {
    case kAppendEntries:
      return 40;  // 4 fields and the entry count
    case kAppendEntriesResult:
      return 24;  // term, rejected, last index
    case kRequestVote:
      return 32;  // term, candidate, last index and term
    case kRequestVoteResult:
      return 16;  // term, granted
    case kInstallSnapshot:
      return 48;  // 4 fields, conf length, data length
    case kTimeoutNow:
      return 24;  // term, last index and term
    default:
      return 0;
  }
}

}  // namespace

Status RaftFrameGuard::feed(ByteView bytes) {
  if (!failed_.empty()) return Status::error(failed_);
  size_t at = 0;
  while (at < bytes.size()) {
    if (stage_ == Stage::payload) {
      uint64_t n = std::min<uint64_t>(payload_left_, bytes.size() - at);
      payload_left_ -= n;
      at += static_cast<size_t>(n);
      if (payload_left_ == 0) {
        stage_ = Stage::preamble;
        ++messages_;
      }
      continue;
    }
    size_t want = stage_ == Stage::preamble ? kPreamble : static_cast<size_t>(header_len_);
    size_t n = std::min(want - buffer_.size(), bytes.size() - at);
    buffer_.insert(buffer_.end(), bytes.data() + at, bytes.data() + at + n);
    at += n;
    if (buffer_.size() < want) break;
    if (stage_ == Stage::preamble) {
      type_ = raft_get64(buffer_.data());
      header_len_ = raft_get64(buffer_.data() + 8);
      buffer_.clear();
      uint64_t min = min_header(type_);
      uint64_t max = type_ == kAppendEntries ? 48 + 16 * limits_.max_entries
                     : type_ == kInstallSnapshot
                         ? 48 + 32 + limits_.max_servers * (17 + limits_.max_address_bytes)
                         : kMaxFixedHeader;
      if (min == 0) {
        failed_ = "Raft message of unknown type " + std::to_string(type_);
      } else if (header_len_ < min || header_len_ > max) {
        failed_ = "Raft message of type " + std::to_string(type_) + " with a header of " +
                  std::to_string(header_len_) + " bytes (allowed " + std::to_string(min) + ".." +
                  std::to_string(max) + ")";
      }
      if (!failed_.empty()) return Status::error(failed_);
      stage_ = Stage::header;
      continue;
    }
    Status st = check_header();
    buffer_.clear();
    if (!st) {
      failed_ = st.reason();
      return st;
    }
    if (payload_left_ > 0) {
      stage_ = Stage::payload;
    } else {
      stage_ = Stage::preamble;
      ++messages_;
    }
  }
  return Status::ok();
}

Status RaftFrameGuard::check_header() {
  const uint8_t* h = buffer_.data();
  const uint64_t len = header_len_;
  payload_left_ = 0;
  if (type_ == kAppendEntries) {
    uint64_t n = raft_get64(h + 32);
    if (n > limits_.max_entries) {
      return Status::error("AppendEntries with " + std::to_string(n) + " entries (at most " +
                           std::to_string(limits_.max_entries) + ")");
    }
    if (len < 40 + 16 * n || len > 48 + 16 * n) {
      return Status::error("AppendEntries header of " + std::to_string(len) + " bytes for " +
                           std::to_string(n) + " entries");
    }
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* e = h + 40 + 16 * i;
      uint8_t type = e[8];
      uint32_t size = raft_get32(e + 12);
      if (type < 1 || type > 3) {
        return Status::error("AppendEntries entry of unknown type " + std::to_string(type));
      }
      if (size > limits_.max_entry_bytes) {
        return Status::error("AppendEntries entry of " + std::to_string(size) + " bytes (at most " +
                             std::to_string(limits_.max_entry_bytes) + ")");
      }
      payload_left_ += size;
    }
    if (payload_left_ > limits_.max_append_bytes) {
      return Status::error("AppendEntries of " + std::to_string(payload_left_) +
                           " bytes (at most " + std::to_string(limits_.max_append_bytes) + ")");
    }
    return Status::ok();
  }
  if (type_ != kInstallSnapshot) return Status::ok();
  // term, last index, last term, conf index, conf length, conf, data length.
  uint64_t conf_len = raft_get64(h + 32);
  if (conf_len > len - 48) {
    return Status::error("InstallSnapshot whose configuration of " + std::to_string(conf_len) +
                         " bytes overruns its header of " + std::to_string(len));
  }
  const uint8_t* conf = h + 40;
  const uint8_t* end = conf + conf_len;
  if (conf_len < 9 || conf[0] != 1) {
    return Status::error("InstallSnapshot with a malformed configuration (format)");
  }
  uint64_t servers = raft_get64(conf + 1);
  if (servers == 0 || servers > limits_.max_servers) {
    return Status::error("InstallSnapshot configuration of " + std::to_string(servers) +
                         " servers");
  }
  const uint8_t* p = conf + 9;
  for (uint64_t i = 0; i < servers; ++i) {
    if (end - p < 8 || raft_get64(p) == 0) {
      return Status::error("InstallSnapshot configuration: server " + std::to_string(i) +
                           " has no id");
    }
    p += 8;
    const uint8_t* nul = std::find(p, end, uint8_t{0});
    if (nul == end || static_cast<uint64_t>(nul - p) > limits_.max_address_bytes || nul == p) {
      return Status::error("InstallSnapshot configuration: server " + std::to_string(i) +
                           " has a malformed address");
    }
    p = nul + 1;
    if (p == end || *p > 2) {
      return Status::error("InstallSnapshot configuration: server " + std::to_string(i) +
                           " has no valid role");
    }
    ++p;
  }
  uint64_t data_len = raft_get64(conf + conf_len);
  if (data_len > limits_.max_snapshot_bytes) {
    return Status::error("InstallSnapshot of " + std::to_string(data_len) + " bytes (at most " +
                         std::to_string(limits_.max_snapshot_bytes) + ")");
  }
  payload_left_ = data_len;
  return Status::ok();
}

}  // namespace chipledger
