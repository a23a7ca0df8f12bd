// Integration-test helper: plays a stranger or a hostile peer at a node's
// Raft port. It connects (plain TCP, or TLS with the credentials given),
// sends the chipledger Raft hello and then any bytes, and reports whether
// the node closed the connection before the deadline (docs/tls.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/bytes.h"
#include "crypto/certificates.h"
#include "node/raft_wire.h"  // raft_message() for what a probe sends

namespace chipledger::integ {

struct RaftProbe {
  std::string address;                      // the node's Raft address, IPv4:PORT
  std::optional<std::string> trust_ca_pem;  // none: plain TCP, no TLS at all
  std::optional<CertificateAndKey> client;  // the certificate the probe shows
  std::optional<uint64_t> hello_id;         // none: no hello
  std::string hello_address = "127.0.0.1:1";
  Bytes after_hello;  // e.g. libraft messages
};

struct ProbeResult {
  bool connected = false;    // TCP connected
  bool handshake = false;    // the TLS handshake completed (from the probe's side)
  bool closed = false;       // the node closed the connection before the deadline
  Bytes server_certificate;  // DER of the certificate the node showed (TLS only)
  std::string detail;        // what happened, for the test's log
};

ProbeResult probe_raft(const RaftProbe& probe, std::chrono::milliseconds deadline);

}  // namespace chipledger::integ
