#include "ledger/state_proof.h"

#include <algorithm>
#include <array>

namespace chipledger {
namespace {

constexpr uint8_t kProofVersion = 1;
constexpr uint8_t kLeafPrefix = 0x02;
constexpr uint8_t kNodePrefix = 0x03;
constexpr Hash kEmpty{};

bool is_zero(const Hash& h) { return h == kEmpty; }

// True when a and b agree on their first `bits` bits.
bool same_prefix(const Hash& a, const Hash& b, size_t bits) {
  size_t whole = bits / 8;
  if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(whole), b.begin())) {
    return false;
  }
  size_t rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// The first leaf of `sorted` whose bit `depth` is 1 (all share the bits above).
std::span<const StateLeaf>::iterator split(std::span<const StateLeaf> sorted, int depth) {
  return std::partition_point(sorted.begin(), sorted.end(), [depth](const StateLeaf& l) {
    return !state_key_bit(l.first, depth);
  });
}

// Folds from the end of the path (`end`, the hash at depth d) up to the root.
Hash fold(const Hash& key, const StateProof& proof, Hash end) {
  for (size_t i = proof.siblings.size(); i-- > 0;) {
    end = state_key_bit(key, static_cast<int>(i)) ? state_node_hash(proof.siblings[i], end)
                                                  : state_node_hash(end, proof.siblings[i]);
  }
  return end;
}

Status shape(const StateProof& proof) {
  if (proof.siblings.size() > StateProof::kMaxDepth) {
    return Status::error("the state proof is deeper than 256 levels");
  }
  return Status::ok();
}

Status check_root(const Hash& root, const Hash& computed) {
  if (computed != root) {
    return Status::error("the state proof does not lead to the checkpoint's state root");
  }
  return Status::ok();
}

}  // namespace

Hash state_key(std::string_view serial) { return sha256(serial); }
Hash state_value_hash(std::string_view record_bytes) { return sha256(record_bytes); }

// One-shot hashes of 65 bytes on the stack (no digest context per hash).
Hash prefixed_hash(uint8_t prefix, const Hash& a, const Hash& b) {
  std::array<uint8_t, 65> buf;
  buf[0] = prefix;
  std::copy(a.begin(), a.end(), buf.begin() + 1);
  std::copy(b.begin(), b.end(), buf.begin() + 33);
  return sha256(ByteView(buf));
}

Hash state_leaf_hash(const Hash& key, const Hash& value) {
  return prefixed_hash(kLeafPrefix, key, value);
}

Hash state_node_hash(const Hash& left, const Hash& right) {
  return prefixed_hash(kNodePrefix, left, right);
}

Bytes StateProof::encode() const {
  const size_t depth = siblings.size();
  Bytes out;
  out.reserve(4 + (depth + 7) / 8 + depth * 32 + 64);
  out.push_back(kProofVersion);
  out.push_back(static_cast<uint8_t>(kind));
  out.push_back(static_cast<uint8_t>(depth >> 8));
  out.push_back(static_cast<uint8_t>(depth & 0xff));
  const size_t bitmap_at = out.size();
  out.resize(out.size() + (depth + 7) / 8, 0);
  for (size_t i = 0; i < depth; ++i) {
    if (is_zero(siblings[i])) continue;
    out[bitmap_at + i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
    out.insert(out.end(), siblings[i].begin(), siblings[i].end());
  }
  if (kind == Kind::absent_other) {
    out.insert(out.end(), other_key.begin(), other_key.end());
    out.insert(out.end(), other_value.begin(), other_value.end());
  }
  return out;
}

Result<StateProof> StateProof::decode(ByteView bytes) {
  using R = Result<StateProof>;
  if (bytes.size() < 4) return R::error("the state proof is truncated (its header)");
  if (bytes[0] != kProofVersion) {
    return R::error("state proof version " + std::to_string(bytes[0]) + " is not supported");
  }
  if (bytes[1] > static_cast<uint8_t>(Kind::absent_other)) {
    return R::error("state proof kind " + std::to_string(bytes[1]) + " is unknown");
  }
  StateProof p;
  p.kind = static_cast<Kind>(bytes[1]);
  const size_t depth = (static_cast<size_t>(bytes[2]) << 8) | bytes[3];
  if (depth > kMaxDepth) {
    return R::error("the state proof's depth " + std::to_string(depth) + " exceeds 256");
  }
  size_t pos = 4;
  const size_t bitmap_len = (depth + 7) / 8;
  if (bytes.size() - pos < bitmap_len) return R::error("the state proof is truncated (its bitmap)");
  ByteView bitmap = bytes.subspan(pos, bitmap_len);
  pos += bitmap_len;
  if (depth % 8 != 0 && (bitmap[bitmap_len - 1] & (0xff >> (depth % 8))) != 0) {
    return R::error("the state proof's bitmap marks siblings past its depth");
  }
  p.siblings.assign(depth, Hash{});
  for (size_t i = 0; i < depth; ++i) {
    if ((bitmap[i / 8] & (0x80 >> (i % 8))) == 0) continue;
    if (bytes.size() - pos < 32) return R::error("the state proof is truncated (a sibling)");
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos), 32, p.siblings[i].begin());
    pos += 32;
    if (is_zero(p.siblings[i])) {
      return R::error("the state proof lists an empty sibling as non-empty");
    }
  }
  if (p.kind == Kind::absent_other) {
    if (bytes.size() - pos < 64) return R::error("the state proof is truncated (the other leaf)");
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos), 32, p.other_key.begin());
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos + 32), 32, p.other_value.begin());
    pos += 64;
  }
  if (pos != bytes.size()) return R::error("the state proof has trailing bytes");
  return p;
}

