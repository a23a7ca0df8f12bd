// C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, the
// envelope of C2SP tlog-checkpoint. A note is UTF-8 text ending in a newline,
// a blank line, then one line per signature: "— <name> <base64(keyhash4 || sig)>".
// The key hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || pubkey32).
//
// C2SP tlog-cosignature/v1 (c2sp.org/tlog-cosignature, Ed25519): a note
// signature that says when it was made. Key hash type 0x04; the signature
// bytes are timestamp (u64, big-endian, POSIX seconds, < 2^63) || Ed25519
// signature[64] over "cosignature/v1\ntime <decimal seconds>\n" || text.
#pragma once

#include <cstdint>

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
  // The key hash of the same key as a tlog-cosignature/v1 cosigner (type 0x04).
  Result<std::array<uint8_t, 4>> cosignature_key_hash() const;
  // The standard vkey text: "<name>+<hex keyhash>+<base64(0x01 || pubkey)>".
  Result<std::string> vkey() const;
};

struct NoteSignature {
  std::string name;
  std::array<uint8_t, 4> key_hash{};
  Bytes signature;  // 64 bytes for Ed25519; 8 + 64 for a cosignature
};

struct SignedNote {
  std::string text;                       // the note body, ending in "\n"
  std::vector<NoteSignature> signatures;  // in the order they appear
};

// Signs `text` (must end in "\n", no blank-line-only issues) with an Ed25519 key.
Result<NoteSignature> sign_note(std::string_view text, const std::string& name,
                                const PrivateKey& key);

// Renders text + "\n" + one "— name base64" line per signature.
std::string format_note(const SignedNote& note);

// The most signature lines parse_note(wire) accepts (Go's note package
// allows as many; the spec asks verifiers to accept at least 16).
inline constexpr size_t kMaxNoteSignatures = 100;

// Parses the wire form; refuses malformed notes with a reason.
Result<SignedNote> parse_note(std::string_view wire);
// The same, refusing a note with more than `max_signatures` signature lines
// ("more than N signature lines") before it decodes the ones after the
// N-th. Callers that check a note's signatures bound them by what the note
// can legitimately carry, so that the work stays bounded.
Result<SignedNote> parse_note(std::string_view wire, size_t max_signatures);

// True when `sig` is a valid signature on `text` by `verifier` (name and key
// hash must match too).
bool verify_note_signature(std::string_view text, const NoteSignature& sig,
                           const NoteVerifier& verifier);

// ---- tlog-cosignature/v1 ----

// The largest timestamp a cosignature may carry (2^63 - 1).
inline constexpr uint64_t kMaxCosignatureTime = (uint64_t{1} << 63) - 1;

// The message a cosignature signs: "cosignature/v1\ntime <time>\n" || text.
std::string cosignature_message(uint64_t time_seconds, std::string_view text);

// Cosigns `text` (a checkpoint body, ending in "\n") at `time_seconds`.
Result<NoteSignature> sign_cosignature(std::string_view text, const std::string& name,
                                       const PrivateKey& key, uint64_t time_seconds);

// The timestamp a cosignature carries, unverified (error when the signature
// bytes are not 8 + 64 long or the time exceeds 2^63 - 1).
Result<uint64_t> cosignature_time(const NoteSignature& sig);

// The cosignature's time when `sig` is a valid tlog-cosignature/v1 by
// `verifier` on `text` (name, type-0x04 key hash, length, time range and
// signature all checked); else why not.
Result<uint64_t> verify_cosignature(std::string_view text, const NoteSignature& sig,
                                    const NoteVerifier& verifier);

}  // namespace chipledger
