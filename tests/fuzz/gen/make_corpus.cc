// Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/)
// from real encodings of the fuzz world's story (tests/fuzz/fuzz_world.h):
// signed transactions, Raft entries, snapshots, state proofs, signed
// notes, request bodies and node answers. Deterministic (fixed keys,
// Ed25519 signatures, fixed times): running it again rewrites the same
// files. Usage: fuzz_corpus DIR (scripts/fuzz.sh --seeds runs it).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "ledger/state_proof.h"
#include "node/evidence_answers.h"
#include "node/raft_entry.h"
#include "tests/fuzz/fuzz_world.h"

namespace {

using namespace chipledger;
using nlohmann::json;
namespace fs = std::filesystem;

fs::path out_dir;

void put(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(out_dir / target);
  std::ofstream(out_dir / target / name, std::ios::binary).write(bytes.data(), bytes.size());
}
void put(const std::string& target, const std::string& name, const Bytes& bytes) {
  put(target, name, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void put64le(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put32le(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
Bytes raft_message(uint64_t type, const Bytes& header, const Bytes& payload = {}) {
  Bytes out;
  put64le(out, type);
  put64le(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}
Bytes append_entries(const std::vector<uint32_t>& sizes) {
  Bytes h;
  for (int i = 0; i < 4; ++i) put64le(h, 100 + i);
  put64le(h, sizes.size());
  Bytes payload;
  for (uint32_t s : sizes) {
    put64le(h, 3);
    h.push_back(1);
    h.insert(h.end(), 3, 0);
    put32le(h, s);
    payload.insert(payload.end(), s, 0xab);
  }
  put64le(h, 0);
  return raft_message(1, h, payload);
}
Bytes install_snapshot(uint64_t data_len) {
  Bytes conf{1};
  put64le(conf, 2);
  for (auto [id, address] :
       {std::pair<uint64_t, std::string>{1, "127.0.0.1:7901"}, {2, "127.0.0.1:7902"}}) {
    put64le(conf, id);
    conf.insert(conf.end(), address.begin(), address.end());
    conf.push_back(0);
    conf.push_back(1);
  }
  while (conf.size() % 8 != 0) conf.push_back(0);
  Bytes h;
  for (int i = 0; i < 4; ++i) put64le(h, 5 + i);
  put64le(h, conf.size());
  h.insert(h.end(), conf.begin(), conf.end());
  put64le(h, data_len);
  return raft_message(5, h, Bytes(data_len, 0x5a));
}

// merkle_proof_fuzz's input: n, i, j (u16 big-endian), n leaf bytes, then
// `raw` proof hashes and a root.
Bytes merkle_input(uint16_t n, uint16_t i, uint16_t j, bool honest_inclusion) {
  Bytes out{static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n),
            static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i),
            static_cast<uint8_t>(j >> 8), static_cast<uint8_t>(j)};
  std::vector<Hash> leaves;
  for (uint16_t k = 0; k < n; ++k) {
    uint8_t b = static_cast<uint8_t>('a' + k % 26);
    out.push_back(b);
    leaves.push_back(merkle::leaf_hash(ByteView(&b, 1)));
    leaves.back()[0] ^= static_cast<uint8_t>(k);
  }
  if (honest_inclusion && i < n) {
    for (const auto& h : merkle::inclusion_proof(leaves, i))
      out.insert(out.end(), h.begin(), h.end());
    Hash root = merkle::root_from_leaf_hashes(leaves);
    out.insert(out.end(), root.begin(), root.end());
  }
  return out;
}

std::string b64(const SignedTransaction& tx) { return base64_encode(tx.wire()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_corpus DIR" << std::endl;
    return 2;
  }
  out_dir = argv[1];
  const auto& blocks = fuzz::story_blocks();
  std::vector<SignedTransaction> txs;
  for (const auto& b : blocks) txs.insert(txs.end(), b.txs.begin(), b.txs.end());
  const char* tx_names[] = {"register", "transfer", "accept", "install", "flag", "license"};
  for (size_t k = 0; k < txs.size(); ++k) put("transaction_fuzz", tx_names[k], txs[k].wire());

  // Raft entries: each block, and the whole story as one input.
  Bytes story;
  for (size_t k = 0; k < blocks.size(); ++k) {
    Bytes entry = frame_entry(encode_block(blocks[k]));
    put("raft_entry_fuzz", "block-" + std::to_string(k + 1), entry);
    story.insert(story.end(), entry.begin(), entry.end());
    if (k == 1) put("raft_entry_fuzz", "blocks-1-2", story);
  }
  put("raft_entry_fuzz", "story", story);
  put("raft_entry_fuzz", "empty-block", frame_entry(encode_block(Block{fuzz::kT0, {}})));

  // Snapshots, framed as libraft hands them over.
  for (size_t n : {1, 2, 4}) {
    auto ledger = fuzz::story_ledger(n);
    put("snapshot_fuzz", "after-block-" + std::to_string(n),
        frame_entry(fuzz::must(ledger->snapshot(), "snapshot")));
  }

  auto ledger = fuzz::story_ledger(4);
  const uint64_t size = ledger->size();
  for (const char* serial : {"GPU-0001", "GPU-0003", "GPU-9999"}) {
    for (uint64_t at : {uint64_t{1}, size}) {
      auto answer = fuzz::must(ledger->state_proof(serial, at), "state proof");
      put("state_proof_fuzz", std::string(serial) + "-at-" + std::to_string(at),
          answer.proof.encode());
    }
  }

  // Notes.
  const std::string note = fuzz::checkpoint_note(*ledger);
  put("note_fuzz", "checkpoint", note);
  put("note_fuzz", "checkpoint-size-1", fuzz::checkpoint_note(*fuzz::story_ledger(1)));
  put("note_fuzz", "checkpoint-text", fuzz::must(parse_note(note), "note").text);
  SignedNote plain{
      "a plain note\nof two lines\n",
      {fuzz::must(sign_note("a plain note\nof two lines\n", fuzz::kNodeId, fuzz::world().node_key),
                  "sign")}};
  put("note_fuzz", "plain", format_note(plain));
  auto record = fuzz::must(ledger->serial("GPU-0001"), "record");
  put("note_fuzz", "serial-record", record->encode());

  // Request bodies.
  put("json_body_fuzz", "submit", json{{"tx", b64(txs[0])}}.dump());
  put("json_body_fuzz", "submit-license", json{{"tx", b64(txs[5])}}.dump());
  put("json_body_fuzz", "batch", json{{"txs", {b64(txs[1]), b64(txs[3]), b64(txs[4])}}}.dump());
  put("json_body_fuzz", "histories",
      json{{"serials", {"GPU-0001", "GPU-0002", "SRV-1"}}, {"size", size}}.dump());
  put("json_body_fuzz", "histories-no-size", R"({"serials": ["GPU-0003"]})");
  put("json_body_fuzz", "nested",
      R"({"a": [[[[1, 2.5e3, -0]]]], "b": {"c": "q\"uo\\te\u00e9"}, "d": [true, false, null]})");

  // Node answers.
  put("node_answer_fuzz", "history-GPU-0001", history_answer(*ledger, "GPU-0001", size).body);
  put("node_answer_fuzz", "history-GPU-0003", history_answer(*ledger, "GPU-0003", size).body);
  put("node_answer_fuzz", "history-unregistered", history_answer(*ledger, "GPU-9999", size).body);
  put("node_answer_fuzz", "histories",
      histories_answer(*ledger, {"GPU-0001", "GPU-0002", "GPU-0004", "GPU-9999"}, size).body);
  put("node_answer_fuzz", "state-GPU-0002", state_answer(*ledger, "GPU-0002", size).body);
  put("node_answer_fuzz", "state-unregistered", state_answer(*ledger, "GPU-9999", size).body);

  // Merkle proofs.
  put("merkle_proof_fuzz", "n7-i3-j5-honest", merkle_input(7, 3, 5, true));
  put("merkle_proof_fuzz", "n1-i0-j1-honest", merkle_input(1, 0, 1, true));
  put("merkle_proof_fuzz", "n16-i15-j8", merkle_input(16, 15, 8, false));
  put("merkle_proof_fuzz", "n128-i100-j77-honest", merkle_input(128, 100, 77, true));
  put("merkle_proof_fuzz", "n0", merkle_input(0, 0, 0, false));

  // Raft frames (tests/fuzz/raft_frame_fuzz.cc: the first byte picks the read size).
  auto with_chunk = [](uint8_t chunk, std::vector<Bytes> messages) {
    Bytes out{chunk};
    for (const auto& m : messages) out.insert(out.end(), m.begin(), m.end());
    return out;
  };
  put("raft_frame_fuzz", "request-vote", with_chunk(7, {raft_message(3, Bytes(40, 7))}));
  put("raft_frame_fuzz", "heartbeat-and-result",
      with_chunk(1, {append_entries({}), raft_message(2, Bytes(24, 7))}));
  put("raft_frame_fuzz", "append-entries", with_chunk(63, {append_entries({24, 200, 8})}));
  put("raft_frame_fuzz", "install-snapshot", with_chunk(30, {install_snapshot(1000)}));
  put("raft_frame_fuzz", "mixed",
      with_chunk(12, {raft_message(4, Bytes(24, 7)), append_entries({16}),
                      raft_message(6, Bytes(24, 7))}));
  std::cout << "wrote the seed corpus under " << out_dir << std::endl;
  return 0;
}
