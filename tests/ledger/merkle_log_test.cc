// MerkleLog over MemoryStore: roots and proofs built from stored complete
// subtrees must equal the reference functions of crypto/merkle.h for every
// size, and reopening the store must restore the log.
//
// The random tests print their seed; set CHIPLEDGER_TEST_SEED=<n> to replay.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ledger/memory_store.h"
#include "ledger/merkle_log.h"
#include "tests/test_seed.h"

using namespace chipledger;

namespace {

using chipledger::testing::test_seed;

std::string tree_key(uint8_t level, uint64_t index) {
  return std::string(1, static_cast<char>(level)) + encode_u64_key(index);
}

Hash leaf_for(uint64_t i) { return merkle::leaf_hash(as_bytes("tx " + std::to_string(i))); }

MerkleLog open_log(const KvStore& store) {
  auto log = MerkleLog::open(store);
  INFO(log.reason());
  REQUIRE(log.is_ok());
  return std::move(log).value();
}

void commit(MemoryStore& store, const WriteBatch& batch) {
  auto st = store.write(batch, true);
  INFO(st.reason());
  REQUIRE(st.is_ok());
}

// Appends leaves[from, to) and commits them as one batch.
void append_batch(MemoryStore& store, MerkleLog& log, const std::vector<Hash>& leaves,
                  uint64_t from, uint64_t to) {
  WriteBatch batch;
  for (uint64_t i = from; i < to; ++i) {
    log.append(leaves[i], batch);
    REQUIRE(log.size() == i + 1);
    // root() follows the uncommitted tree.
    REQUIRE(log.root() == merkle::root_from_leaf_hashes(std::span(leaves).first(i + 1)));
  }
  commit(store, batch);
}

void check_inclusion_matches(const KvStore& store, const std::vector<Hash>& leaves, uint64_t index,
                             uint64_t size, const Hash& root) {
  INFO("inclusion index " << index << " size " << size);
  auto got = MerkleLog::inclusion_proof(store, index, size);
  INFO(got.reason());
  REQUIRE(got.is_ok());
  const auto want = merkle::inclusion_proof(std::span(leaves).first(size), index);
  REQUIRE(*got == want);
  REQUIRE(merkle::verify_inclusion(index, size, leaves[index], *got, root).is_ok());
}

void check_consistency_matches(const KvStore& store, const std::vector<Hash>& leaves,
                               uint64_t size1, uint64_t size2, const Hash& root1,
                               const Hash& root2) {
  INFO("consistency " << size1 << " -> " << size2);
  auto got = MerkleLog::consistency_proof(store, size1, size2);
  INFO(got.reason());
  REQUIRE(got.is_ok());
  const auto want = merkle::consistency_proof(std::span(leaves).first(size2), size1);
  REQUIRE(*got == want);
  auto st = merkle::verify_consistency(size1, size2, root1, root2, *got);
  INFO(st.reason());
  REQUIRE(st.is_ok());
}

nlohmann::json load_vectors() {
  const std::string path = std::string(CHIPLEDGER_TEST_VECTORS) + "/rfc6962_ct_merkle.json";
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<std::string> hex_list(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const auto& h : hs) out.push_back(hex_encode(h));
  return out;
}

}  // namespace

TEST_CASE("merkle_log: an empty store is an empty log") {
  MemoryStore store;
  auto log = open_log(store);
  CHECK(log.size() == 0);
  CHECK(log.root() == merkle::empty_root());
  auto r0 = MerkleLog::root_at(store, 0);
  REQUIRE(r0.is_ok());
  CHECK(*r0 == merkle::empty_root());
  CHECK_FALSE(MerkleLog::root_at(store, 1).is_ok());
  CHECK_FALSE(MerkleLog::inclusion_proof(store, 0, 0).is_ok());
  CHECK_FALSE(MerkleLog::leaf_hash_at(store, 0).is_ok());
  auto c = MerkleLog::consistency_proof(store, 0, 0);
  REQUIRE(c.is_ok());
  CHECK(c->empty());
}

