// libFuzzer target: signed-note, checkpoint, base64 and serial-record parsers
// never crash on any input.
#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/serial_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chipledger;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto note = parse_note(text)) (void)Checkpoint::parse(note->text);
  (void)Checkpoint::parse(text);
  (void)base64_decode(text);
  (void)hex_decode(text);
  (void)SerialRecord::decode(text);
  return 0;
}
