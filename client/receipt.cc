#include "client/receipt.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "client/checkpoint_in_force.h"
#include "crypto/merkle.h"
#include "ledger/checkpoint.h"

namespace chipledger {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

uint64_t wall_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// A newest checkpoint, verified against the trust file, once it covers
// `index` (a node's GET /v1/checkpoint itself waits a little for its peers'
// signatures); the last reason when none does by `deadline`. A node that
// shows none moves the question on to the next node: the one that took the
// submission may have been removed by it, or may be cut off, and its own
// checkpoint then never gets the signatures of the nodes in force.
Result<std::pair<std::string, VerifiedCheckpoint>> covering_checkpoint(NodeClient& node,
                                                                       const Consortium& consortium,
                                                                       uint64_t index,
                                                                       Clock::time_point deadline) {
  std::string why;
  auto pause = std::chrono::milliseconds(20);
  while (true) {
    auto note = node.checkpoint();
    // The governance is followed (one more request) only for a note that
    // says it covers `index`; its signatures are checked then.
    std::optional<uint64_t> claimed;
    if (note) {
      auto parsed = parse_note(*note);
      auto cp = parsed ? Checkpoint::parse(parsed->text) : Result<Checkpoint>(parsed.status());
      if (cp) claimed = cp->size;
    }
    if (note && claimed && *claimed <= index) {
      why = "the newest checkpoint the node shows has " + std::to_string(*claimed) +
            " entries, none of them at index " + std::to_string(index);
    } else if (note) {
      // Judged by the nodes and policy in force at its size.
      auto in_force = verify_checkpoint_in_force(node, consortium, *note);
      Result<VerifiedCheckpoint> cp = in_force ? Result<VerifiedCheckpoint>(in_force->checkpoint)
                                               : Result<VerifiedCheckpoint>(in_force.status());
      Status fresh = in_force ? checkpoint_age_status(*cp, in_force->consortium.policy(), wall_ms())
                              : cp.status();
      if (cp && fresh && cp->checkpoint.size > index) {
        return std::make_pair(*note, std::move(*cp));
      }
      why = !cp      ? "the node's checkpoint does not verify: " + cp.reason()
            : !fresh ? "the node's checkpoint is not fresh: " + fresh.reason()
                     : "the newest checkpoint the node shows has " +
                           std::to_string(cp->checkpoint.size) +
                           " entries, none of them at index " + std::to_string(index);
    } else {
      why = note.reason();
    }
    if (node.node_count() > 1) why = node.url() + ": " + why;
    if (Clock::now() + pause > deadline) {
      return Result<std::pair<std::string, VerifiedCheckpoint>>::error(why);
    }
    std::this_thread::sleep_for(pause);  // polling remote nodes, with a deadline
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
    node.switch_to_next();
  }
}

}  // namespace

json Receipt::to_json() const {
  json p = json::array();
  for (const auto& h : proof) p.push_back(hex_encode(h));
  return json{
      {"index", index},
      {"proof", p},
      {"checkpoint", {{"size", checkpoint_size}, {"signers", signers}, {"note", checkpoint_note}}}};
}

Result<Receipt> check_receipt(NodeClient& node, const Consortium& consortium, ByteView wire,
                              uint64_t index, CheckpointMemory* memory,
                              Clock::time_point deadline) {
  auto found = covering_checkpoint(node, consortium, index, deadline);
  if (!found) return found.status();
  auto& [note, cp] = *found;
  if (memory) {
    const std::string key = memory_key(consortium);
    auto judged = judge_against_memory(
        *memory, key, cp.checkpoint,
        [&node](uint64_t from, uint64_t to) { return node.consistency(from, to); });
    if (!judged) return judged.status();
    if (!judged->judgement.acceptable()) return Result<Receipt>::error(judged->judgement.reason);
    CL_TRY(memory->remember(key, {cp.checkpoint.size, cp.checkpoint.root, note, "", {}}));
  }
  auto proof = node.inclusion(index, cp.checkpoint.size);
  if (!proof) return proof.status();
  Status included = merkle::verify_inclusion(index, cp.checkpoint.size, merkle::leaf_hash(wire),
                                             *proof, cp.checkpoint.root);
  if (!included) {
    return Result<Receipt>::error("the transaction is not at log index " + std::to_string(index) +
                                  " of checkpoint " + std::to_string(cp.checkpoint.size) + " (" +
                                  included.reason() + ")");
  }
  return Receipt{index, std::move(*proof), note, cp.checkpoint.size, cp.signers};
}

}  // namespace chipledger