TEST_CASE("merkle_log: CT vectors through the stored tree") {
  const auto v = load_vectors();
  std::vector<Hash> leaves;
  for (const auto& s : v["leaves"]) {
    auto bytes = hex_decode(s.get<std::string>());
    REQUIRE(bytes.is_ok());
    leaves.push_back(merkle::leaf_hash(*bytes));
  }
  MemoryStore store;
  auto log = open_log(store);
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    WriteBatch batch;
    log.append(leaves[i], batch);
    commit(store, batch);
    CHECK(hex_encode(log.root()) == v["roots"][i]["root"].get<std::string>());
  }
  for (const auto& r : v["roots"]) {
    auto got = MerkleLog::root_at(store, r["size"].get<uint64_t>());
    REQUIRE(got.is_ok());
    CHECK(hex_encode(*got) == r["root"].get<std::string>());
  }
  for (const auto& c : v["inclusion"]) {
    auto got =
        MerkleLog::inclusion_proof(store, c["index"].get<uint64_t>(), c["size"].get<uint64_t>());
    REQUIRE(got.is_ok());
    CHECK(hex_list(*got) == c["proof"].get<std::vector<std::string>>());
  }
  for (const auto& c : v["consistency"]) {
    auto got =
        MerkleLog::consistency_proof(store, c["size1"].get<uint64_t>(), c["size2"].get<uint64_t>());
    REQUIRE(got.is_ok());
    CHECK(hex_list(*got) == c["proof"].get<std::vector<std::string>>());
  }
}

TEST_CASE("merkle_log: storage layout is level || be64(index) and be64 log_size") {
  MemoryStore store;
  auto log = open_log(store);
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 6; ++i) leaves.push_back(leaf_for(i));
  append_batch(store, log, leaves, 0, 6);

  auto get = [&](Column c, const std::string& key) {
    auto got = store.get(c, key);
    REQUIRE(got.is_ok());
    return *got;
  };
  const auto size = get(Column::meta, "log_size");
  REQUIRE(size.has_value());
  CHECK(*size == std::string("\0\0\0\0\0\0\0\x06", 8));

  auto node = [&](uint8_t level, uint64_t index) -> std::optional<Hash> {
    auto v = get(Column::tree, tree_key(level, index));
    if (!v) return std::nullopt;
    REQUIRE(v->size() == 32);
    auto h = hash_from_bytes(as_bytes(*v));
    REQUIRE(h.is_ok());
    return *h;
  };
  for (uint64_t i = 0; i < 6; ++i) CHECK(node(0, i) == leaves[i]);
  CHECK(node(1, 0) == merkle::node_hash(leaves[0], leaves[1]));
  CHECK(node(1, 2) == merkle::node_hash(leaves[4], leaves[5]));
  CHECK(node(2, 0) == merkle::root_from_leaf_hashes(std::span(leaves).first(4)));
  // Incomplete subtrees are never stored.
  CHECK_FALSE(node(0, 6).has_value());
  CHECK_FALSE(node(2, 1).has_value());
  CHECK_FALSE(node(3, 0).has_value());
  // Exactly the complete subtrees: 6 leaves + 3 at level 1 + 1 at level 2.
  int count = 0;
  auto st = store.scan(Column::tree, "", [&](std::string_view key, std::string_view value) {
    CHECK(key.size() == 9);
    CHECK(value.size() == 32);
    ++count;
    return true;
  });
  REQUIRE(st.is_ok());
  CHECK(count == 10);

  auto leaf3 = MerkleLog::leaf_hash_at(store, 3);
  REQUIRE(leaf3.is_ok());
  CHECK(*leaf3 == leaves[3]);
  CHECK_FALSE(MerkleLog::leaf_hash_at(store, 6).is_ok());
}

