// C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, the
// envelope of C2SP tlog-checkpoint. A note is UTF-8 text ending in a newline,
// a blank line, then one line per signature: "— <name> <base64(keyhash4 || sig)>".
// The key hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || pubkey32).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "crypto/result.h"

namespace chipledger {

// A note verifier key: the signer's name and its Ed25519 public key.
struct NoteVerifier {
  std::string name;  // e.g. "node-maker.chipledger.dev"; no spaces, no '+'
  PublicKey key;
  // The 4-byte key hash defined by signed-note for Ed25519 (type 0x01).
  Result<std::array<uint8_t, 4>> key_hash() const;
  // The standard vkey text: "<name>+<hex keyhash>+<base64(0x01 || pubkey)>".
  Result<std::string> vkey() const;
};

struct NoteSignature {
  std::string name;
  std::array<uint8_t, 4> key_hash{};
  Bytes signature;  // 64 bytes for Ed25519
};

struct SignedNote {
  std::string text;                      // the note body, ending in "\n"
  std::vector<NoteSignature> signatures;  // in the order they appear
};

// Signs `text` (must end in "\n", no blank-line-only issues) with an Ed25519 key.
Result<NoteSignature> sign_note(std::string_view text, const std::string& name,
                                const PrivateKey& key);

// Renders text + "\n" + one "— name base64" line per signature.
std::string format_note(const SignedNote& note);

// Parses the wire form; refuses malformed notes with a reason.
Result<SignedNote> parse_note(std::string_view wire);

// True when `sig` is a valid signature on `text` by `verifier` (name and key
// hash must match too).
bool verify_note_signature(std::string_view text, const NoteSignature& sig,
                           const NoteVerifier& verifier);

}  // namespace chipledger
