#include "crypto/bytes.h"

#include <catch2/catch.hpp>
#include <random>

using namespace chipledger;

TEST_CASE("hex: RFC 4648 section 10 base16 vectors", "[bytes][hex]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "66"},
      {"fo", "666f"},
      {"foo", "666f6f"},
      {"foob", "666f6f62"},
      {"fooba", "666f6f6261"},
      {"foobar", "666f6f626172"},
  };
  for (const auto& [plain, hex] : vectors) {
    CHECK(hex_encode(as_bytes(plain)) == hex);
    auto decoded = hex_decode(hex);
    REQUIRE(decoded);
    CHECK(*decoded == to_bytes(plain));
  }
  // The RFC writes base16 in upper case; decoding accepts both cases.
  auto upper = hex_decode("666F6F626172");
  REQUIRE(upper);
  CHECK(*upper == to_bytes("foobar"));
}

TEST_CASE("hex: every byte value round trips", "[bytes][hex]") {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string hex = hex_encode(all);
  CHECK(hex.size() == 512);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(504) == "fcfdfeff");
  auto back = hex_decode(hex);
  REQUIRE(back);
  CHECK(*back == all);
}

TEST_CASE("hex: malformed input is refused with a reason", "[bytes][hex]") {
  for (std::string_view bad : {"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "-1", "00\n"}) {
    INFO("input: \"" << bad << "\"");
    auto r = hex_decode(bad);
    CHECK_FALSE(r);
    CHECK_FALSE(r.reason().empty());
  }
  CHECK_THAT(hex_decode("abc").reason(), Catch::Contains("odd"));
  CHECK_THAT(hex_decode("0g").reason(), Catch::Contains("position 1"));
}

TEST_CASE("base64: RFC 4648 section 10 vectors", "[bytes][base64]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, b64] : vectors) {
    CHECK(base64_encode(as_bytes(plain)) == b64);
    auto decoded = base64_decode(b64);
    REQUIRE(decoded);
    CHECK(*decoded == to_bytes(plain));
  }
}

TEST_CASE("base64: standard alphabet, including + and /", "[bytes][base64]") {
  Bytes b = {0xfb, 0xff, 0xbf};
  CHECK(base64_encode(b) == "+/+/");
  auto back = base64_decode("+/+/");
  REQUIRE(back);
  CHECK(*back == b);
  CHECK_FALSE(base64_decode("-_-_"));  // URL-safe alphabet is not accepted
}

TEST_CASE("base64: random data round trips at every length", "[bytes][base64]") {
  std::mt19937 rng(20240601);
  for (size_t len = 0; len < 200; ++len) {
    Bytes data(len);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    std::string b64 = base64_encode(data);
    CHECK(b64.size() == (len + 2) / 3 * 4);
    auto back = base64_decode(b64);
    REQUIRE(back);
    CHECK(*back == data);
    auto hex_back = hex_decode(hex_encode(data));
    REQUIRE(hex_back);
    CHECK(*hex_back == data);
  }
}

TEST_CASE("base64: malformed input is refused with a reason", "[bytes][base64]") {
  for (std::string_view bad : {
           "Z", "Zg", "Zg=", "Zm9vY",  // length not a multiple of 4
           "Zg==Zg==",                 // padding before the end
           "Z===", "====", "=Zg=",     // padding in the wrong place
           "Zg=a",                     // data after padding
           "Zh==", "Zm9=",             // non-canonical: dropped bits not zero
           "Zm9v\n", "Zm 9", "Zm9\t",  // whitespace
           "Zm9*", "Zm9vYmF!",         // not in the alphabet
       }) {
    INFO("input: \"" << bad << "\"");
    auto r = base64_decode(bad);
    CHECK_FALSE(r);
    CHECK_FALSE(r.reason().empty());
  }
}