TEST_CASE("merkle_log: batches of varying sizes match the reference for every size") {
  const uint64_t seed = test_seed();
  WARN("merkle_log seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);

  const uint64_t total = 600 + rng() % 300;
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < total; ++i) leaves.push_back(leaf_for(rng()));

  MemoryStore store;
  auto log = open_log(store);
  uint64_t committed = 0;
  int batches = 0;
  while (committed < total) {
    // Mostly small batches, sometimes one leaf, sometimes a large one.
    uint64_t n = 1 + rng() % 9;
    if (rng() % 5 == 0) n = 1;
    if (rng() % 10 == 0) n = 30 + rng() % 100;
    const uint64_t to = std::min(total, committed + n);
    append_batch(store, log, leaves, committed, to);
    committed = to;
    ++batches;

    // Reopening restores size and root.
    auto reopened = open_log(store);
    REQUIRE(reopened.size() == committed);
    REQUIRE(reopened.root() == log.root());
    auto at = MerkleLog::root_at(store, committed);
    REQUIRE(at.is_ok());
    REQUIRE(*at == log.root());
    // Beyond the committed size is refused.
    CHECK_FALSE(MerkleLog::root_at(store, committed + 1).is_ok());
    CHECK_FALSE(MerkleLog::inclusion_proof(store, 0, committed + 1).is_ok());
    CHECK_FALSE(MerkleLog::consistency_proof(store, 1, committed + 1).is_ok());
  }
  INFO("total " << total << " in " << batches << " batches");

  std::vector<Hash> roots(total + 1);
  for (uint64_t size = 0; size <= total; ++size) {
    roots[size] = merkle::root_from_leaf_hashes(std::span(leaves).first(size));
    auto got = MerkleLog::root_at(store, size);
    INFO("size " << size << ": " << got.reason());
    REQUIRE(got.is_ok());
    REQUIRE(*got == roots[size]);
  }
  for (uint64_t i = 0; i < total; ++i) {
    auto leaf = MerkleLog::leaf_hash_at(store, i);
    REQUIRE(leaf.is_ok());
    REQUIRE(*leaf == leaves[i]);
  }

  // Exhaustive for sizes up to 64: every leaf and every pair of sizes.
  for (uint64_t size = 1; size <= 64; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      check_inclusion_matches(store, leaves, index, size, roots[size]);
    }
    for (uint64_t size1 = 0; size1 <= size; ++size1) {
      check_consistency_matches(store, leaves, size1, size, roots[size1], roots[size]);
    }
  }
  // Every leaf and every older size against the final tree.
  for (uint64_t index = 0; index < total; ++index) {
    check_inclusion_matches(store, leaves, index, total, roots[total]);
  }
  for (uint64_t size1 = 0; size1 <= total; ++size1) {
    check_consistency_matches(store, leaves, size1, total, roots[size1], roots[total]);
  }
  // Random pairs in between.
  for (int k = 0; k < 300; ++k) {
    const uint64_t size = 1 + rng() % total;
    check_inclusion_matches(store, leaves, rng() % size, size, roots[size]);
    const uint64_t size1 = rng() % (size + 1);
    check_consistency_matches(store, leaves, size1, size, roots[size1], roots[size]);
  }

  // Parameter errors come back as reasons.
  CHECK_FALSE(MerkleLog::inclusion_proof(store, 5, 5).is_ok());
  CHECK_FALSE(MerkleLog::inclusion_proof(store, UINT64_MAX, UINT64_MAX).is_ok());
  CHECK_FALSE(MerkleLog::consistency_proof(store, 6, 5).is_ok());
  CHECK_FALSE(MerkleLog::consistency_proof(store, 1, UINT64_MAX).is_ok());
  CHECK_FALSE(MerkleLog::root_at(store, UINT64_MAX).is_ok());
  CHECK_FALSE(MerkleLog::leaf_hash_at(store, UINT64_MAX).is_ok());
}

