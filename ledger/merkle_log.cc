// MerkleLog: the RFC 9162 tree of the ledger, stored as complete subtrees.
//
// Node (level, index) is MTH(D[index * 2^level : (index + 1) * 2^level]) and
// lives in Column::tree under the 9-byte key level || be64(index). Level 0
// holds the leaf hashes. A node is written in the same batch as the leaf that
// completes it, so every node of a committed size is present and never
// changes afterwards.
//
// Every MTH(D[a:b]) that RFC 9162's PATH and PROOF ask for has `a` a multiple
// of a power of two >= b - a, so range_hash() resolves it into at most one
// stored node per set bit of b - a: O(log n) nodes per hash, O(log^2 n) per
// proof, and the proofs are the RFC's own (same recursion as the reference
// builders in crypto/merkle.cc). A root or proof walks the recursion twice:
// once to list the nodes it needs, which are then fetched together (the
// TreeCache's levels from memory, the rest with one multi_get), and once to
// fold them in the same order.
#include "ledger/merkle_log.h"

#include <algorithm>
#include <bit>
#include <mutex>
#include <string>

namespace chipledger {
namespace {

constexpr std::string_view kLogSizeKey = "log_size";
// TreeCache::catch_up reads a level with one scan instead of one multi_get
// above this many missing nodes.
constexpr uint64_t kScanAbove = 256;

std::string node_key(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  key += encode_u64_key(index);
  return key;
}

std::string node_name(int level, uint64_t index) {
  return "tree node (level " + std::to_string(level) + ", index " + std::to_string(index) + ")";
}

Result<Hash> read_node(const KvStore& store, int level, uint64_t index) {
  auto got = store.get(Column::tree, node_key(level, index));
  if (!got) return got.status().context("reading " + node_name(level, index));
  if (!got->has_value()) {
    return Result<Hash>::error("merkle log: " + node_name(level, index) + " is missing");
  }
  auto hash = hash_from_bytes(as_bytes(**got));
  if (!hash) return hash.status().context("merkle log: corrupt " + node_name(level, index));
  return *hash;
}

// The committed size: Column::meta "log_size", 0 when absent.
Result<uint64_t> read_size(const KvStore& store) {
  auto got = store.get(Column::meta, kLogSizeKey);
  if (!got) return got.status().context("reading log_size");
  if (!got->has_value()) return uint64_t{0};
  auto size = decode_u64_key(**got);
  if (!size) return size.status().context("merkle log: corrupt log_size");
  return *size;
}

uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

using Ref = TreeCache::Ref;

// The RFC's recursions below run twice over one visitor type each: Collect
// lists the stored nodes in the order they are visited (no hashing), Fold
// then consumes the fetched hashes in that same order and hashes.
struct Collect {
  struct Value {};
  std::vector<Ref>& refs;
  Value node(int level, uint64_t index) {
    refs.push_back(Ref{level, index});
    return {};
  }
  Value combine(Value, Value) { return {}; }
  void emit(Value) {}
};

struct Fold {
  using Value = Hash;
  const std::vector<Hash>& nodes;
  std::vector<Hash>* out = nullptr;
  size_t next = 0;
  Hash node(int, uint64_t) { return nodes[next++]; }
  Hash combine(const Hash& left, const Hash& right) { return merkle::node_hash(left, right); }
  void emit(const Hash& h) { out->push_back(h); }
};

// MTH(D[begin:end]) for begin < end, following RFC 9162's definition and
// taking a stored node whenever the range is one complete aligned subtree.
template <class V>
typename V::Value range_hash(V& v, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const int level = std::countr_zero(n);
    return v.node(level, begin >> level);
  }
  const uint64_t k = split_point(n);
  auto left = range_hash(v, begin, begin + k);
  auto right = range_hash(v, begin + k, end);
  return v.combine(left, right);
}

// PATH(m, D[begin:end]) (RFC 9162 2.1.3.1), emitted leaf-side first.
template <class V>
void path(V& v, uint64_t m, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n <= 1) return;
  const uint64_t k = split_point(n);
  if (m < k) {
    path(v, m, begin, begin + k);
    v.emit(range_hash(v, begin + k, end));
  } else {
    path(v, m - k, begin + k, end);
    v.emit(range_hash(v, begin, begin + k));
  }
}

