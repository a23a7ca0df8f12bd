// The state map (docs/state-map.md). The proofs (ledger/state_proof.h) over
// many random maps against a naive reference tree: every present key proves
// its record, absent keys prove absence, every flipped byte of a proof or a
// record is refused, a proof is refused for another root and as the other
// kind; the decoder refuses every non-canonical encoding; the vectors of
// tests/vectors/state_map.json are reproduced byte for byte. The stored map
// (ledger/state_map.h): after random update sequences its root is the
// reference root, at the current size and at every kept earlier size, also
// across depth rebuilds and reopening. The random tests print their seed;
// set CHIPLEDGER_TEST_SEED=<n> to replay.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "ledger/memory_store.h"
#include "ledger/state_map.h"
#include "ledger/state_proof.h"
#include "tests/test_seed.h"

using namespace chipledger;

namespace {

using chipledger::testing::test_seed;

// serial -> record bytes
using Records = std::map<std::string, std::string>;

// The tree's definition, bit by bit over sets (independent of state_proof.cc).
Hash reference_hash(const std::map<Hash, Hash>& leaves, int depth) {
  if (leaves.empty()) return Hash{};
  if (leaves.size() == 1) return state_leaf_hash(leaves.begin()->first, leaves.begin()->second);
  std::map<Hash, Hash> left, right;
  for (const auto& [k, v] : leaves) (state_key_bit(k, depth) ? right : left).emplace(k, v);
  return state_node_hash(reference_hash(left, depth + 1), reference_hash(right, depth + 1));
}

std::map<Hash, Hash> leaf_map(const Records& records) {
  std::map<Hash, Hash> out;
  for (const auto& [s, r] : records) out.emplace(state_key(s), state_value_hash(r));
  return out;
}

Hash reference_root(const Records& records) { return reference_hash(leaf_map(records), 0); }

std::vector<StateLeaf> sorted_leaves(const Records& records) {
  auto m = leaf_map(records);
  return {m.begin(), m.end()};
}

std::string random_serial(std::mt19937_64& rng) {
  return "SN-" + std::to_string(rng() % 1000000000);
}
std::string random_record(std::mt19937_64& rng) {
  std::string r(8 + rng() % 40, '\0');
  for (auto& c : r) c = static_cast<char>(rng());
  return r;
}

Records random_map(std::mt19937_64& rng, size_t n) {
  Records m;
  while (m.size() < n) m[random_serial(rng)] = random_record(rng);
  return m;
}

std::string absent_serial(std::mt19937_64& rng, const Records& m) {
  for (;;) {
    std::string s = "ABSENT-" + std::to_string(rng());
    if (!m.count(s)) return s;
  }
}

}  // namespace

TEST_CASE("state proofs over random maps: present keys prove their record, absent keys absence",
          "[ledger][state]") {
  const uint64_t seed = test_seed();
  WARN("state proofs seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 80; ++iter) {
    const size_t n = iter < 10 ? static_cast<size_t>(iter) : rng() % 300;
    Records m = random_map(rng, n);
    auto leaves = sorted_leaves(m);
    const Hash root = reference_root(m);
    REQUIRE(state_root(leaves) == root);
    if (n == 0) REQUIRE(root == Hash{});
    for (const auto& [serial, record] : m) {
      StateProof p = state_proof_from_leaves(leaves, state_key(serial));
      REQUIRE(p.kind == StateProof::Kind::present);
      REQUIRE(verify_state_presence(root, serial, record, p));
      REQUIRE_FALSE(verify_state_absence(root, serial, p));
      REQUIRE_FALSE(verify_state_presence(root, serial, record + "x", p));
      auto back = StateProof::decode(p.encode());
      REQUIRE(back);
      REQUIRE(*back == p);
    }
    for (int a = 0; a < 20; ++a) {
      std::string serial = absent_serial(rng, m);
      StateProof p = state_proof_from_leaves(leaves, state_key(serial));
      REQUIRE(p.kind != StateProof::Kind::present);
      REQUIRE(verify_state_absence(root, serial, p));
      REQUIRE_FALSE(verify_state_presence(root, serial, "anything", p));
      auto back = StateProof::decode(p.encode());
      REQUIRE(back);
      REQUIRE(*back == p);
      // The absence proof of one serial does not show another (registered) one absent.
      if (!m.empty()) REQUIRE_FALSE(verify_state_absence(root, m.begin()->first, p));
    }
  }
}

