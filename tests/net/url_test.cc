#include "net/url.h"

#include <catch2/catch.hpp>
#include <string>

namespace chipledger {
namespace {

Url must_parse(const std::string& text) {
  auto u = parse_url(text);
  INFO(text << ": " << u.reason());
  REQUIRE(u.is_ok());
  return *u;
}

std::string reason_of(const std::string& text) {
  auto u = parse_url(text);
  INFO(text);
  REQUIRE_FALSE(u.is_ok());
  return u.reason();
}

TEST_CASE("url: IPv4, host names and ports", "[url]") {
  Url v4 = must_parse("http://127.0.0.1:7800");
  CHECK(v4.scheme == "http");
  CHECK(v4.host == "127.0.0.1");
  CHECK(v4.port == 7800);
  CHECK(v4.path.empty());
  CHECK(v4.authority() == "127.0.0.1:7800");
  CHECK(v4.origin() == "http://127.0.0.1:7800");

  Url name = must_parse("HTTP://node-1.example_org.net:1/");
  CHECK(name.scheme == "http");
  CHECK(name.host == "node-1.example_org.net");
  CHECK(name.port == 1);
  CHECK(name.path == "/");

  CHECK(must_parse("http://h:65535").port == 65535);
  CHECK(must_parse("http://h:00080").port == 80);
  CHECK(must_parse("http://h:80/v1/chips").path == "/v1/chips");
  CHECK(must_parse("https://h:443").scheme == "https");
}

TEST_CASE("url: bracketed IPv6 literals", "[url]") {
  Url loop = must_parse("http://[::1]:8080");
  CHECK(loop.host == "::1");
  CHECK(loop.host_is_ipv6());
  CHECK(loop.port == 8080);
  CHECK(loop.authority() == "[::1]:8080");
  CHECK(loop.origin() == "http://[::1]:8080");
  CHECK(must_parse("http://[2001:db8::7]:7800/").host == "2001:db8::7");
  CHECK(must_parse("http://[::ffff:10.0.0.1]:1").host == "::ffff:10.0.0.1");
  CHECK(http_url("::1", 7800) == "http://[::1]:7800");
  CHECK(http_url("10.0.0.2", 7800) == "http://10.0.0.2:7800");
}

TEST_CASE("url: bad inputs are refused with the part that is wrong", "[url]") {
  CHECK(reason_of("") == "no scheme (SCHEME://HOST:PORT)");
  CHECK(reason_of("127.0.0.1:7800") == "no scheme (SCHEME://HOST:PORT)");
  CHECK(reason_of("HTTP//host:1") == "no scheme (SCHEME://HOST:PORT)");
  CHECK(reason_of("ftp://host:21") == "the scheme \"ftp\" is not http or https");
  CHECK(reason_of("http://host") == "the port is missing (HOST:PORT)");
  CHECK(reason_of("http://host:") == "the port is missing (HOST:PORT)");
  CHECK(reason_of("http://[::1]") == "the port is missing (HOST:PORT)");
  CHECK(reason_of("http://[::1]7800") == "the port is missing (HOST:PORT)");
  CHECK(reason_of("http://:7800") == "the host is missing");
  CHECK(reason_of("http://host:port") == "the port \"port\" is not a number");
  CHECK(reason_of("http://host:0") == "the port is not 1-65535");
  CHECK(reason_of("http://host:65536") == "the port is not 1-65535");
  CHECK(reason_of("http://host:123456") == "the port is not 1-65535");
  CHECK(reason_of("http://::1:7800") ==
        "an IPv6 address must be in brackets, as in http://[::1]:7800");
  CHECK(reason_of("http://[::1:7800") == "the '[' of an IPv6 host is not closed");
  CHECK(reason_of("http://[fe80::1%25eth0]:7800") == "an IPv6 zone (%...) is not supported");
  CHECK(reason_of("http://[nothost]:7800") == "\"nothost\" in brackets is not an IPv6 address");
  CHECK(reason_of("http://user@host:7800") == "user info (user@) is not allowed");
  CHECK(reason_of("http://host:7800/?q=1") == "a query or fragment (? #) is not allowed");
  CHECK(reason_of("http://host:7800#top") == "a query or fragment (? #) is not allowed");
  CHECK(reason_of("http://ho st:7800") == "a URL has no spaces or control characters");
  CHECK(reason_of("http://host:7800\r\nX: y") == "a URL has no spaces or control characters");
  CHECK(reason_of("http://ho$t:7800") == "the host \"ho$t\" has a bad character");
}

}  // namespace
}  // namespace chipledger