// SUBPROOF(m, D[begin:end], b) (RFC 9162 2.1.4.1).
template <class V>
void subproof(V& v, uint64_t m, uint64_t begin, uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!b) v.emit(range_hash(v, begin, end));
    return;
  }
  const uint64_t k = split_point(n);
  if (m <= k) {
    subproof(v, m, begin, begin + k, b);
    v.emit(range_hash(v, begin + k, end));
  } else {
    subproof(v, m - k, begin + k, end, false);
    v.emit(range_hash(v, begin, begin + k));
  }
}

// The hashes of `refs`, in order: from the cache where it has them, the rest
// with one multi_get. The first missing or corrupt node (in `refs` order) is
// the error, worded as a single read of it would be.
Result<std::vector<Hash>> fetch(const KvStore& store, const TreeCache* cache,
                                const std::vector<Ref>& refs) {
  std::vector<Hash> out(refs.size());
  std::vector<bool> found(refs.size(), false);
  if (cache != nullptr) cache->get_many(refs, out, found);
  std::vector<std::string> keys;
  std::vector<size_t> where;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (found[i]) continue;
    keys.push_back(node_key(refs[i].level, refs[i].index));
    where.push_back(i);
  }
  if (keys.empty()) return out;
  auto got = store.multi_get(Column::tree, keys);
  if (!got) {
    const Ref& first = refs[where.front()];
    return got.status().context("reading " + node_name(first.level, first.index) + " and " +
                                std::to_string(keys.size() - 1) + " more");
  }
  for (size_t j = 0; j < where.size(); ++j) {
    const Ref& r = refs[where[j]];
    const auto& value = (*got)[j];
    if (!value.has_value()) {
      return Result<std::vector<Hash>>::error("merkle log: " + node_name(r.level, r.index) +
                                              " is missing");
    }
    auto hash = hash_from_bytes(as_bytes(*value));
    if (!hash) return hash.status().context("merkle log: corrupt " + node_name(r.level, r.index));
    out[where[j]] = *hash;
  }
  return out;
}

Status check_committed(uint64_t committed, uint64_t size, std::string_view what) {
  if (size > committed) {
    return Status::error(std::string(what) + ": tree size " + std::to_string(size) +
                         " is beyond the committed size " + std::to_string(committed));
  }
  return Status::ok();
}

}  // namespace

Result<MerkleLog> MerkleLog::open(const KvStore& store) {
  auto size = read_size(store);
  if (!size) return size.status().context("opening merkle log");
  MerkleLog log;
  log.size_ = *size;
  // One complete subtree per set bit of the size, largest (leftmost) first.
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((log.size_ & width) == 0) continue;
    auto node = read_node(store, level, begin >> level);
    if (!node) return node.status().context("opening merkle log of size " + std::to_string(*size));
    log.frontier_.push_back(*node);
    begin += width;
  }
  return log;
}

Hash MerkleLog::root() const {
  if (frontier_.empty()) return merkle::empty_root();
  Hash r = frontier_.back();
  for (size_t i = frontier_.size() - 1; i-- > 0;) r = merkle::node_hash(frontier_[i], r);
  return r;
}

void MerkleLog::append_nodes(const Hash& leaf_hash, WriteBatch& batch, std::vector<Node>* written) {
  uint64_t index = size_;
  int level = 0;
  Hash h = leaf_hash;
  auto put = [&] {
    batch.put(Column::tree, node_key(level, index), std::string(as_chars(ByteView(h))));
    if (written != nullptr) written->push_back(Node{level, index, h});
  };
  put();
  // Each trailing one bit of the old size is a complete subtree on the
  // frontier that the new leaf's subtree now pairs with.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = merkle::node_hash(frontier_.back(), h);
    frontier_.pop_back();
    ++level;
    index >>= 1;
    put();
  }
  frontier_.push_back(h);
  ++size_;
}

