// Ed25519 verification is libsodium's (crypto/keys.cc, docs/crypto.md):
// these tests hold it to OpenSSL's answers on honest keys, and to the
// refusals that set the two apart on keys no honest signer makes.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <random>

#include "crypto/keys.h"
#include "crypto/openssl_ed25519.h"
#include "tests/test_seed.h"

using namespace chipledger;
using chipledger::testing::test_seed;

namespace {

const std::string kSpkiPrefix = "302a300506032b6570032100";

bool openssl_verify(const PublicKey& key, ByteView message, ByteView signature) {
  auto reference = OpenSslEd25519Verifier::from(key);
  REQUIRE(reference);
  return reference->verify(message, signature);
}

Bytes random_bytes(std::mt19937_64& rng, size_t n) {
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

Bytes unhex(std::string_view hex) {
  auto r = hex_decode(hex);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("libsodium and OpenSSL agree on honest signatures and every corruption", "[keys]") {
  uint64_t seed = test_seed();
  std::printf("ed25519 agreement seed %llu (CHIPLEDGER_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 200; ++round) {
    auto key = PrivateKey::ed25519_from_seed(random_bytes(rng, 32));
    REQUIRE(key);
    Bytes message = random_bytes(rng, rng() % 300);
    auto signature = key->sign(message);
    REQUIRE(signature);
    REQUIRE(key->public_key().verify(message, *signature));
    REQUIRE(openssl_verify(key->public_key(), message, *signature));
    ++accepted;
    // One flipped bit anywhere in the signature or the message.
    for (int flip = 0; flip < 8; ++flip) {
      Bytes sig = *signature, msg = message;
      bool in_sig = msg.empty() || rng() % 2 == 0;
      Bytes& target = in_sig ? sig : msg;
      target[rng() % target.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      bool ours = key->public_key().verify(msg, sig);
      CHECK(ours == openssl_verify(key->public_key(), msg, sig));
      CHECK_FALSE(ours);
      ++refused;
    }
    // Garbage of the right length.
    Bytes garbage = random_bytes(rng, 64);
    CHECK_FALSE(key->public_key().verify(message, garbage));
    CHECK_FALSE(openssl_verify(key->public_key(), message, garbage));
  }
  CHECK(accepted == 200);
  CHECK(refused == 1600);
}

TEST_CASE("a signature whose S is not reduced mod L is refused", "[keys][vectors]") {
  // RFC 8032 test 2, with L added to S (little-endian): the same point
  // equation, a different encoding. Both libraries refuse it (malleability).
  auto key = PrivateKey::ed25519_from_seed(
      unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  REQUIRE(key);
  Bytes message = unhex("72");
  auto signature = key->sign(message);
  REQUIRE(signature);
  REQUIRE(key->public_key().verify(message, *signature));
  const Bytes order = unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  Bytes malleated = *signature;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = malleated[32 + i] + order[i] + carry;
    malleated[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  REQUIRE(carry == 0);
  CHECK_FALSE(key->public_key().verify(message, malleated));
  CHECK_FALSE(openssl_verify(key->public_key(), message, malleated));
}

TEST_CASE("ed25519 keys no honest signer makes are refused when they load", "[keys][vectors]") {
  struct Weak {
    const char* what;
    const char* raw;
  };
  const Weak weak[] = {
      {"the neutral point", "0100000000000000000000000000000000000000000000000000000000000000"},
      {"a point of order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"},
      {"y = p, not reduced", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
  };
  for (const Weak& w : weak) {
    INFO(w.what);
    auto key = PublicKey::from_der(unhex(kSpkiPrefix + w.raw));
    REQUIRE_FALSE(key);
    CHECK_THAT(key.reason(), Catch::Contains("not a valid point"));
  }
  // An honest key in the same wrapping loads.
  CHECK(PublicKey::from_der(
      unhex(kSpkiPrefix + "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")));
}

TEST_CASE("a signature with the neutral point as R is refused, though OpenSSL takes it",
          "[keys][vectors]") {
  // The key's owner can make one: R = the neutral point, S = h * a, so that
  // S*B - h*A is the neutral point and its encoding equals R's. OpenSSL 3
  // compares the encodings and accepts; libsodium refuses a small-order R.
  // This is where the two libraries answer differently on an honest key,
  // which is why every node and client runs the one verifier (docs/crypto.md).
  REQUIRE(sodium_init() >= 0);
  Bytes seed = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto key = PrivateKey::ed25519_from_seed(seed);
  REQUIRE(key);
  Bytes pub = *key->public_key().raw_ed25519();
  Bytes message = to_bytes("transfer CHIP-1 to the sanctioned buyer");

  uint8_t expanded[64], a_wide[64] = {}, a[32];
  crypto_hash_sha512(expanded, seed.data(), seed.size());
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  std::copy(expanded, expanded + 32, a_wide);
  crypto_core_ed25519_scalar_reduce(a, a_wide);

  Bytes signature(64, 0);
  signature[0] = 1;  // the neutral point (0, 1)
  Bytes hashed(signature.begin(), signature.begin() + 32);
  hashed.insert(hashed.end(), pub.begin(), pub.end());
  hashed.insert(hashed.end(), message.begin(), message.end());
  uint8_t h_wide[64], h[32];
  crypto_hash_sha512(h_wide, hashed.data(), hashed.size());
  crypto_core_ed25519_scalar_reduce(h, h_wide);
  crypto_core_ed25519_scalar_mul(signature.data() + 32, h, a);

  CHECK(openssl_verify(key->public_key(), message, signature));
  CHECK_FALSE(key->public_key().verify(message, signature));
}
