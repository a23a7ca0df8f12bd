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
// stored node per set bit of b - a: O(log n) reads per hash, O(log^2 n) per
// proof, and the proofs are the RFC's own (same recursion as the reference
// builders in crypto/merkle.cc).
#include "ledger/merkle_log.h"

#include <bit>
#include <string>

namespace chipledger {
namespace {

constexpr std::string_view kLogSizeKey = "log_size";

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

// MTH(D[begin:end]) for begin < end, following RFC 9162's definition and
// reading a stored node whenever the range is one complete aligned subtree.
Result<Hash> range_hash(const KvStore& store, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const int level = std::countr_zero(n);
    return read_node(store, level, begin >> level);
  }
  const uint64_t k = split_point(n);
  auto left = range_hash(store, begin, begin + k);
  if (!left) return left;
  auto right = range_hash(store, begin + k, end);
  if (!right) return right;
  return merkle::node_hash(*left, *right);
}

Status check_committed(const KvStore& store, uint64_t size, std::string_view what) {
  auto committed = read_size(store);
  if (!committed) return committed.status();
  if (size > *committed) {
    return Status::error(std::string(what) + ": tree size " + std::to_string(size) +
                         " is beyond the committed size " + std::to_string(*committed));
  }
  return Status::ok();
}

// PATH(m, D[begin:end]) (RFC 9162 2.1.3.1), appended leaf-side first.
Status path(const KvStore& store, uint64_t m, uint64_t begin, uint64_t end,
            std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (n <= 1) return Status::ok();
  const uint64_t k = split_point(n);
  Result<Hash> sibling = Hash{};
  if (m < k) {
    CL_TRY(path(store, m, begin, begin + k, out));
    sibling = range_hash(store, begin + k, end);
  } else {
    CL_TRY(path(store, m - k, begin + k, end, out));
    sibling = range_hash(store, begin, begin + k);
  }
  CL_TRY(sibling);
  out.push_back(*sibling);
  return Status::ok();
}

// SUBPROOF(m, D[begin:end], b) (RFC 9162 2.1.4.1), appended to `out`.
Status subproof(const KvStore& store, uint64_t m, uint64_t begin, uint64_t end, bool b,
                std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return Status::ok();
    auto h = range_hash(store, begin, end);
    CL_TRY(h);
    out.push_back(*h);
    return Status::ok();
  }
  const uint64_t k = split_point(n);
  Result<Hash> sibling = Hash{};
  if (m <= k) {
    CL_TRY(subproof(store, m, begin, begin + k, b, out));
    sibling = range_hash(store, begin + k, end);
  } else {
    CL_TRY(subproof(store, m - k, begin + k, end, false, out));
    sibling = range_hash(store, begin, begin + k);
  }
  CL_TRY(sibling);
  out.push_back(*sibling);
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

void MerkleLog::append(const Hash& leaf_hash, WriteBatch& batch) {
  uint64_t index = size_;
  int level = 0;
  Hash h = leaf_hash;
  batch.put(Column::tree, node_key(level, index), std::string(as_chars(ByteView(h))));
  // Each trailing one bit of the old size is a complete subtree on the
  // frontier that the new leaf's subtree now pairs with.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = merkle::node_hash(frontier_.back(), h);
    frontier_.pop_back();
    ++level;
    index >>= 1;
    batch.put(Column::tree, node_key(level, index), std::string(as_chars(ByteView(h))));
  }
  frontier_.push_back(h);
  ++size_;
  batch.put(Column::meta, std::string(kLogSizeKey), encode_u64_key(size_));
}

Result<Hash> MerkleLog::root_at(const KvStore& store, uint64_t size) {
  CL_TRY(check_committed(store, size, "root_at"));
  if (size == 0) return merkle::empty_root();
  return range_hash(store, 0, size);
}

Result<std::vector<Hash>> MerkleLog::inclusion_proof(const KvStore& store, uint64_t index,
                                                     uint64_t size) {
  if (index >= size) {
    return Result<std::vector<Hash>>::error("inclusion proof: leaf index " + std::to_string(index) +
                                            " is out of range for tree size " +
                                            std::to_string(size));
  }
  CL_TRY(check_committed(store, size, "inclusion proof"));
  std::vector<Hash> out;
  CL_TRY(path(store, index, 0, size, out));
  return out;
}

Result<std::vector<Hash>> MerkleLog::consistency_proof(const KvStore& store, uint64_t size1,
                                                       uint64_t size2) {
  if (size1 > size2) {
    return Result<std::vector<Hash>>::error("consistency proof: first size " +
                                            std::to_string(size1) + " is larger than second size " +
                                            std::to_string(size2));
  }
  CL_TRY(check_committed(store, size2, "consistency proof"));
  std::vector<Hash> out;
  // PROOF(m, D[n]) is empty for m == n; nothing is needed from the empty tree.
  if (size1 == 0 || size1 == size2) return out;
  CL_TRY(subproof(store, size1, 0, size2, true, out));
  return out;
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

}  // namespace chipledger
