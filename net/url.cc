#include "net/url.h"

#include <arpa/inet.h>

#include <cctype>

namespace chipledger {
namespace {

using R = Result<Url>;

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

// The text before "://", lower-cased; empty when there is none.
std::string scheme_of(std::string_view text, size_t* end) {
  const size_t at = text.find("://");
  if (at == std::string_view::npos || at == 0) return {};
  std::string scheme;
  for (char c : text.substr(0, at)) {
    if (std::isalpha(static_cast<unsigned char>(c)) == 0) return {};
    scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  *end = at + 3;
  return scheme;
}

Result<uint16_t> parse_port(std::string_view digits) {
  if (digits.empty()) return Result<uint16_t>::error("the port is missing (HOST:PORT)");
  if (digits.size() > 5) return Result<uint16_t>::error("the port is not 1-65535");
  unsigned value = 0;
  for (char c : digits) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return Result<uint16_t>::error("the port \"" + std::string(digits) + "\" is not a number");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return Result<uint16_t>::error("the port is not 1-65535");
  return static_cast<uint16_t>(value);
}

// "[v6]:port" or "host:port" into out's host and port.
Status parse_authority(std::string_view auth, Url& out) {
  std::string_view port;
  if (!auth.empty() && auth[0] == '[') {
    const size_t close = auth.find(']');
    if (close == std::string_view::npos)
      return Status::error("the '[' of an IPv6 host is not closed");
    out.host = std::string(auth.substr(1, close - 1));
    if (out.host.find('%') != std::string::npos) {
      return Status::error("an IPv6 zone (%...) is not supported");
    }
    in6_addr addr{};
    if (inet_pton(AF_INET6, out.host.c_str(), &addr) != 1) {
      return Status::error("\"" + out.host + "\" in brackets is not an IPv6 address");
    }
    if (close + 1 >= auth.size() || auth[close + 1] != ':') {
      return Status::error("the port is missing (HOST:PORT)");
    }
    port = auth.substr(close + 2);
  } else {
    const size_t colon = auth.find(':');
    if (colon != std::string_view::npos && auth.find(':', colon + 1) != std::string_view::npos) {
      return Status::error("an IPv6 address must be in brackets, as in http://[::1]:7800");
    }
    out.host = std::string(auth.substr(0, colon));
    if (out.host.empty()) return Status::error("the host is missing");
    for (char c : out.host) {
      if (!is_host_char(c))
        return Status::error("the host \"" + out.host + "\" has a bad character");
    }
    if (colon == std::string_view::npos) return Status::error("the port is missing (HOST:PORT)");
    port = auth.substr(colon + 1);
  }
  auto p = parse_port(port);
  if (!p) return p.status();
  out.port = *p;
  return Status::ok();
}

}  // namespace

std::string Url::authority() const {
  const std::string h = host_is_ipv6() ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::origin() const { return scheme + "://" + authority(); }

Result<Url> parse_url(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 ||
        std::iscntrl(static_cast<unsigned char>(c)) != 0) {
      return R::error("a URL has no spaces or control characters");
    }
  }
  size_t rest_at = 0;
  Url out;
  out.scheme = scheme_of(text, &rest_at);
  if (out.scheme.empty()) return R::error("no scheme (SCHEME://HOST:PORT)");
  if (out.scheme != "http" && out.scheme != "https") {
    return R::error("the scheme \"" + out.scheme + "\" is not http or https");
  }
  std::string_view rest = text.substr(rest_at);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return R::error("a query or fragment (? #) is not allowed");
  }
  const size_t slash = rest.find('/');
  const std::string_view auth = rest.substr(0, slash);
  if (auth.find('@') != std::string_view::npos) return R::error("user info (user@) is not allowed");
  CL_TRY(parse_authority(auth, out));
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  return out;
}

std::string http_url(std::string_view host, uint16_t port) {
  Url u{"http", std::string(host), port, ""};
  return u.origin();
}

std::string node_url(bool tls, std::string_view host, uint16_t port) {
  Url u{tls ? "https" : "http", std::string(host), port, ""};
  return u.origin();
}

}  // namespace chipledger
