// libraft 0.15's wire, as far as chipledger reads or writes it (docs/tls.md,
// "Frames"): little-endian integers and the message frame (a preamble of
// type and header length, the header, the payload). One definition for the
// transport, the frame guard and the tests that play a peer.
#pragma once

#include <cstdint>

#include "crypto/bytes.h"

namespace chipledger {

inline uint64_t raft_get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline uint32_t raft_get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

inline void raft_put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline void raft_append64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

inline void raft_append32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A message as libraft writes it: type, header length, header, payload.
inline Bytes raft_message(uint64_t type, const Bytes& header, const Bytes& payload = {}) {
  Bytes out;
  raft_append64(out, type);
  raft_append64(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

}  // namespace chipledger