TEST_CASE("every flipped byte of a state proof or of a record is refused", "[ledger][state]") {
  const uint64_t seed = test_seed();
  WARN("state proof flips seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20; ++iter) {
    Records m = random_map(rng, 1 + rng() % 100);
    auto leaves = sorted_leaves(m);
    const Hash root = reference_root(m);
    auto it = m.begin();
    std::advance(it, static_cast<long>(rng() % m.size()));
    const std::string serial = it->first, record = it->second;
    const std::string absent = absent_serial(rng, m);
    const Bytes present = state_proof_from_leaves(leaves, state_key(serial)).encode();
    const Bytes missing = state_proof_from_leaves(leaves, state_key(absent)).encode();
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      for (size_t i = 0; i < present.size(); ++i) {
        Bytes b = present;
        b[i] ^= mask;
        auto p = StateProof::decode(b);
        INFO("presence proof byte " << i);
        if (p) REQUIRE_FALSE(verify_state_presence(root, serial, record, *p));
      }
      for (size_t i = 0; i < missing.size(); ++i) {
        Bytes b = missing;
        b[i] ^= mask;
        auto p = StateProof::decode(b);
        INFO("absence proof byte " << i);
        if (p) REQUIRE_FALSE(verify_state_absence(root, absent, *p));
      }
      auto p = StateProof::decode(present);
      REQUIRE(p);
      for (size_t i = 0; i < record.size(); ++i) {
        std::string r = record;
        r[i] = static_cast<char>(r[i] ^ mask);
        REQUIRE_FALSE(verify_state_presence(root, serial, r, *p));
      }
    }
    // Truncated or extended proofs are refused by the decoder.
    for (size_t len = 0; len < present.size(); ++len) {
      REQUIRE_FALSE(StateProof::decode(ByteView(present.data(), len)));
    }
    Bytes longer = present;
    longer.push_back(0);
    REQUIRE_FALSE(StateProof::decode(longer));
  }
}

TEST_CASE("a state proof for one root is refused for another", "[ledger][state]") {
  const uint64_t seed = test_seed();
  WARN("state proof roots seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 30; ++iter) {
    Records a = random_map(rng, 2 + rng() % 60);
    Records b = a;
    auto changed = b.begin();
    std::advance(changed, static_cast<long>(rng() % b.size()));
    changed->second += "!";  // one record differs
    const Hash root_a = reference_root(a), root_b = reference_root(b);
    REQUIRE(root_a != root_b);
    auto leaves_a = sorted_leaves(a);
    for (const auto& [serial, record] : a) {
      StateProof p = state_proof_from_leaves(leaves_a, state_key(serial));
      REQUIRE_FALSE(verify_state_presence(root_b, serial, record, p));
    }
    const std::string absent = absent_serial(rng, a);
    StateProof p = state_proof_from_leaves(leaves_a, state_key(absent));
    REQUIRE(verify_state_absence(root_a, absent, p));
    REQUIRE_FALSE(verify_state_absence(root_b, absent, p));
  }
}

TEST_CASE("the state proof decoder refuses every non-canonical encoding", "[ledger][state]") {
  auto bytes = [](std::initializer_list<int> v) {
    Bytes b;
    for (int x : v) b.push_back(static_cast<uint8_t>(x));
    return b;
  };
  Hash one{};
  one[0] = 1;
  REQUIRE(StateProof::decode(bytes({1, 1, 0, 0})));  // the empty map's absence
  REQUIRE_FALSE(StateProof::decode(bytes({})));
  REQUIRE_FALSE(StateProof::decode(bytes({2, 1, 0, 0})));     // version
  REQUIRE_FALSE(StateProof::decode(bytes({1, 3, 0, 0})));     // kind
  REQUIRE_FALSE(StateProof::decode(bytes({1, 1, 0, 0, 0})));  // trailing
  REQUIRE_FALSE(StateProof::decode(bytes({1, 1, 1, 1})));     // depth 257
  {
    Bytes b = bytes({1, 1, 1, 0});  // depth 256, all siblings empty
    b.resize(4 + 32, 0);
    REQUIRE(StateProof::decode(b));
    REQUIRE(StateProof::decode(b)->siblings.size() == 256);
  }
  REQUIRE_FALSE(StateProof::decode(bytes({1, 1, 0, 3, 0x10})));  // bit 3 past depth 3
  REQUIRE(StateProof::decode(bytes({1, 1, 0, 3, 0x00})));
  {
    Bytes b = bytes({1, 1, 0, 1, 0x80});
    b.insert(b.end(), 32, 0);  // a zero hash listed as non-empty
    REQUIRE_FALSE(StateProof::decode(b));
    b.back() = 1;
    REQUIRE(StateProof::decode(b));
  }
  REQUIRE_FALSE(StateProof::decode(bytes({1, 2, 0, 0})));  // absent_other without its leaf
  // Encoding a decoded proof gives the same bytes.
  StateProof p;
  p.kind = StateProof::Kind::absent_other;
  p.siblings = {one, Hash{}, one};
  p.other_key = one;
  p.other_value = one;
  auto back = StateProof::decode(p.encode());
  REQUIRE(back);
  REQUIRE(back->encode() == p.encode());
  REQUIRE(p.encode().size() == 4 + 1 + 2 * 32 + 64);
}

