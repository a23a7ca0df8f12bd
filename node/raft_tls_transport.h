// libraft's transport (struct raft_uv_transport) over mutual TLS 1.3
// (docs/tls.md, "Raft"). libraft reads and writes its messages on one end of
// a socketpair; the other end is carried over a TLS connection by Boost.Asio
// on a thread of this transport's own, and every byte a peer sends passes a
// RaftFrameGuard before libraft sees it.
// Guarantees:
// - a connection is handed to libraft only once its peer showed a
//   certificate the consortium CA issued that carries a Raft id
//   (crypto/certificates.h); an outgoing one only when that id is the one
//   libraft asked for, an incoming one only when `is_member` (asked on the
//   loop thread, at each handshake) says the id is in the current
//   configuration: a removed node is refused at its next handshake;
// - a peer cannot make the node allocate more than the frame limits, and
//   at most `max_handshakes` connections are unauthenticated at once, each
//   for at most `handshake_timeout`;
// - without a TLS identity (a one-node cluster) it listens nowhere and
//   every connect fails: no Raft port at all.
// The transport's callbacks run on the libuv loop thread, as libraft
// requires; libraft and libuv headers stay in the .cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "crypto/result.h"
#include "net/tls_context.h"
#include "node/raft_frame_guard.h"

struct raft_uv_transport;
struct uv_loop_s;

namespace chipledger {

struct RaftTlsOptions {
  std::optional<TlsIdentity> identity;  // none: no network (a one-node cluster)
  RaftFrameLimits limits;
  std::chrono::milliseconds handshake_timeout{5000};
  size_t max_handshakes = 32;
  // Whether Raft server `id` may connect now; runs on the loop thread.
  std::function<bool(uint64_t id)> is_member;
  // One line per refused peer or failed connection (no secrets).
  std::function<void(const std::string&)> log;
};

class RaftTlsTransport {
 public:
  // Made on the thread that runs `loop`, before libraft is given it.
  static Result<std::unique_ptr<RaftTlsTransport>> create(uv_loop_s* loop, RaftTlsOptions options);
  // Destroyed after libraft closed the transport and the loop stopped.
  ~RaftTlsTransport();
  RaftTlsTransport(const RaftTlsTransport&) = delete;
  RaftTlsTransport& operator=(const RaftTlsTransport&) = delete;

  // What raft_uv_init takes.
  raft_uv_transport* get();
  // Replaces the certificate (and CA) new connections use, from any
  // thread; open connections go on with theirs. The Raft id must not change.
  Status reload(const TlsIdentity& identity);
  // On the loop thread, when libraft never got to close the transport (its
  // start failed): releases the loop handle, so the loop can end.
  void abandon();

  // Counters, for tests and health.
  struct Stats {
    uint64_t accepted = 0;      // incoming connections handed to libraft
    uint64_t refused = 0;       // incoming: handshake, certificate, hello or membership failed
    uint64_t connected = 0;     // outgoing connections handed to libraft
    uint64_t guard_closed = 0;  // connections closed because a frame broke the limits
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit RaftTlsTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chipledger
