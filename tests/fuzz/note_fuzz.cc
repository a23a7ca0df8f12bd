// libFuzzer target: the signed notes a node or client is sent, and the
// small text decoders next to them: C2SP signed notes, checkpoints as a
// client verifies them (verify_checkpoint against the fuzz world's trust
// file, tests/fuzz/fuzz_world.h), a peer's cosignatures as a node checks
// them (CosignatureBook::check, POST /v1/checkpoint/signatures), base64,
// hex and serial records. Nothing crashes,
// leaks or hits UB; a parsed note renders back to its own bytes; what a
// checker accepts is what the world's node key signed.
#include <cstdlib>

#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature_book.h"
#include "ledger/serial_record.h"
#include "tests/fuzz/fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  const Consortium& c = fuzz::world().consortium;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto note = parse_note(text)) {
    if (format_note(*note) != text) std::abort();
    (void)Checkpoint::parse(note->text);
  }
  (void)Checkpoint::parse(text);
  if (auto cp = verify_checkpoint(c, text)) {
    if (cp->signers != std::vector<std::string>{fuzz::kNodeId}) std::abort();
  }
  static const CosignatureBook book(c, "node-2", {});
  if (auto checked = book.check(text, fuzz::kCheckpointTime)) {
    if (checked->entry.by_node.size() != 1 || !checked->entry.by_node.count(fuzz::kNodeId)) {
      std::abort();
    }
  }
  (void)base64_decode(text);
  (void)hex_decode(text);
  if (auto rec = SerialRecord::decode(text)) {
    if (auto again = SerialRecord::decode(rec->encode()); !again || !(*again == *rec)) {
      std::abort();
    }
  }
  return 0;
}