TEST_CASE("merkle_log: uncommitted appends are invisible to the static readers") {
  MemoryStore store;
  auto log = open_log(store);
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 5; ++i) leaves.push_back(leaf_for(i));
  append_batch(store, log, leaves, 0, 3);

  WriteBatch pending;
  log.append(leaves[3], pending);
  log.append(leaves[4], pending);
  CHECK(log.size() == 5);
  CHECK(log.root() == merkle::root_from_leaf_hashes(leaves));
  CHECK_FALSE(MerkleLog::root_at(store, 4).is_ok());
  CHECK_FALSE(MerkleLog::leaf_hash_at(store, 3).is_ok());
  auto reopened = open_log(store);
  CHECK(reopened.size() == 3);
  CHECK(reopened.root() == merkle::root_from_leaf_hashes(std::span(leaves).first(3)));

  commit(store, pending);
  auto at = MerkleLog::root_at(store, 5);
  REQUIRE(at.is_ok());
  CHECK(*at == log.root());
  CHECK(open_log(store).root() == log.root());
}

TEST_CASE("merkle_log: a damaged store is reported, not trusted") {
  MemoryStore store;
  auto log = open_log(store);
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 7; ++i) leaves.push_back(leaf_for(i));
  append_batch(store, log, leaves, 0, 7);

  SECTION("log_size of the wrong length") {
    WriteBatch b;
    b.put(Column::meta, "log_size", "\x07");
    commit(store, b);
    auto r = MerkleLog::open(store);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.reason().find("log_size") != std::string::npos);
    CHECK_FALSE(MerkleLog::root_at(store, 1).is_ok());
  }
  SECTION("a log_size beyond the stored nodes") {
    WriteBatch b;
    b.put(Column::meta, "log_size", encode_u64_key(8));
    commit(store, b);
    auto r = MerkleLog::open(store);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.reason().find("missing") != std::string::npos);
    CHECK_FALSE(MerkleLog::root_at(store, 8).is_ok());
    CHECK_FALSE(MerkleLog::inclusion_proof(store, 6, 8).is_ok());  // needs leaf 7
  }
  SECTION("a node of the wrong length") {
    WriteBatch b;
    b.put(Column::tree, tree_key(2, 0), "short");
    commit(store, b);
    auto r = MerkleLog::open(store);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.reason().find("corrupt") != std::string::npos);
    CHECK_FALSE(MerkleLog::root_at(store, 4).is_ok());
    CHECK_FALSE(MerkleLog::inclusion_proof(store, 5, 7).is_ok());
    // Proofs that do not touch the damaged node still work.
    CHECK(MerkleLog::inclusion_proof(store, 0, 3).is_ok());
  }
}

