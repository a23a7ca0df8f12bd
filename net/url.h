// The one URL parser of chipledger: node API URLs as the CLI, the benchmark
// and node-to-node calls (cosignatures, admin, a follower's leader) name
// them. Accepts SCHEME://HOST:PORT[/PATH] where SCHEME is http or https
// (docs/tls.md), HOST is a host name, a dotted
// IPv4 address or a bracketed IPv6 literal ("[::1]"), and PORT (1-65535) is
// required. Refuses, with a reason naming the part that is wrong: other
// schemes, user info ("user@"), a query or fragment, an unbracketed IPv6
// address, an IPv6 zone ("%eth0"), spaces and control characters.
// Pure: no sockets, no name resolution.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // without brackets; an IPv4 address, a name, or an IPv6 literal
  uint16_t port = 0;
  std::string path;  // "" or starting with '/'

  bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  // "host:port", the IPv6 literal in brackets: the Host header's value.
  std::string authority() const;
  // "scheme://authority", without the path.
  std::string origin() const;
};

Result<Url> parse_url(std::string_view text);

// "http://HOST:PORT" for a host and port (brackets an IPv6 literal).
std::string http_url(std::string_view host, uint16_t port);
// "https://HOST:PORT" when tls, else "http://HOST:PORT".
std::string node_url(bool tls, std::string_view host, uint16_t port);

}  // namespace chipledger
