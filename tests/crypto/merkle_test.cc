// RFC 9162 Merkle tree: the published Certificate Transparency known-answer
// vectors (tests/vectors/rfc6962_ct_merkle.json), property tests over random
// trees, and hostile inputs to the verifiers.
//
// The random tests print their seed; set CHIPLEDGER_TEST_SEED=<n> to replay.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/test_seed.h"

using namespace chipledger;

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

nlohmann::json load_vectors() {
  const std::string path = std::string(CHIPLEDGER_TEST_VECTORS) + "/rfc6962_ct_merkle.json";
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

Hash hx(const std::string& hex) {
  auto h = hash_from_hex(hex);
  REQUIRE(h.is_ok());
  return *h;
}

std::vector<Hash> hashes(const nlohmann::json& arr) {
  std::vector<Hash> out;
  for (const auto& s : arr) out.push_back(hx(s.get<std::string>()));
  return out;
}

std::vector<Hash> vector_leaf_hashes(const nlohmann::json& v) {
  std::vector<Hash> out;
  for (const auto& s : v["leaves"]) {
    auto bytes = hex_decode(s.get<std::string>());
    REQUIRE(bytes.is_ok());
    out.push_back(merkle::leaf_hash(*bytes));
  }
  return out;
}

using chipledger::testing::test_seed;

std::vector<Hash> random_leaf_hashes(std::mt19937_64& rng, size_t n) {
  std::vector<Hash> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Bytes leaf(rng() % 40);
    for (auto& b : leaf) b = static_cast<uint8_t>(rng());
    leaf.push_back(static_cast<uint8_t>(i));  // distinct leaves, even empty ones
    leaf.push_back(static_cast<uint8_t>(i >> 8));
    out.push_back(merkle::leaf_hash(leaf));
  }
  return out;
}