TEST_CASE("merkle_log: one put_size per batch commits what one append per leaf does") {
  const uint64_t seed = test_seed();
  WARN("merkle_log put_size seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  MemoryStore each, once;
  auto log_each = open_log(each);
  auto log_once = open_log(once);
  uint64_t i = 0;
  for (int b = 0; b < 40; ++b) {
    WriteBatch batch_each, batch_once;
    const uint64_t n = 1 + rng() % 20;
    for (uint64_t k = 0; k < n; ++k, ++i) {
      log_each.append(leaf_for(i), batch_each);
      log_once.append_nodes(leaf_for(i), batch_once);
    }
    log_once.put_size(batch_once);
    CHECK(batch_once.size() == batch_each.size() - (n - 1));
    commit(each, batch_each);
    commit(once, batch_once);
    REQUIRE(log_once.root() == log_each.root());
  }
  for (int c = 0; c < kColumnCount; ++c) {
    std::vector<std::pair<std::string, std::string>> a, b;
    auto all = [](std::vector<std::pair<std::string, std::string>>& out) {
      return [&out](std::string_view k, std::string_view v) {
        out.emplace_back(std::string(k), std::string(v));
        return true;
      };
    };
    REQUIRE(each.scan(static_cast<Column>(c), "", all(a)).is_ok());
    REQUIRE(once.scan(static_cast<Column>(c), "", all(b)).is_ok());
    CHECK(a == b);
  }
  CHECK(open_log(once).size() == i);
}

TEST_CASE("merkle_log: TreeReader over a TreeCache answers exactly as the uncached readers") {
  const uint64_t seed = test_seed();
  WARN("merkle_log tree cache seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);

  const uint64_t total = 700 + rng() % 700;
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < total; ++i) leaves.push_back(leaf_for(rng()));

  // (first cached level, nodes per level before it is dropped)
  const std::pair<int, uint64_t> variants[] = {
      {0, TreeCache::kDefaultMaxNodesPerLevel},
      {1, TreeCache::kDefaultMaxNodesPerLevel},
      {TreeCache::kDefaultMinLevel, TreeCache::kDefaultMaxNodesPerLevel},
      {6, 1u << 20},
      {0, 40},
      {2, 1}};
  for (const auto& [min_level, cap] : variants) {
    INFO("min_level " << min_level << " cap " << cap);
    MemoryStore store;
    auto log = open_log(store);
    TreeCache cache(min_level, cap);
    // Most of the way in small batches, caught up after each (multi_get)...
    uint64_t committed = 0;
    while (committed < total / 2) {
      const uint64_t to = std::min(total, committed + 1 + rng() % 17);
      append_batch(store, log, leaves, committed, to);
      committed = to;
      cache.catch_up(store, committed);
      const TreeReader reader(store, committed, &cache);
      for (int k = 0; k < 4; ++k) {
        const uint64_t size = 1 + rng() % committed;
        const uint64_t index = rng() % size;
        const uint64_t size1 = rng() % (size + 1);
        INFO("committed " << committed << " index " << index << " size " << size);
        REQUIRE(*reader.root_at(size) == *MerkleLog::root_at(store, size));
        REQUIRE(*reader.inclusion_proof(index, size) ==
                *MerkleLog::inclusion_proof(store, index, size));
        REQUIRE(*reader.consistency_proof(size1, size) ==
                *MerkleLog::consistency_proof(store, size1, size));
      }
    }
    // ...then one large batch the cache takes in one scan per level.
    append_batch(store, log, leaves, committed, total);
    committed = total;
    cache.catch_up(store, committed);
    // Levels over the cap were dropped, the rest is whole.
    int kept_from = min_level;
    while ((total >> kept_from) > cap) ++kept_from;
    CHECK(cache.min_level() == kept_from);
    uint64_t expected_nodes = 0;
    for (int level = kept_from; level < 64; ++level) expected_nodes += total >> level;
    CHECK(cache.cached_nodes() == expected_nodes);
    // A cache filled in one go from the whole store holds the same.
    TreeCache fresh(min_level, cap);
    fresh.catch_up(store, committed);
    CHECK(fresh.cached_nodes() == expected_nodes);

    for (const TreeCache* c : {&cache, &fresh}) {
      const TreeReader reader(store, committed, c);
      for (uint64_t size = 0; size <= total; ++size) {
        INFO("size " << size);
        REQUIRE(*reader.root_at(size) ==
                merkle::root_from_leaf_hashes(std::span(leaves).first(size)));
      }
      for (int k = 0; k < 300; ++k) {
        const uint64_t size = 1 + rng() % total;
        const uint64_t index = rng() % size;
        const uint64_t size1 = rng() % (size + 1);
        INFO("index " << index << " size " << size << " size1 " << size1);
        REQUIRE(*reader.inclusion_proof(index, size) ==
                merkle::inclusion_proof(std::span(leaves).first(size), index));
        REQUIRE(*reader.consistency_proof(size1, size) ==
                merkle::consistency_proof(std::span(leaves).first(size), size1));
      }
      CHECK_FALSE(reader.root_at(total + 1).is_ok());
      CHECK_FALSE(reader.inclusion_proof(0, total + 1).is_ok());
      CHECK_FALSE(reader.inclusion_proof(total, total).is_ok());
      CHECK_FALSE(reader.consistency_proof(2, 1).is_ok());
      CHECK_FALSE(reader.consistency_proof(1, total + 1).is_ok());
    }
  }
}

TEST_CASE("merkle_log: a TreeCache never holds a damaged node, readers report it") {
  MemoryStore store;
  auto log = open_log(store);
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 16; ++i) leaves.push_back(leaf_for(i));
  append_batch(store, log, leaves, 0, 16);
  WriteBatch b;
  b.put(Column::tree, tree_key(2, 1), "short");
  commit(store, b);
  TreeCache cache(1);
  cache.catch_up(store, 16);
  CHECK(cache.get(2, 0).has_value());
  CHECK_FALSE(cache.get(2, 1).has_value());  // the damaged one ends level 2's prefix
  CHECK_FALSE(cache.get(2, 2).has_value());
  CHECK(cache.get(3, 1).has_value());  // other levels are whole
  const TreeReader reader(store, 16, &cache);
  auto consistency = reader.consistency_proof(4, 8);
  REQUIRE_FALSE(consistency.is_ok());
  CHECK(consistency.reason() == MerkleLog::consistency_proof(store, 4, 8).reason());
  CHECK(consistency.reason().find("corrupt tree node (level 2, index 1)") != std::string::npos);
  auto proof = reader.inclusion_proof(0, 8);
  REQUIRE_FALSE(proof.is_ok());
  CHECK(proof.reason() == MerkleLog::inclusion_proof(store, 0, 8).reason());
  // What does not touch it still works, from the cache or not.
  CHECK(*reader.root_at(16) == merkle::root_from_leaf_hashes(leaves));
  CHECK(*reader.inclusion_proof(9, 16) == merkle::inclusion_proof(leaves, 9));
  // A missing node is reported as missing.
  MemoryStore partial;
  WriteBatch only;
  only.put(Column::tree, tree_key(0, 0), std::string(as_chars(ByteView(leaves[0]))));
  commit(partial, only);
  auto missing = TreeReader(partial, 2).root_at(2);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.reason().find("tree node (level 1, index 0) is missing") != std::string::npos);
}