TEST_CASE("the state map's test vectors are reproduced byte for byte", "[ledger][state]") {
  std::ifstream in(std::string(CHIPLEDGER_TEST_VECTORS) + "/state_map.json");
  REQUIRE(in.good());
  auto doc = nlohmann::json::parse(in);
  size_t proofs = 0;
  for (const auto& c : doc.at("cases")) {
    INFO(c.at("name").get<std::string>());
    Records m;
    for (const auto& s : c.at("serials")) {
      auto record = hex_decode(s.at("record_hex").get<std::string>());
      REQUIRE(record);
      m[s.at("serial").get<std::string>()] = std::string(as_chars(*record));
    }
    auto leaves = sorted_leaves(m);
    const Hash root = state_root(leaves);
    CHECK(hex_encode(root) == c.at("root").get<std::string>());
    for (const auto& pv : c.at("proofs")) {
      const std::string serial = pv.at("serial").get<std::string>();
      StateProof p = state_proof_from_leaves(leaves, state_key(serial));
      CHECK(hex_encode(p.encode()) == pv.at("proof_hex").get<std::string>());
      CHECK(p.siblings.size() == pv.at("depth").get<size_t>());
      auto raw = hex_decode(pv.at("proof_hex").get<std::string>());
      REQUIRE(raw);
      auto decoded = StateProof::decode(*raw);
      REQUIRE(decoded);
      const std::string kind = pv.at("kind").get<std::string>();
      if (kind == "present") {
        CHECK(decoded->kind == StateProof::Kind::present);
        CHECK(verify_state_presence(root, serial, m.at(serial), *decoded));
      } else {
        CHECK(decoded->kind == (kind == "absent_empty" ? StateProof::Kind::absent_empty
                                                       : StateProof::Kind::absent_other));
        CHECK(verify_state_absence(root, serial, *decoded));
      }
      ++proofs;
    }
  }
  CHECK(proofs >= 10);
}

namespace {

// One block through the StateMap the way the Ledger drives it.
void apply_block(StateMap& map, MemoryStore& store, const Records& before, const Records& changes,
                 uint64_t size_after) {
  std::vector<StateMap::Change> list;
  WriteBatch batch;
  for (const auto& [s, r] : changes) {
    std::optional<std::string> old;
    if (auto it = before.find(s); it != before.end()) old = it->second;
    list.push_back({s, r, old});
    batch.put(Column::serials, s, r);
  }
  auto up = map.prepare(list, size_after, batch);
  REQUIRE(up);
  map.publish_undo(*up);
  REQUIRE(store.write(batch, true));
  REQUIRE(map.commit(std::move(*up)));
}

void check_answer(const StateMap& map, const Records& at, uint64_t size,
                  const std::string& serial) {
  auto a = map.prove(serial, size);
  INFO("serial " << serial << " at size " << size);
  REQUIRE(a);
  REQUIRE(a->root == reference_root(at));
  auto it = at.find(serial);
  if (it == at.end()) {
    REQUIRE_FALSE(a->record);
    REQUIRE(verify_state_absence(a->root, serial, a->proof));
  } else {
    REQUIRE(a->record == it->second);
    REQUIRE(verify_state_presence(a->root, serial, *a->record, a->proof));
  }
}

}  // namespace

