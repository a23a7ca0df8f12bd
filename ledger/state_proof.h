// The state map's hashing and proofs (docs/state-map.md): a compressed sparse
// Merkle tree over 256-bit keys (SHA-256 of the serial), each leaf committing
// to the serial's current record (SHA-256 of SerialRecord::encode()). Pure
// functions, no storage: the client verifies with these alone. A proof is
// the path from the root down to the first subtree on the key's path that
// holds at most one leaf; presence and absence proofs are the same shape.
// Guarantees: decode() accepts exactly the bytes encode() gives (one
// encoding per proof); the verifiers accept a proof only when it folds up to
// the given root, so a flipped bit, a proof for another root or another key,
// or a presence proof offered as absence is refused.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

Hash state_key(std::string_view serial);                    // SHA-256(serial bytes)
Hash state_value_hash(std::string_view record_bytes);       // SHA-256(record encoding)
Hash state_leaf_hash(const Hash& key, const Hash& value);   // SHA-256(0x02 || k || v)
Hash state_node_hash(const Hash& left, const Hash& right);  // SHA-256(0x03 || l || r)
// Bit `depth` of a key, most significant bit of byte 0 first (depth < 256).
inline bool state_key_bit(const Hash& key, int depth) {
  return (key[static_cast<size_t>(depth / 8)] >> (7 - depth % 8)) & 1;
}

struct StateProof {
  enum class Kind : uint8_t { present = 0, absent_empty = 1, absent_other = 2 };
  static constexpr size_t kMaxDepth = 256;
  Kind kind = Kind::absent_empty;
  std::vector<Hash> siblings;       // all d of them, root side first, zeros included
  Hash other_key{}, other_value{};  // absent_other only

  // version 1 || kind || depth u16 || bitmap || non-empty siblings || [k' || v']
  Bytes encode() const;
  static Result<StateProof> decode(ByteView bytes);
  bool operator==(const StateProof&) const = default;
};

// Ok when `proof` shows that `record_bytes` is the serial's record in the
// map whose root is `root`.
Status verify_state_presence(const Hash& root, std::string_view serial,
                             std::string_view record_bytes, const StateProof& proof);
// Ok when `proof` shows that the serial has no record in that map.
Status verify_state_absence(const Hash& root, std::string_view serial, const StateProof& proof);

// A (key, value hash) leaf; sets of leaves are sorted by key, keys distinct.
using StateLeaf = std::pair<Hash, Hash>;

// The hash of a set of leaves that all share their first `depth` bits
// (the tree's rule: empty, one leaf's hash, or a node of the two halves).
Hash state_subtree_hash(std::span<const StateLeaf> sorted, int depth);
// The root of the map holding exactly these leaves.
inline Hash state_root(std::span<const StateLeaf> sorted) { return state_subtree_hash(sorted, 0); }
// Continues `proof` (which holds the `depth` siblings above) for `key`
// through `sorted`, the leaves under key's prefix of `depth` bits: appends
// the siblings below and sets the end. The map uses it inside a bucket;
// state_proof_from_leaves(all leaves, key) is the whole proof.
void extend_state_proof(std::span<const StateLeaf> sorted, const Hash& key, int depth,
                        StateProof& proof);
StateProof state_proof_from_leaves(std::span<const StateLeaf> sorted, const Hash& key);

}  // namespace chipledger
