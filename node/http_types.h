// Plain HTTP request/response values shared by the server and the API
// router, so handlers are tested without sockets and Beast stays in .cc files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace chipledger {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path with query, e.g. "/v1/chips/SN1/history?size=3"
  std::string body;
  // Whether it came over HTTPS, and the Subject CN of the client
  // certificate the handshake verified against the consortium CA (a node
  // id; docs/tls.md): empty when the client sent none or over plain HTTP.
  bool over_tls = false;
  std::string client_certificate_cn = {};
  std::string client_address = {};  // the peer's IP address, as text
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra header fields
};

// The data folder's free space (/v1/health "disk"): `low` below the
// configured minimum, with a message for a person.
struct DiskHealth {
  uint64_t free_bytes = 0;
  uint64_t min_free_bytes = 0;
  uint64_t reserve_bytes = 0;
  bool low = false;   // below min_free_bytes: a warning
  bool full = false;  // below reserve_bytes: the node writes nothing
  std::string message;
};

// What the server tells about its connections (/v1/health "http").
struct ConnectionStats {
  size_t open = 0;     // counted against max_connections
  size_t waiting = 0;  // of those, waiting for a request
  size_t max_connections = 0;
  size_t max_per_address = 0;
  uint64_t admitted = 0;
  uint64_t refused = 0;    // over a cap with none waiting: 503 and close
  uint64_t evicted = 0;    // closed while waiting, to make room
  uint64_t timed_out = 0;  // idle, handshake, header, body or write deadline passed
};

// Handlers answer through `respond`, from any thread, exactly once.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, Responder)>;

}  // namespace chipledger
