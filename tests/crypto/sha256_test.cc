// SHA-256: FIPS 180-4's example vectors, and the incremental hash equal to
// the one-shot for any split of the input (seeded, the seed printed).
#include "crypto/sha256.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace chipledger {
namespace {

TEST_CASE("SHA-256 gives the FIPS 180-4 example digests", "[sha256]") {
  CHECK(hex_encode(sha256(std::string_view(""))) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_encode(sha256(std::string_view("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex_encode(
            sha256(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 million;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(chunk);
  CHECK(hex_encode(million.finish()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("incremental SHA-256 equals the one-shot for every split", "[sha256]") {
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 200; ++round) {
    Bytes data(rng() % 300);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    Sha256 h;
    size_t at = 0;
    while (at < data.size()) {
      size_t n = std::min<size_t>(data.size() - at, rng() % 80);
      h.update(ByteView(data.data() + at, n));
      at += n;
    }
    REQUIRE(h.finish() == sha256(ByteView(data)));
  }
}

}  // namespace
}  // namespace chipledger
