// RFC 9162 section 2.1: Merkle Tree Hash (2.1.1), audit paths (2.1.3.1),
// consistency proofs (2.1.4.1) and their verification (2.1.3.2, 2.1.4.2).
//
// The verifiers first work out how many hashes a correct proof for the given
// sizes has and refuse anything else, then run the RFC's algorithm. All
// arithmetic is on uint64_t without overflow (only subtractions of 1 from
// non-zero values and right shifts), so any sizes and any proof are safe.
#include "crypto/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace chipledger::merkle {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The largest power of two strictly smaller than n (n >= 2): the split point
// k of RFC 9162's recursive definitions.
uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[n]) over leaf hashes (2.1.1).
Hash mth(std::span<const Hash> d) {
  if (d.empty()) return empty_root();
  if (d.size() == 1) return d[0];
  const uint64_t k = split_point(d.size());
  return node_hash(mth(d.first(k)), mth(d.subspan(k)));
}

// PATH(m, D[n]) (2.1.3.1), appended to `out` leaf-side first.
void path(uint64_t m, std::span<const Hash> d, std::vector<Hash>& out) {
  if (d.size() <= 1) return;
  const uint64_t k = split_point(d.size());
  if (m < k) {
    path(m, d.first(k), out);
    out.push_back(mth(d.subspan(k)));
  } else {
    path(m - k, d.subspan(k), out);
    out.push_back(mth(d.first(k)));
  }
}

// SUBPROOF(m, D[n], b) (2.1.4.1), appended to `out`.
void subproof(uint64_t m, std::span<const Hash> d, bool b, std::vector<Hash>& out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!b) out.push_back(mth(d));
    return;
  }
  const uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, d.first(k), b, out);
    out.push_back(mth(d.subspan(k)));
  } else {
    subproof(m - k, d.subspan(k), false, out);
    out.push_back(mth(d.first(k)));
  }
}

// Number of hashes in the audit path of leaf `index` in a tree of `size`
// leaves (index < size): one per level below the point where the paths to
// `index` and to the last leaf part ("inner"), plus one per left sibling
// above it ("border").
uint64_t inclusion_length(uint64_t index, uint64_t size) {
  const auto inner = static_cast<uint64_t>(std::bit_width(index ^ (size - 1)));
  // inner can be 64 (index 0 in a tree of more than 2^63 leaves), and a
  // 64-bit shift by 64 is undefined.
  const auto border = inner >= 64 ? 0 : static_cast<uint64_t>(std::popcount(index >> inner));
  return inner + border;
}

std::string sizes(uint64_t a, uint64_t b) {
  return std::to_string(a) + " and " + std::to_string(b);
}

}  // namespace

Hash empty_root() { return sha256(ByteView{}); }

Hash leaf_hash(ByteView leaf) {
  Sha256 h;
  const uint8_t prefix = kLeafPrefix;
  h.update(ByteView(&prefix, 1));
  h.update(leaf);
  return h.finish();
}

Hash node_hash(const Hash& left, const Hash& right) {
  // One-shot over a stack buffer: the hot path of every proof check.
  std::array<uint8_t, 1 + 2 * sizeof(Hash)> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + sizeof(Hash));
  return sha256(ByteView(buf));
}

Hash root_from_leaf_hashes(std::span<const Hash> leaf_hashes) { return mth(leaf_hashes); }

Status verify_inclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                        std::span<const Hash> proof, const Hash& root) {
  // Step 1: the index must name a leaf of the tree.
  if (index >= size) {
    return Status::error("inclusion proof: leaf index " + std::to_string(index) +
                         " is out of range for tree size " + std::to_string(size));
  }
  const uint64_t want = inclusion_length(index, size);
  if (proof.size() != want) {
    return Status::error("inclusion proof: wrong proof length for index " + std::to_string(index) +
                         " in tree size " + std::to_string(size) + ": expected " +
                         std::to_string(want) + " hashes, got " + std::to_string(proof.size()));
  }
  // Steps 2-4.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return Status::error("inclusion proof: proof is longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0) return Status::error("inclusion proof: proof is shorter than the path to the root");
  if (r != root) {
    return Status::error("inclusion proof: root mismatch: the proof gives " + hex_encode(r) +
                         ", expected " + hex_encode(root));
  }
  return Status::ok();
}