TEST_CASE("merkle_log: a TreeCache fed the written nodes holds what catch_up reads") {
  const uint64_t seed = test_seed();
  WARN("merkle_log add_committed seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (const auto& [min_level, cap] : {std::pair<int, uint64_t>{0, 1u << 19}, {0, 50}, {2, 8}}) {
    INFO("min_level " << min_level << " cap " << cap);
    MemoryStore store;
    auto log = open_log(store);
    TreeCache fed(min_level, cap);
    std::vector<Hash> leaves;
    while (log.size() < 900) {
      WriteBatch batch;
      std::vector<MerkleLog::Node> written;
      const uint64_t n = 1 + rng() % 25;
      for (uint64_t k = 0; k < n; ++k) {
        leaves.push_back(leaf_for(rng()));
        log.append_nodes(leaves.back(), batch, &written);
      }
      log.put_size(batch);
      commit(store, batch);
      fed.add_committed(written, log.size());
      TreeCache read(min_level, cap);
      read.catch_up(store, log.size());
      REQUIRE(fed.min_level() == read.min_level());
      REQUIRE(fed.cached_nodes() == read.cached_nodes());
      const TreeReader reader(store, log.size(), &fed);
      const uint64_t size = 1 + rng() % log.size();
      const uint64_t index = rng() % size;
      REQUIRE(*reader.root_at(size) ==
              merkle::root_from_leaf_hashes(std::span(leaves).first(size)));
      REQUIRE(*reader.inclusion_proof(index, size) ==
              merkle::inclusion_proof(std::span(leaves).first(size), index));
    }
    for (int level = fed.min_level(); level < 10; ++level) {
      for (uint64_t i = 0; i < (log.size() >> level); ++i) {
        auto stored = store.get(Column::tree, tree_key(static_cast<uint8_t>(level), i));
        REQUIRE(fed.get(level, i) == hash_from_bytes(as_bytes(**stored)).value());
      }
    }
  }
}