TEST_CASE("the stored state map equals the reference after random updates, now and at kept sizes",
          "[ledger][state]") {
  const uint64_t seed = test_seed();
  WARN("state map updates seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 4; ++round) {
    MemoryStore store;
    StateMap::Options o;
    o.min_depth = 2;
    o.max_depth = round % 2 ? 3 : 6;  // rebuilds as it grows; buckets of many leaves
    o.max_undo_blocks = 12;
    o.bucket_cache_bytes = round < 2 ? 0 : 2048;  // none, or one that evicts
    auto map = StateMap::open(store, 0, o);
    REQUIRE(map);
    REQUIRE(*(*map)->root_at(0) == Hash{});
    std::map<uint64_t, Records> history{{0, {}}};
    Records now;
    uint64_t size = 0;
    for (int block = 0; block < 60; ++block) {
      Records changes;
      const size_t count = rng() % 3 == 0 ? 1 + rng() % 40 : 1 + rng() % 5;
      for (size_t c = 0; c < count; ++c) {
        if (!now.empty() && rng() % 2) {
          auto it = now.begin();
          std::advance(it, static_cast<long>(rng() % now.size()));
          changes[it->first] = random_record(rng);
        } else {
          changes[random_serial(rng)] = random_record(rng);
        }
      }
      size += 1 + rng() % 4;
      apply_block(**map, store, now, changes, size);
      for (const auto& [s, r] : changes) now[s] = r;
      history[size] = now;
      REQUIRE((*map)->size() == size);
      REQUIRE((*map)->leaf_count() == now.size());
      REQUIRE(*(*map)->root_at(size) == reference_root(now));
      // Every kept size answers as it was then; older ones are refused.
      const uint64_t oldest = (*map)->oldest_size();
      for (const auto& [q, at] : history) {
        INFO("size " << q << ", oldest kept " << oldest);
        if (q < oldest) {
          REQUIRE_FALSE((*map)->root_at(q));
          continue;
        }
        auto root = (*map)->root_at(q);
        REQUIRE(root);
        REQUIRE(*root == reference_root(at));
        for (int k = 0; k < 3; ++k) {
          auto it = now.begin();
          std::advance(it, static_cast<long>(rng() % now.size()));
          check_answer(**map, at, q, it->first);
        }
        check_answer(**map, at, q, absent_serial(rng, now));
      }
      if (size > 1) REQUIRE_FALSE((*map)->root_at(size + 1));
    }
    // A size inside a block was never a checkpoint.
    // Reopened from the store alone: the same root.
    auto again = StateMap::open(store, size, o);
    REQUIRE(again);
    REQUIRE(*(*again)->root_at(size) == reference_root(now));
    REQUIRE((*again)->oldest_size() == size);
    for (const auto& [s, r] : now) check_answer(**again, now, size, s);
  }
}

TEST_CASE("the state map refuses a size that did not end a block", "[ledger][state]") {
  MemoryStore store;
  auto map = StateMap::open(store, 0, {});
  REQUIRE(map);
  apply_block(**map, store, {}, {{"A", "a"}}, 3);
  apply_block(**map, store, {{"A", "a"}}, {{"B", "b"}}, 5);
  REQUIRE((*map)->root_at(0));
  REQUIRE((*map)->root_at(3));
  REQUIRE((*map)->root_at(5));
  auto inside = (*map)->root_at(4);
  REQUIRE_FALSE(inside);
  CHECK(inside.reason() == "log size 4 did not end a block");
  REQUIRE_FALSE((*map)->root_at(6));
}

// Not a test: the figures of docs/state-map.md ("Cost"). Run with
//   ledger_tests "[.state-measure]"   (CHIPLEDGER_STATE_MEASURE_N, default 1 M)
#include <chrono>
#include <filesystem>
#include <iostream>

#include "ledger/rocks_store.h"