Hash flip_bit(Hash h, size_t bit) {
  h[(bit / 8) % h.size()] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

std::vector<Hash> with_front(std::vector<Hash> proof, const Hash& h) {
  proof.insert(proof.begin(), h);
  return proof;
}
std::vector<Hash> with_back(std::vector<Hash> proof, const Hash& h) {
  proof.push_back(h);
  return proof;
}

const Hash kSomeHash = [] {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(0xab ^ i);
  return h;
}();

// A valid inclusion proof verifies and every mutation of it (the probes of
// CT's VerifierCheck and transparency-dev's corruptInclusionProof) fails.
void check_inclusion(uint64_t index, uint64_t size, const Hash& leaf,
                     const std::vector<Hash>& proof, const Hash& root) {
  INFO("inclusion index " << index << " size " << size);
  auto ok = merkle::verify_inclusion(index, size, leaf, proof, root);
  INFO(ok.reason());
  REQUIRE(ok.is_ok());

  auto fails = [&](uint64_t i, uint64_t s, const Hash& l, const std::vector<Hash>& p, const Hash& r,
                   const char* what) {
    INFO("probe: " << what);
    auto st = merkle::verify_inclusion(i, s, l, p, r);
    CHECK_FALSE(st.is_ok());
    CHECK_FALSE(st.reason().empty());
  };
  if (index > 0) fails(index - 1, size, leaf, proof, root, "index - 1");
  fails(index + 1, size, leaf, proof, root, "index + 1");
  fails(index ^ 2, size, leaf, proof, root, "index ^ 2");
  fails(index, size * 2, leaf, proof, root, "size * 2");
  fails(index, size / 2, leaf, proof, root, "size / 2");
  fails(index, size, merkle::leaf_hash(as_bytes("WrongLeaf")), proof, root, "wrong leaf");
  fails(index, size, leaf, proof, merkle::empty_root(), "empty root");
  fails(index, size, leaf, proof, kSomeHash, "some root");
  fails(index, size, leaf, with_back(proof, Hash{}), root, "trailing zero hash");
  fails(index, size, leaf, with_back(proof, root), root, "trailing root");
  fails(index, size, leaf, with_front(proof, Hash{}), root, "preceding zero hash");
  fails(index, size, leaf, with_front(proof, root), root, "preceding root");
  for (size_t i = 0; i < proof.size(); ++i) {
    auto wrong = proof;
    wrong[i] = flip_bit(wrong[i], 3);
    fails(index, size, leaf, wrong, root, "flipped bit in one hash");
    wrong = proof;
    wrong[i] = merkle::empty_root();
    fails(index, size, leaf, wrong, root, "one hash replaced");
  }
  if (!proof.empty()) {
    fails(index, size, leaf, std::vector<Hash>(proof.begin(), proof.end() - 1), root, "truncated");
  }
  if (proof.size() > 1) {
    auto wrong = proof;
    wrong.insert(wrong.begin() + 1, kSomeHash);
    fails(index, size, leaf, wrong, root, "inserted hash");
  }
  if (proof.size() > 1 && proof[0] != proof[1]) {
    auto wrong = proof;
    std::swap(wrong[0], wrong[1]);
    fails(index, size, leaf, wrong, root, "swapped hashes");
  }
}

// A valid consistency proof verifies and every mutation of it fails.
void check_consistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                       const std::vector<Hash>& proof) {
  INFO("consistency " << size1 << " -> " << size2);
  auto ok = merkle::verify_consistency(size1, size2, root1, root2, proof);
  INFO(ok.reason());
  REQUIRE(ok.is_ok());
  if (proof.empty()) {
    // Trivial proofs (equal sizes): anything but the same roots fails.
    CHECK_FALSE(merkle::verify_consistency(size1, size2, root1, kSomeHash, proof).is_ok());
    CHECK_FALSE(merkle::verify_consistency(size1, size2, root1, root2, {&root1, 1}).is_ok());
    return;
  }
  auto fails = [&](uint64_t s1, uint64_t s2, const Hash& r1, const Hash& r2,
                   const std::vector<Hash>& p, const char* what) {
    INFO("probe: " << what);
    auto st = merkle::verify_consistency(s1, s2, r1, r2, p);
    CHECK_FALSE(st.is_ok());
    CHECK_FALSE(st.reason().empty());
  };
  fails(size1 - 1, size2, root1, root2, proof, "size1 - 1");
  fails(size1 + 1, size2, root1, root2, proof, "size1 + 1");
  fails(size1 ^ 2, size2, root1, root2, proof, "size1 ^ 2");
  fails(size1, size2 * 2, root1, root2, proof, "size2 * 2");
  fails(size1, size2 / 2, root1, root2, proof, "size2 / 2");
  fails(size1, size2, kSomeHash, root2, proof, "wrong root1");
  fails(size1, size2, root1, kSomeHash, proof, "wrong root2");
  fails(size1, size2, root2, root1, proof, "swapped roots");
  fails(size1, size2, root1, root2, {}, "empty proof");
  fails(size1, size2, root1, root2, with_back(proof, Hash{}), "trailing zero hash");
  fails(size1, size2, root1, root2, with_back(proof, root1), "trailing root1");
  fails(size1, size2, root1, root2, with_back(proof, root2), "trailing root2");
  fails(size1, size2, root1, root2, with_front(proof, Hash{}), "preceding zero hash");
  fails(size1, size2, root1, root2, with_front(proof, root1), "preceding root1");
  fails(size1, size2, root1, root2, with_front(proof, root2), "preceding root2");
  fails(size1, size2, root1, root2, with_front(proof, proof[0]), "preceding proof[0]");
  fails(size1, size2, root1, root2, std::vector<Hash>(proof.begin(), proof.end() - 1), "truncated");
  for (size_t i = 0; i < proof.size(); ++i) {
    auto wrong = proof;
    wrong[i] = flip_bit(wrong[i], 4);
    fails(size1, size2, root1, root2, wrong, "flipped bit in one hash");
  }
}

}  // namespace

