// libFuzzer target: RFC 9162 inclusion and consistency proofs
// (crypto/merkle.h), as a client checks them on a node's answers, and the
// ledger's stored-tree proofs (ledger/merkle_log.h) that a node serves.
// Input: u16 n (leaf count, at most 128), u16 i, u16 j, then bytes that
// seed the leaves and, after them, a proof and root as a lying node would
// send them (32-byte hashes). Nothing crashes, leaks or hits UB; the
// verifiers never accept the raw proof unless it is the honest one (the
// proof for a given index and size is unique); the honest proofs built
// from all leaves and those the stored tree gives are equal and verify;
// and any one flipped bit in an honest proof or root makes it fail.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <span>

#include "crypto/merkle.h"
#include "ledger/memory_store.h"
#include "ledger/merkle_log.h"

namespace {

using namespace chipledger;

struct Input {
  const uint8_t* p;
  size_t left;
  uint16_t u16() {
    uint16_t v = 0;
    for (int k = 0; k < 2; ++k) v = static_cast<uint16_t>(v << 8 | byte());
    return v;
  }
  uint8_t byte() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  Hash hash() {
    Hash h{};
    for (auto& b : h) b = byte();
    return h;
  }
};

void flip_each(std::vector<Hash> proof, Hash root, size_t seed,
               const std::function<bool(const std::vector<Hash>&, const Hash&)>& ok) {
  if (!proof.empty()) {
    size_t k = seed % proof.size();
    proof[k][seed % 32] ^= static_cast<uint8_t>(1u << (seed % 8));
    if (ok(proof, root)) std::abort();
    proof[k][seed % 32] ^= static_cast<uint8_t>(1u << (seed % 8));
  }
  root[seed % 32] ^= 1;
  if (ok(proof, root)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  const uint64_t n = in.u16() % 129;
  const uint64_t i = in.u16();
  const uint64_t j = in.u16();
  std::vector<Hash> leaves;
  for (uint64_t k = 0; k < n; ++k) {
    uint8_t b = in.byte();
    leaves.push_back(merkle::leaf_hash(ByteView(&b, 1)));
    leaves.back()[0] ^= static_cast<uint8_t>(k);  // distinct leaves even for equal bytes
  }
  // What a lying node sends: the rest of the input as proof hashes, then a root.
  std::vector<Hash> raw;
  while (in.left >= 64 && raw.size() < 70) raw.push_back(in.hash());
  const Hash raw_root = in.hash();
  const Hash root = merkle::root_from_leaf_hashes(leaves);

  // The stored tree a node keeps, built leaf by leaf.
  MemoryStore store;
  auto log = MerkleLog::open(store);
  if (!log) std::abort();
  WriteBatch batch;
  for (const auto& leaf : leaves) log->append(leaf, batch);
  if (!store.write(batch, false)) std::abort();
  if (n > 0 && *MerkleLog::root_at(store, n) != root) std::abort();

  // Inclusion of leaf i in the tree of n leaves.
  (void)merkle::verify_inclusion(i, n, raw.empty() ? Hash{} : raw[0], raw, raw_root);
  if (i < n) {
    auto honest = merkle::inclusion_proof(leaves, i);
    auto stored = MerkleLog::inclusion_proof(store, i, n);
    if (!stored || *stored != honest) std::abort();
    if (!merkle::verify_inclusion(i, n, leaves[i], honest, root)) std::abort();
    if (merkle::verify_inclusion(i, n, leaves[i], raw, root) && raw != honest) std::abort();
    flip_each(honest, root, j, [&](const std::vector<Hash>& p, const Hash& r) {
      return merkle::verify_inclusion(i, n, leaves[i], p, r).is_ok();
    });
  }
  // Consistency of the first m = j % (n + 1) leaves with all n.
  const uint64_t m = j % (n + 1);
  (void)merkle::verify_consistency(i, j, raw_root, raw.empty() ? Hash{} : raw[0], raw);
  if (n > 0) {
    const Hash old_root = merkle::root_from_leaf_hashes(std::span(leaves).first(m));
    auto honest = merkle::consistency_proof(leaves, m);
    auto stored = MerkleLog::consistency_proof(store, m, n);
    if (!stored || *stored != honest) std::abort();
    if (!merkle::verify_consistency(m, n, old_root, root, honest)) std::abort();
    if (m > 0 && m < n) {
      if (merkle::verify_consistency(m, n, old_root, root, raw) && raw != honest) std::abort();
      flip_each(honest, root, i, [&](const std::vector<Hash>& p, const Hash& r) {
        return merkle::verify_consistency(m, n, old_root, r, p).is_ok();
      });
    }
  }
  return 0;
}
