#include "client/checkpoint_memory.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/file_write.h"
#include "crypto/merkle.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json hex_list(std::span<const Hash> hashes) {
  json out = json::array();
  for (const auto& h : hashes) out.push_back(hex_encode(h));
  return out;
}

}  // namespace

std::string CheckpointMemory::default_path() {
  const char* state = std::getenv("XDG_STATE_HOME");
  if (state && *state) return std::string(state) + "/chipledger/checkpoints.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/chipledger/checkpoints.json";
}

Result<CheckpointMemory> CheckpointMemory::load(std::string path) {
  CheckpointMemory m(std::move(path));
  std::ifstream in(m.path_);
  if (!in) {
    m.text_ = "{}";
    return m;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Result<CheckpointMemory>::error("the client state file " + m.path_ +
                                           " is not JSON; move it away to start afresh");
  }
  m.text_ = ss.str();
  return m;
}

std::optional<RememberedCheckpoint> CheckpointMemory::get(std::string_view ledger_id) const {
  json j = json::parse(text_, nullptr, false);
  if (!j.is_object() || !j.contains("ledgers") || !j["ledgers"].is_object()) return std::nullopt;
  auto it = j["ledgers"].find(std::string(ledger_id));
  if (it == j["ledgers"].end() || !it->is_object()) return std::nullopt;
  const json& e = *it;
  if (!e.contains("size") || !e["size"].is_number_unsigned() || !e.contains("root") ||
      !e["root"].is_string()) {
    return std::nullopt;
  }
  auto root = hash_from_hex(e["root"].get<std::string>());
  if (!root) return std::nullopt;
  return RememberedCheckpoint{e["size"].get<uint64_t>(), *root, e.value("note", ""), "", {}};
}

void CheckpointMemory::add_anchor(const std::string& ledger_id, RememberedCheckpoint cp) {
  anchors_.emplace_back(ledger_id, std::move(cp));
}

std::vector<RememberedCheckpoint> CheckpointMemory::must_extend(std::string_view ledger_id) const {
  std::vector<RememberedCheckpoint> out;
  for (const auto& [id, cp] : anchors_) {
    if (id == ledger_id) out.push_back(cp);
  }
  if (auto known = get(ledger_id)) out.push_back(std::move(*known));
  return out;
}

Status CheckpointMemory::remember(const std::string& ledger_id, const RememberedCheckpoint& cp) {
  auto known = get(ledger_id);
  if (known && known->size >= cp.size) return Status::ok();
  json j = json::parse(text_, nullptr, false);
  if (!j.is_object()) j = json::object();
  j["ledgers"][ledger_id] = {{"size", cp.size}, {"root", hex_encode(cp.root)}, {"note", cp.note}};
  std::string text = j.dump(2) + "\n";
  CL_TRY(write_file_atomically(path_, text));
  text_ = std::move(text);
  return Status::ok();
}

std::string memory_key(const Consortium& consortium) {
  std::string keys;
  for (const auto& n : consortium.nodes()) {
    keys += n.id + "\n" + hex_encode(n.key.der()) + "\n";
  }
  return consortium.ledger_id() + "#" + hex_encode(sha256(keys)).substr(0, 16);
}

CheckpointJudgement judge_checkpoint(const std::optional<RememberedCheckpoint>& before,
                                     const Checkpoint& now, std::span<const Hash> proof) {
  using R = CheckpointRelation;
  if (!before) return {R::first, ""};
  const std::string was =
      "the checkpoint of size " + std::to_string(before->size) + " " +
      (before->origin.empty() ? std::string("this client verified before") : before->origin);
  if (now.size < before->size) {
    return {R::older, "the node serves a checkpoint of size " + std::to_string(now.size) +
                          ", older than " + was +
                          ": it may hide newer events (ask another node, or again later)"};
  }
  if (now.size == before->size) {
    if (now.root == before->root) return {R::same, ""};
    return {R::forked, "the node serves a checkpoint of size " + std::to_string(now.size) +
                           " with another root than " + was + ": a split view"};
  }
  Status st = merkle::verify_consistency(before->size, now.size, before->root, now.root, proof);
  if (!st) {
    return {R::forked, "the checkpoint of size " + std::to_string(now.size) +
                           " is not proven to extend " + was + " (" + st.reason() +
                           "): a split view"};
  }
  return {R::extends, ""};
}

Result<MemoryJudgement> judge_against_memory(const CheckpointMemory& memory,
                                             std::string_view ledger_id, const Checkpoint& now,
                                             const ConsistencyFetch& consistency) {
  const auto anchors = memory.must_extend(ledger_id);
  if (anchors.empty()) return MemoryJudgement{judge_checkpoint(std::nullopt, now, {}), {}, {}};
  MemoryJudgement last;
  for (const auto& before : anchors) {
    std::vector<Hash> proof;
    if (now.size > before.size) {
      auto p = consistency(before.size, now.size);
      if (!p) return p.status();
      proof = std::move(*p);
    }
    MemoryJudgement j{judge_checkpoint(before, now, proof), before, std::move(proof)};
    if (!j.judgement.acceptable()) return j;
    last = std::move(j);
  }
  return last;
}

Result<std::string> write_split_view_evidence(
    const CheckpointMemory& memory, const std::string& ledger_id,
    const RememberedCheckpoint& before, const std::vector<std::string>& before_signers,
    const std::string& now_note, const std::vector<std::string>& now_signers,
    std::span<const Hash> proof, const std::string& reason) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  fs::path dir = fs::path(memory.path()).parent_path();
  std::string path = (dir / ("checkpoints-split-view-" + std::to_string(ms) + ".json")).string();
  json j{{"ledger_id", ledger_id},
         {"reason", reason},
         {"remembered", {{"note", before.note}, {"signers", before_signers}}},
         {"served", {{"note", now_note}, {"signers", now_signers}}},
         {"consistency_proof", hex_list(proof)}};
  CL_TRY(write_file_atomically(path, j.dump(2) + "\n"));
  return path;
}

}  // namespace chipledger