TEST_CASE("merkle: hashing primitives follow RFC 9162 2.1.1") {
  CHECK(hex_encode(merkle::empty_root()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // Leaf: SHA-256(0x00 || leaf); node: SHA-256(0x01 || left || right).
  const Bytes leaf = {0x61, 0x62};
  CHECK(merkle::leaf_hash(leaf) == sha256(Bytes{0x00, 0x61, 0x62}));
  Hash a = sha256(as_bytes("a"));
  Hash b = sha256(as_bytes("b"));
  Bytes cat = {0x01};
  cat.insert(cat.end(), a.begin(), a.end());
  cat.insert(cat.end(), b.begin(), b.end());
  CHECK(merkle::node_hash(a, b) == sha256(cat));
  CHECK(merkle::root_from_leaf_hashes({}) == merkle::empty_root());
  CHECK(merkle::root_from_leaf_hashes({&a, 1}) == a);
}

TEST_CASE("merkle: CT vectors, roots of every size 0..8") {
  const auto v = load_vectors();
  const auto leaves = vector_leaf_hashes(v);
  REQUIRE(leaves.size() == 8);
  CHECK(hex_encode(merkle::empty_root()) == v["empty_root"].get<std::string>());
  CHECK(merkle::root_from_leaf_hashes(std::span(leaves).first(0)) ==
        hx(v["empty_root"].get<std::string>()));
  REQUIRE(v["roots"].size() == 8);
  for (const auto& r : v["roots"]) {
    const auto size = r["size"].get<uint64_t>();
    INFO("size " << size);
    CHECK(hex_encode(merkle::root_from_leaf_hashes(std::span(leaves).first(size))) ==
          r["root"].get<std::string>());
  }
}

TEST_CASE("merkle: CT vectors, inclusion proofs") {
  const auto v = load_vectors();
  const auto leaves = vector_leaf_hashes(v);
  REQUIRE(v["inclusion"].size() == 5);
  for (const auto& c : v["inclusion"]) {
    const auto index = c["index"].get<uint64_t>();
    const auto size = c["size"].get<uint64_t>();
    INFO("index " << index << " size " << size);
    const auto want = hashes(c["proof"]);
    const auto tree = std::span(leaves).first(size);
    // Built byte for byte as published.
    CHECK(merkle::inclusion_proof(tree, index) == want);
    const Hash root = hx(v["roots"][size - 1]["root"].get<std::string>());
    check_inclusion(index, size, leaves[index], want, root);
  }
}

TEST_CASE("merkle: CT vectors, consistency proofs") {
  const auto v = load_vectors();
  const auto leaves = vector_leaf_hashes(v);
  REQUIRE(v["consistency"].size() == 5);
  for (const auto& c : v["consistency"]) {
    const auto size1 = c["size1"].get<uint64_t>();
    const auto size2 = c["size2"].get<uint64_t>();
    INFO("sizes " << size1 << " -> " << size2);
    const auto want = hashes(c["proof"]);
    CHECK(merkle::consistency_proof(std::span(leaves).first(size2), size1) == want);
    const Hash root1 = hx(v["roots"][size1 - 1]["root"].get<std::string>());
    const Hash root2 = hx(v["roots"][size2 - 1]["root"].get<std::string>());
    check_consistency(size1, size2, root1, root2, want);
  }
}

TEST_CASE("merkle: verify_inclusion refuses bad parameters with a reason") {
  const Hash leaf = merkle::leaf_hash(as_bytes("data"));
  const std::vector<Hash> none;
  // A one-leaf tree: the root is the leaf hash and the proof is empty.
  CHECK(merkle::verify_inclusion(0, 1, leaf, none, leaf).is_ok());
  CHECK_FALSE(merkle::verify_inclusion(0, 1, leaf, none, kSomeHash).is_ok());
  CHECK_FALSE(merkle::verify_inclusion(0, 1, kSomeHash, none, leaf).is_ok());

  for (auto [index, size] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 0}, {1, 0}, {2, 1}, {1, 1}, {kMax, 0}, {kMax, kMax}, {kMax, 5}}) {
    INFO("index " << index << " size " << size);
    auto st = merkle::verify_inclusion(index, size, leaf, none, merkle::empty_root());
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.reason().find("out of range") != std::string::npos);
  }
  auto st = merkle::verify_inclusion(0, 8, leaf, none, leaf);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.reason().find("wrong proof length") != std::string::npos);
  CHECK(st.reason().find("expected 3") != std::string::npos);

  const std::vector<Hash> three(3, kSomeHash);
  st = merkle::verify_inclusion(0, 8, leaf, three, leaf);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.reason().find("root mismatch") != std::string::npos);
}

