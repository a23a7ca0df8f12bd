#include "net/percent_encoding.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>

#include "tests/test_seed.h"

namespace chipledger {
namespace {

std::string must(Result<std::string> r) {
  INFO(r.reason());
  REQUIRE(r.is_ok());
  return *r;
}

TEST_CASE("percent encoding keeps only the unreserved bytes", "[url]") {
  CHECK(percent_encode_segment("GPU-0001.a_b~") == "GPU-0001.a_b~");
  CHECK(percent_encode_segment("LOT 7/SN:1") == "LOT%207%2FSN%3A1");
  CHECK(percent_encode_segment("a?b#c%d+e&f") == "a%3Fb%23c%25d%2Be%26f");
  CHECK(percent_encode_segment("\xC3\xA9") == "%C3%A9");
  CHECK(percent_encode_segment(std::string("\0\xff", 2)) == "%00%FF");
  CHECK(percent_encode_segment("").empty());
}

TEST_CASE("percent decoding reads escapes and refuses broken ones", "[url]") {
  CHECK(must(percent_decode("a%2Fb%3a")) == "a/b:");
  CHECK(must(percent_decode("%41")) == "A");
  CHECK(must(percent_decode("")) == "");
  CHECK(must(percent_decode("plain-serial")) == "plain-serial");
  CHECK(percent_decode("%4").reason() == "truncated percent-escape in the path");
  CHECK_FALSE(percent_decode("x%").is_ok());
  CHECK(percent_decode("%g1").reason() == "bad percent-escape in the path");
  CHECK_FALSE(percent_decode("%1g").is_ok());
}

TEST_CASE("percent encoding round-trips any bytes as one path segment", "[url]") {
  uint64_t seed = testing::test_seed();
  std::printf("percent encoding round-trip seed %llu\n", static_cast<unsigned long long>(seed));
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string raw(rng() % 40, '\0');
    for (auto& c : raw) c = static_cast<char>(rng() & 0xff);
    std::string encoded = percent_encode_segment(raw);
    CHECK(encoded.find_first_of("/?# ") == std::string::npos);
    CHECK(must(percent_decode(encoded)) == raw);
  }
}

}  // namespace
}  // namespace chipledger