void MerkleLog::put_size(WriteBatch& batch) const {
  batch.put(Column::meta, std::string(kLogSizeKey), encode_u64_key(size_));
}

Result<Hash> MerkleLog::root_at(const KvStore& store, uint64_t size) {
  auto committed = read_size(store);
  if (!committed) return committed.status();
  return TreeReader(store, *committed).root_at(size);
}

Result<std::vector<Hash>> MerkleLog::inclusion_proof(const KvStore& store, uint64_t index,
                                                     uint64_t size) {
  auto committed = read_size(store);
  if (!committed) return committed.status();
  return TreeReader(store, *committed).inclusion_proof(index, size);
}

Result<std::vector<Hash>> MerkleLog::consistency_proof(const KvStore& store, uint64_t size1,
                                                       uint64_t size2) {
  auto committed = read_size(store);
  if (!committed) return committed.status();
  return TreeReader(store, *committed).consistency_proof(size1, size2);
}

Result<Hash> MerkleLog::leaf_hash_at(const KvStore& store, uint64_t index) {
  auto committed = read_size(store);
  if (!committed) return committed.status();
  if (index >= *committed) {
    return Result<Hash>::error("leaf index " + std::to_string(index) +
                               " is out of range for committed size " + std::to_string(*committed));
  }
  return read_node(store, 0, index);
}

Result<Hash> TreeReader::root_at(uint64_t size) const {
  CL_TRY(check_committed(committed_, size, "root_at"));
  if (size == 0) return merkle::empty_root();
  std::vector<Ref> refs;
  Collect collect{refs};
  range_hash(collect, 0, size);
  auto nodes = fetch(store_, cache_, refs);
  if (!nodes) return nodes.status();
  Fold fold{*nodes};
  return range_hash(fold, 0, size);
}

Result<std::vector<Hash>> TreeReader::inclusion_proof(uint64_t index, uint64_t size) const {
  if (index >= size) {
    return Result<std::vector<Hash>>::error("inclusion proof: leaf index " + std::to_string(index) +
                                            " is out of range for tree size " +
                                            std::to_string(size));
  }
  CL_TRY(check_committed(committed_, size, "inclusion proof"));
  std::vector<Ref> refs;
  Collect collect{refs};
  path(collect, index, 0, size);
  auto nodes = fetch(store_, cache_, refs);
  if (!nodes) return nodes.status();
  std::vector<Hash> out;
  out.reserve(64);
  Fold fold{*nodes, &out};
  path(fold, index, 0, size);
  return out;
}

Result<std::vector<Hash>> TreeReader::consistency_proof(uint64_t size1, uint64_t size2) const {
  if (size1 > size2) {
    return Result<std::vector<Hash>>::error("consistency proof: first size " +
                                            std::to_string(size1) + " is larger than second size " +
                                            std::to_string(size2));
  }
  CL_TRY(check_committed(committed_, size2, "consistency proof"));
  std::vector<Hash> out;
  // PROOF(m, D[n]) is empty for m == n; nothing is needed from the empty tree.
  if (size1 == 0 || size1 == size2) return out;
  std::vector<Ref> refs;
  Collect collect{refs};
  subproof(collect, size1, 0, size2, true);
  auto nodes = fetch(store_, cache_, refs);
  if (!nodes) return nodes.status();
  Fold fold{*nodes, &out};
  subproof(fold, size1, 0, size2, true);
  return out;
}

TreeCache::TreeCache(int min_level, uint64_t max_nodes_per_level)
    : max_per_level_(std::max<uint64_t>(max_nodes_per_level, 1)),
      min_level_(std::clamp(min_level, 0, 63)),
      levels_(64) {}