TEST_CASE("merkle: verify_consistency refuses bad parameters with a reason") {
  const Hash r1 = merkle::leaf_hash(as_bytes("one"));
  const Hash r2 = merkle::leaf_hash(as_bytes("two"));
  const std::vector<Hash> none;
  const std::vector<Hash> one = {merkle::empty_root()};

  // Always consistent: the empty tree and equal trees.
  CHECK(merkle::verify_consistency(0, 0, merkle::empty_root(), merkle::empty_root(), none).is_ok());
  CHECK(merkle::verify_consistency(0, 1, merkle::empty_root(), r2, none).is_ok());
  CHECK(merkle::verify_consistency(0, kMax, merkle::empty_root(), r2, none).is_ok());
  CHECK(merkle::verify_consistency(1, 1, r2, r2, none).is_ok());
  CHECK(merkle::verify_consistency(kMax, kMax, r2, r2, none).is_ok());

  struct Case {
    uint64_t size1, size2;
    Hash root1, root2;
    std::vector<Hash> proof;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {0, 0, r1, r2, none, "root mismatch"},  // size 0 has the empty root
      {0, 1, r1, r2, none, "root mismatch"},
      {1, 1, r1, r2, none, "root mismatch"},  // equal sizes, different roots
      {1, 0, r1, r2, none, "larger than"},    // time travel
      {2, 1, r1, r2, none, "larger than"},
      {kMax, 0, r1, r2, none, "larger than"},
      {1, 2, r1, r2, none, "empty proof"},
      {1, kMax, r1, r2, none, "empty proof"},
      {0, 0, merkle::empty_root(), merkle::empty_root(), one, "wrong proof length"},
      {0, 1, merkle::empty_root(), merkle::empty_root(), one, "wrong proof length"},
      {1, 1, r1, r1, one, "wrong proof length"},
      {3, 8, r1, r2, one, "wrong proof length"},
      {1, 2, r1, r2, one, "root mismatch"},
  };
  for (const auto& c : cases) {
    INFO(c.size1 << " -> " << c.size2);
    auto st = merkle::verify_consistency(c.size1, c.size2, c.root1, c.root2, c.proof);
    REQUIRE_FALSE(st.is_ok());
    INFO(st.reason());
    CHECK(st.reason().find(c.reason) != std::string::npos);
  }
}

TEST_CASE("merkle: verifiers handle trees of 2^64 - 1 leaves") {
  // The last leaf of the largest tree: 63 left siblings, each a complete
  // subtree, so the root is a left fold over them.
  const Hash leaf = merkle::leaf_hash(as_bytes("last"));
  std::vector<Hash> proof;
  Hash root = leaf;
  for (int i = 0; i < 63; ++i) {
    proof.push_back(merkle::leaf_hash(Bytes{static_cast<uint8_t>(i)}));
    root = merkle::node_hash(proof.back(), root);
  }
  CHECK(merkle::verify_inclusion(kMax - 1, kMax, leaf, proof, root).is_ok());
  CHECK_FALSE(merkle::verify_inclusion(kMax - 2, kMax, leaf, proof, root).is_ok());
  CHECK_FALSE(merkle::verify_inclusion(kMax, kMax, leaf, proof, root).is_ok());

  // The first leaf: 64 right siblings.
  proof.clear();
  root = leaf;
  for (int i = 0; i < 64; ++i) {
    proof.push_back(merkle::leaf_hash(Bytes{static_cast<uint8_t>(i)}));
    root = merkle::node_hash(root, proof.back());
  }
  CHECK(merkle::verify_inclusion(0, kMax, leaf, proof, root).is_ok());
  CHECK_FALSE(merkle::verify_inclusion(1, kMax, leaf, proof, root).is_ok());

  // 2^63 -> 2^64 - 1: the old tree is the left half, the proof is the right.
  const Hash left = merkle::leaf_hash(as_bytes("left half"));
  const Hash right = merkle::leaf_hash(as_bytes("right half"));
  const std::vector<Hash> cproof = {right};
  const uint64_t half = uint64_t{1} << 63;
  CHECK(
      merkle::verify_consistency(half, kMax, left, merkle::node_hash(left, right), cproof).is_ok());
  CHECK_FALSE(
      merkle::verify_consistency(half, kMax, left, merkle::node_hash(right, left), cproof).is_ok());
  CHECK_FALSE(
      merkle::verify_consistency(half - 1, kMax, left, merkle::node_hash(left, right), cproof)
          .is_ok());
}