TEST_CASE("state map figures at a large size", "[.state-measure]") {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  uint64_t n = 1000000;
  if (const char* env = std::getenv("CHIPLEDGER_STATE_MEASURE_N"))
    n = std::strtoull(env, nullptr, 10);
  const auto dir = std::filesystem::temp_directory_path() / "chipledger-state-measure";
  std::filesystem::remove_all(dir);
  auto store = std::move(*RocksStore::open(dir.string()));
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n;) {
    WriteBatch b;
    for (uint64_t j = 0; j < 65536 && i < n; ++j, ++i) {
      const std::string serial = "M-" + std::to_string(i), record = "record " + std::to_string(i);
      b.put(Column::serials, serial, record);
      Hash k = state_key(serial), v = state_value_hash(record);
      b.put(Column::state, std::string(k.begin(), k.end()), std::string(v.begin(), v.end()));
    }
    if (i == n) b.put(Column::state, "", encode_u64_key(n));
    REQUIRE(store->write(b, i == n));
  }
  auto t1 = Clock::now();
  auto map = StateMap::open(*store, 1, {});
  REQUIRE(map);
  auto t2 = Clock::now();
  std::cout << n << " leaves: written in " << ms(t0, t1) << " ms, map opened (one scan) in "
            << ms(t1, t2) << " ms, depth D " << (*map)->depth() << "\n";
  double depth_sum = 0, bytes_sum = 0, absent_bytes = 0, absent_depth = 0;
  const int kProofs = 2000;
  auto t3 = Clock::now();
  for (int i = 0; i < kProofs; ++i) {
    const std::string serial = "M-" + std::to_string((static_cast<uint64_t>(i) * 7919) % n);
    auto a = (*map)->prove(serial, 1);
    REQUIRE(a);
    depth_sum += static_cast<double>(a->proof.siblings.size());
    bytes_sum += static_cast<double>(a->proof.encode().size());
    auto b = (*map)->prove("ABSENT-" + std::to_string(i), 1);
    REQUIRE(b);
    absent_depth += static_cast<double>(b->proof.siblings.size());
    absent_bytes += static_cast<double>(b->proof.encode().size());
  }
  auto t4 = Clock::now();
  std::cout << "presence proofs: mean depth " << depth_sum / kProofs << ", mean size "
            << bytes_sum / kProofs << " bytes; absence: mean depth " << absent_depth / kProofs
            << ", mean size " << absent_bytes / kProofs << " bytes; "
            << ms(t3, t4) * 1000 / (2 * kProofs) << " us per proof\n";
  {
    // The read part of a 10,000-serial block alone: one scan of the buckets.
    std::vector<Hash> keys;
    for (uint64_t i = 0; i < 10000; ++i) keys.push_back(state_key("PROBE-" + std::to_string(i)));
    std::sort(keys.begin(), keys.end());
    std::vector<KeyRange> ranges;
    const int d = (*map)->depth();
    for (const auto& k : keys) {
      uint32_t top = (uint32_t{k[0]} << 24) | (uint32_t{k[1]} << 16) | (uint32_t{k[2]} << 8) | k[3];
      uint32_t b = top >> (32 - d);
      auto start = [&](uint64_t x) {
        std::string s(32, '\0');
        uint32_t t = static_cast<uint32_t>(x << (32 - d));
        for (int i = 0; i < 4; ++i)
          s[static_cast<size_t>(i)] = static_cast<char>(t >> (24 - 8 * i));
        return s;
      };
      ranges.push_back({start(b), start(b + 1)});
    }
    size_t seen = 0;
    auto s0 = Clock::now();
    REQUIRE(
        store->scan_ranges(Column::state, ranges, [&](size_t, std::string_view, std::string_view) {
          ++seen;
          return true;
        }));
    auto s1 = Clock::now();
    std::vector<StateLeaf> leaves(8);
    for (auto& l : leaves) l.first = state_key(std::to_string(seen++)), l.second = l.first;
    std::sort(leaves.begin(), leaves.end());
    auto s2 = Clock::now();
    for (int i = 0; i < 10000; ++i) (void)state_subtree_hash(leaves, 17);
    auto s3 = Clock::now();
    std::cout << "scan of 10,000 buckets: " << ms(s0, s1)
              << " ms; hashing 10,000 buckets of 8: " << ms(s2, s3) << " ms\n";
  }
  // A register block of 10,000 new serials, then a block of 2,000 changes.
  for (uint64_t count : {10000u, 2000u}) {
    std::vector<StateMap::Change> changes;
    for (uint64_t i = 0; i < count; ++i) {
      if (count == 10000u) {
        changes.push_back({"NEW-" + std::to_string(i), "new record", std::nullopt});
      } else {
        const std::string s = "M-" + std::to_string(i * 13);
        changes.push_back({s, "changed", "record " + std::to_string(i * 13)});
      }
    }
    auto t5 = Clock::now();
    WriteBatch batch;
    for (const auto& c : changes) batch.put(Column::serials, c.serial, c.record);
    auto up = (*map)->prepare(changes, (*map)->size() + count, batch);
    REQUIRE(up);
    auto t6 = Clock::now();
    (*map)->publish_undo(*up);
    REQUIRE(store->write(batch, true));
    auto t7 = Clock::now();
    REQUIRE((*map)->commit(std::move(*up)));
    auto t8 = Clock::now();
    std::cout << "block of " << count << " changes: prepare " << ms(t5, t6)
              << " ms (scan of the changed buckets + hashing), write " << ms(t6, t7)
              << " ms, commit " << ms(t7, t8) << " ms\n";
  }
  map->reset();
  store.reset();
  std::filesystem::remove_all(dir);
}