int TreeCache::min_level() const {
  std::shared_lock lock(mu_);
  return min_level_;
}

void TreeCache::drop_levels(uint64_t committed_size) {
  while (min_level_ < 63 && (committed_size >> min_level_) > max_per_level_) {
    std::unique_lock lock(mu_);
    std::vector<Hash>().swap(levels_[static_cast<size_t>(min_level_)]);  // frees it
    ++min_level_;
  }
}

void TreeCache::add_committed(const std::vector<MerkleLog::Node>& nodes, uint64_t committed_size) {
  drop_levels(committed_size);
  std::unique_lock lock(mu_);
  for (const auto& n : nodes) {
    if (n.level < min_level_ || n.level > 63) continue;
    auto& level = levels_[static_cast<size_t>(n.level)];
    if (n.index == level.size()) level.push_back(n.hash);
  }
}

void TreeCache::catch_up(const KvStore& store, uint64_t committed_size) {
  // Only this (single) writer changes min_level_ and levels_, so it reads
  // them without the lock; readers see the new nodes once they are appended.
  drop_levels(committed_size);
  for (int level = min_level_; level < 64; ++level) {
    const uint64_t want = committed_size >> level;
    if (want == 0) break;  // and every higher level
    auto& nodes = levels_[static_cast<size_t>(level)];
    const uint64_t have = nodes.size();
    if (have >= want) continue;
    std::vector<Hash> fresh;
    fresh.reserve(static_cast<size_t>(want - have));
    if (want - have > kScanAbove) {
      // Many at once (opening, a restored snapshot): one scan of the level.
      uint64_t expect = 0;
      (void)store.scan(Column::tree, node_key(level, 0).substr(0, 1),
                       [&](std::string_view key, std::string_view value) {
                         auto index = decode_u64_key(key.substr(1));
                         if (!index || *index != expect) return false;  // a gap: stop
                         ++expect;
                         if (*index < have) return true;
                         auto hash = hash_from_bytes(as_bytes(value));
                         if (!hash) return false;  // corrupt: the store reports it
                         fresh.push_back(*hash);
                         return expect < want;
                       });
    } else {
      std::vector<std::string> keys;
      for (uint64_t i = have; i < want; ++i) keys.push_back(node_key(level, i));
      auto got = store.multi_get(Column::tree, keys);
      if (got) {
        for (const auto& value : *got) {
          if (!value) break;
          auto hash = hash_from_bytes(as_bytes(*value));
          if (!hash) break;
          fresh.push_back(*hash);
        }
      }
    }
    if (fresh.empty()) continue;
    std::unique_lock lock(mu_);
    nodes.insert(nodes.end(), fresh.begin(), fresh.end());
  }
}

std::optional<Hash> TreeCache::get(int level, uint64_t index) const {
  std::shared_lock lock(mu_);
  if (level < min_level_ || level > 63) return std::nullopt;
  const auto& nodes = levels_[static_cast<size_t>(level)];
  if (index >= nodes.size()) return std::nullopt;
  return nodes[static_cast<size_t>(index)];
}

void TreeCache::get_many(const std::vector<Ref>& refs, std::vector<Hash>& out,
                         std::vector<bool>& found) const {
  std::shared_lock lock(mu_);
  for (size_t i = 0; i < refs.size(); ++i) {
    const Ref& r = refs[i];
    if (r.level < min_level_ || r.level > 63) continue;
    const auto& nodes = levels_[static_cast<size_t>(r.level)];
    if (r.index >= nodes.size()) continue;
    out[i] = nodes[static_cast<size_t>(r.index)];
    found[i] = true;
  }
}

uint64_t TreeCache::cached_nodes() const {
  std::shared_lock lock(mu_);
  uint64_t n = 0;
  for (const auto& nodes : levels_) n += nodes.size();
  return n;
}

}  // namespace chipledger