TEST_CASE("merkle: verifiers survive hostile input") {
  const uint64_t seed = test_seed();
  WARN("merkle hostile-input seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  std::mt19937_64 rng(seed);
  const std::vector<uint64_t> special = {
      0,        1,   2, 3, 7, 8, 9, (uint64_t{1} << 32) - 1, uint64_t{1} << 32, uint64_t{1} << 63,
      kMax - 1, kMax};
  auto pick = [&]() -> uint64_t {
    switch (rng() % 3) {
      case 0:
        return special[rng() % special.size()];
      case 1:
        return rng() % 64;
      default:
        return rng() >> (rng() % 64);
    }
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t a = pick();
    const uint64_t b = pick();
    std::vector<Hash> proof(rng() % 140);
    for (auto& h : proof)
      for (auto& byte : h) byte = static_cast<uint8_t>(rng());
    Hash r1{}, r2{}, leaf{};
    for (auto* h : {&r1, &r2, &leaf})
      for (auto& byte : *h) byte = static_cast<uint8_t>(rng());
    auto inc = merkle::verify_inclusion(a, b, leaf, proof, r1);
    auto con = merkle::verify_consistency(a, b, r1, r2, proof);
    if (inc.is_ok()) ++accepted;
    if (con.is_ok()) ++accepted;
    if (!inc.is_ok()) REQUIRE_FALSE(inc.reason().empty());
    if (!con.is_ok()) REQUIRE_FALSE(con.reason().empty());
  }
  CHECK(accepted == 0);
}

TEST_CASE("merkle: property, every proof of every tree up to 64 leaves") {
  const uint64_t seed = test_seed();
  WARN("merkle small-tree seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const auto leaves = random_leaf_hashes(rng, 64);
  std::vector<Hash> roots(65);
  for (size_t n = 0; n <= 64; ++n) roots[n] = merkle::root_from_leaf_hashes({leaves.data(), n});

  for (uint64_t size = 1; size <= 64; ++size) {
    const auto tree = std::span(leaves).first(size);
    for (uint64_t index = 0; index < size; ++index) {
      const auto proof = merkle::inclusion_proof(tree, index);
      check_inclusion(index, size, leaves[index], proof, roots[size]);
    }
    CHECK(merkle::inclusion_proof(tree, size).empty());
    for (uint64_t size1 = 1; size1 <= size; ++size1) {
      const auto proof = merkle::consistency_proof(tree, size1);
      check_consistency(size1, size, roots[size1], roots[size], proof);
    }
    // Size 0 is trivially consistent with everything.
    CHECK(merkle::consistency_proof(tree, 0).empty());
    CHECK(merkle::verify_consistency(0, size, roots[0], roots[size], {}).is_ok());
  }
}

TEST_CASE("merkle: property, random larger trees") {
  const uint64_t seed = test_seed();
  WARN("merkle large-tree seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const auto leaves = random_leaf_hashes(rng, 2500);
  for (int round = 0; round < 12; ++round) {
    // Every leaf of a few trees (up to 700 leaves), samples of the others.
    const bool every = round < 2;
    const uint64_t size = 65 + rng() % ((every ? 700 : leaves.size()) - 65);
    INFO("size " << size);
    const auto tree = std::span(leaves).first(size);
    const Hash root = merkle::root_from_leaf_hashes(tree);
    for (uint64_t k = 0; k < (every ? size : 40); ++k) {
      const uint64_t index = every ? k : rng() % size;
      const auto proof = merkle::inclusion_proof(tree, index);
      if (every) {
        REQUIRE(merkle::verify_inclusion(index, size, leaves[index], proof, root).is_ok());
      } else {
        check_inclusion(index, size, leaves[index], proof, root);
      }
    }
    for (int k = 0; k < 25; ++k) {
      const uint64_t size1 = 1 + rng() % size;
      const Hash root1 = merkle::root_from_leaf_hashes(tree.first(size1));
      check_consistency(size1, size, root1, root, merkle::consistency_proof(tree, size1));
    }
  }
}