Status verify_consistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                          std::span<const Hash> proof) {
  if (size1 > size2) {
    return Status::error("consistency proof: first size " + std::to_string(size1) +
                         " is larger than second size " + std::to_string(size2));
  }
  if (size1 == 0) {
    // The empty tree is a prefix of every tree; nothing needs proving.
    if (!proof.empty()) {
      return Status::error("consistency proof: wrong proof length for sizes " +
                           sizes(size1, size2) + ": expected 0 hashes, got " +
                           std::to_string(proof.size()));
    }
    if (root1 != empty_root()) {
      return Status::error("consistency proof: root mismatch: the root of the empty tree is " +
                           hex_encode(empty_root()) + ", got " + hex_encode(root1));
    }
    return Status::ok();
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return Status::error("consistency proof: wrong proof length for equal sizes " +
                           sizes(size1, size2) + ": expected 0 hashes, got " +
                           std::to_string(proof.size()));
    }
    if (root1 != root2) {
      return Status::error("consistency proof: root mismatch: trees of equal size " +
                           std::to_string(size1) + " have different roots");
    }
    return Status::ok();
  }

  // 0 < size1 < size2. Step 1: an empty proof cannot prove anything here.
  if (proof.empty()) {
    return Status::error("consistency proof: empty proof for sizes " + sizes(size1, size2));
  }
  // Length check: after step 4 (dropping the trailing one bits of size1 - 1)
  // the walk is an audit path of node fn in a tree of sn + 1 nodes, preceded
  // by that node's own hash unless size1 is a power of two (step 2).
  const int level = std::countr_one(size1 - 1);
  const uint64_t fn0 = (size1 - 1) >> level;
  const uint64_t sn0 = (size2 - 1) >> level;
  const uint64_t want = inclusion_length(fn0, sn0 + 1) + (fn0 != 0 ? 1 : 0);
  if (proof.size() != want) {
    return Status::error("consistency proof: wrong proof length for sizes " + sizes(size1, size2) +
                         ": expected " + std::to_string(want) + " hashes, got " +
                         std::to_string(proof.size()));
  }

  // Step 2: when size1 is a power of two, the first hash is root1 itself.
  const bool power_of_two = std::has_single_bit(size1);
  const Hash& seed = power_of_two ? root1 : proof[0];
  const std::span<const Hash> rest = power_of_two ? proof : proof.subspan(1);
  // Steps 3-5.
  uint64_t fn = fn0;
  uint64_t sn = sn0;
  Hash fr = seed;
  Hash sr = seed;
  // Step 6.
  for (const Hash& c : rest) {
    if (sn == 0)
      return Status::error("consistency proof: proof is longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) {
    return Status::error("consistency proof: proof is shorter than the path to the root");
  }
  if (fr != root1) {
    return Status::error("consistency proof: root mismatch: the proof gives first root " +
                         hex_encode(fr) + ", expected " + hex_encode(root1));
  }
  if (sr != root2) {
    return Status::error("consistency proof: root mismatch: the proof gives second root " +
                         hex_encode(sr) + ", expected " + hex_encode(root2));
  }
  return Status::ok();
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, uint64_t index) {
  std::vector<Hash> out;
  if (index >= leaf_hashes.size()) return out;
  path(index, leaf_hashes, out);
  return out;
}

std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, uint64_t size1) {
  std::vector<Hash> out;
  // PROOF(m, D[n]) is defined for 0 < m <= n; it is empty for m == n.
  if (size1 == 0 || size1 >= leaf_hashes.size()) return out;
  subproof(size1, leaf_hashes, true, out);
  return out;
}

}  // namespace chipledger::merkle