Status verify_state_presence(const Hash& root, std::string_view serial,
                             std::string_view record_bytes, const StateProof& proof) {
  CL_TRY(shape(proof));
  if (proof.kind != StateProof::Kind::present) {
    return Status::error("the state proof shows the serial absent, not its record");
  }
  const Hash key = state_key(serial);
  return check_root(root, fold(key, proof, state_leaf_hash(key, state_value_hash(record_bytes))));
}

Status verify_state_absence(const Hash& root, std::string_view serial, const StateProof& proof) {
  CL_TRY(shape(proof));
  const Hash key = state_key(serial);
  Hash end{};
  switch (proof.kind) {
    case StateProof::Kind::present:
      return Status::error("the state proof shows the serial registered, not absent");
    case StateProof::Kind::absent_empty:
      break;
    case StateProof::Kind::absent_other:
      if (proof.other_key == key) {
        return Status::error("the state proof's other leaf is the serial's own");
      }
      if (!same_prefix(proof.other_key, key, proof.siblings.size())) {
        return Status::error("the state proof's other leaf is not on the serial's path");
      }
      end = state_leaf_hash(proof.other_key, proof.other_value);
      break;
  }
  return check_root(root, fold(key, proof, end));
}

Hash state_subtree_hash(std::span<const StateLeaf> sorted, int depth) {
  if (sorted.empty()) return Hash{};
  if (sorted.size() == 1) return state_leaf_hash(sorted[0].first, sorted[0].second);
  auto mid = split(sorted, depth);
  return state_node_hash(state_subtree_hash({sorted.begin(), mid}, depth + 1),
                         state_subtree_hash({mid, sorted.end()}, depth + 1));
}

void extend_state_proof(std::span<const StateLeaf> sorted, const Hash& key, int depth,
                        StateProof& proof) {
  while (sorted.size() > 1) {
    auto mid = split(sorted, depth);
    std::span<const StateLeaf> left(sorted.begin(), mid), right(mid, sorted.end());
    const bool bit = state_key_bit(key, depth);
    proof.siblings.push_back(state_subtree_hash(bit ? left : right, depth + 1));
    sorted = bit ? right : left;
    ++depth;
  }
  proof.other_key = Hash{};
  proof.other_value = Hash{};
  if (sorted.empty()) {
    proof.kind = StateProof::Kind::absent_empty;
  } else if (sorted[0].first == key) {
    proof.kind = StateProof::Kind::present;
  } else {
    proof.kind = StateProof::Kind::absent_other;
    proof.other_key = sorted[0].first;
    proof.other_value = sorted[0].second;
  }
}

StateProof state_proof_from_leaves(std::span<const StateLeaf> sorted, const Hash& key) {
  StateProof p;
  extend_state_proof(sorted, key, 0, p);
  return p;
}

}  // namespace chipledger
