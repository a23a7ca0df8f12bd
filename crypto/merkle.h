// RFC 9162 (Certificate Transparency v2) Merkle tree hashing and the checks
// of its inclusion and consistency proofs (sections 2.1.1-2.1.4). Pure
// functions: a verifier needs nothing but these and SHA-256.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger::merkle {

Hash empty_root();                               // SHA-256 of the empty string
Hash leaf_hash(ByteView leaf);                   // SHA-256(0x00 || leaf)
Hash node_hash(const Hash& left, const Hash& right);  // SHA-256(0x01 || l || r)

// MTH over leaf hashes, computed directly (reference, for tests and small trees).
Hash root_from_leaf_hashes(std::span<const Hash> leaf_hashes);

// RFC 9162 2.1.3.2: ok when `proof` proves leaf `leaf_hash` at `index` in the
// tree of `size` leaves whose root is `root`; otherwise says what failed.
Status verify_inclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                        std::span<const Hash> proof, const Hash& root);

// RFC 9162 2.1.4.2: ok when `proof` proves the tree (size1, root1) is a
// prefix of the tree (size2, root2).
Status verify_consistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                          std::span<const Hash> proof);

// Reference proof builders over all leaf hashes in memory (RFC 9162 2.1.3.1,
// 2.1.4.1). The ledger's MerkleLog builds the same proofs from stored nodes.
std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, uint64_t index);
std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, uint64_t size1);

}  // namespace chipledger::merkle
