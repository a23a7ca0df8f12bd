#include "crypto/signed_note.h"

#include <cstring>

#include "crypto/sha256.h"
#include "crypto/utf8.h"

namespace chipledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // em dash U+2014, space
constexpr uint8_t kAlgEd25519 = 0x01;
constexpr uint8_t kAlgCosignatureV1 = 0x04;  // tlog-cosignature/v1, Ed25519
constexpr size_t kEd25519SigBytes = 64;
constexpr size_t kTimeBytes = 8;

// Unicode White_Space (what Go's unicode.IsSpace reports).
bool is_unicode_space(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 without ASCII control characters other than newline.
Status check_note_chars(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t at = i;
    int32_t cp = next_code_point(text, i);
    if (cp < 0) return Status::error("invalid UTF-8 at byte " + std::to_string(at));
    if (cp < 0x20 && cp != '\n') {
      return Status::error("control character at byte " + std::to_string(at));
    }
  }
  return Status::ok();
}

// Key names are non-empty UTF-8 with no Unicode spaces and no '+'.
Status check_name(std::string_view name) {
  if (name.empty()) return Status::error("empty key name");
  for (size_t i = 0; i < name.size();) {
    int32_t cp = next_code_point(name, i);
    if (cp < 0) return Status::error("key name is not valid UTF-8");
    if (cp == '+' || is_unicode_space(cp)) {
      return Status::error("key name \"" + std::string(name) + "\" contains a space or '+'");
    }
  }
  return Status::ok();
}

Status check_text(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::error("note text must be non-empty and end in a newline");
  }
  return check_note_chars(text);
}

// One line without its newline: "— <name> <base64(keyhash4 || sig)>".
Result<NoteSignature> parse_signature_line(std::string_view line) {
  if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
    return Result<NoteSignature>::error("signature line does not start with an em dash and space");
  }
  line.remove_prefix(kSigPrefix.size());
  size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return Result<NoteSignature>::error("signature line has no space between name and signature");
  }
  std::string_view name = line.substr(0, space);
  CL_TRY(check_name(name));
  auto blob = base64_decode(line.substr(space + 1));
  if (!blob) return blob.status().context("signature of " + std::string(name));
  if (blob->size() < 5) {
    return Result<NoteSignature>::error("signature of " + std::string(name) + " is too short");
  }
  NoteSignature sig{std::string(name), {}, Bytes(blob->begin() + 4, blob->end())};
  std::memcpy(sig.key_hash.data(), blob->data(), 4);
  return sig;
}

Result<std::vector<NoteSignature>> parse_signature_block(std::string_view block,
                                                         size_t max_signatures) {
  std::vector<NoteSignature> sigs;
  while (!block.empty()) {
    size_t nl = block.find('\n');  // the block ends in '\n', so one is found
    if (sigs.size() == max_signatures) {
      return Result<std::vector<NoteSignature>>::error(
          "more than " + std::to_string(max_signatures) + " signature lines");
    }
    auto sig = parse_signature_line(block.substr(0, nl));
    if (!sig) return sig.status();
    sigs.push_back(std::move(*sig));
    block.remove_prefix(nl + 1);
  }
  return sigs;
}

// SHA-256(name || "\n" || type || raw Ed25519 key)[:4].
Result<std::array<uint8_t, 4>> typed_key_hash(const std::string& name, const PublicKey& key,
                                              uint8_t type) {
  CL_TRY(check_name(name));
  auto raw = key.raw_ed25519();
  if (!raw) return raw.status().context("note verifier " + name);
  Sha256 h;
  h.update(name).update("\n").update(ByteView(&type, 1)).update(*raw);
  Hash full = h.finish();
  std::array<uint8_t, 4> out{};
  std::memcpy(out.data(), full.data(), out.size());
  return out;
}

}  // namespace

Result<std::array<uint8_t, 4>> NoteVerifier::key_hash() const {
  return typed_key_hash(name, key, kAlgEd25519);
}

Result<std::array<uint8_t, 4>> NoteVerifier::cosignature_key_hash() const {
  return typed_key_hash(name, key, kAlgCosignatureV1);
}

Result<std::string> NoteVerifier::vkey() const {
  auto hash = key_hash();
  if (!hash) return hash.status();
  Bytes typed{kAlgEd25519};
  auto raw = key.raw_ed25519();
  if (!raw) return raw.status();
  typed.insert(typed.end(), raw->begin(), raw->end());
  return name + "+" + hex_encode(*hash) + "+" + base64_encode(typed);
}

Result<NoteSignature> sign_note(std::string_view text, const std::string& name,
                                const PrivateKey& key) {
  CL_TRY(check_text(text).context("signing note"));
  auto hash = NoteVerifier{name, key.public_key()}.key_hash();
  if (!hash) return hash.status().context("signing note");
  auto sig = key.sign(as_bytes(text));
  if (!sig) return sig.status().context("signing note");
  return NoteSignature{name, *hash, std::move(*sig)};
}

std::string format_note(const SignedNote& note) {
  std::string out = note.text + "\n";
  for (const NoteSignature& sig : note.signatures) {
    Bytes blob(sig.key_hash.begin(), sig.key_hash.end());
    blob.insert(blob.end(), sig.signature.begin(), sig.signature.end());
    out.append(kSigPrefix).append(sig.name).append(" ").append(base64_encode(blob)).append("\n");
  }
  return out;
}

Result<SignedNote> parse_note(std::string_view wire) {
  return parse_note(wire, kMaxNoteSignatures);
}

Result<SignedNote> parse_note(std::string_view wire, size_t max_signatures) {
  CL_TRY(check_note_chars(wire).context("malformed note"));
  size_t split = wire.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Result<SignedNote>::error("malformed note: no blank line before the signatures");
  }
  std::string_view block = wire.substr(split + 2);
  if (block.empty()) return Result<SignedNote>::error("malformed note: no signatures");
  if (block.back() != '\n') {
    return Result<SignedNote>::error("malformed note: last signature line has no newline");
  }
  auto sigs = parse_signature_block(block, max_signatures);
  if (!sigs) return sigs.status().context("malformed note");
  return SignedNote{std::string(wire.substr(0, split + 1)), std::move(*sigs)};
}

bool verify_note_signature(std::string_view text, const NoteSignature& sig,
                           const NoteVerifier& verifier) {
  if (sig.name != verifier.name || !check_text(text).is_ok()) return false;
  auto hash = verifier.key_hash();
  if (!hash || *hash != sig.key_hash) return false;
  return verifier.key.verify(as_bytes(text), sig.signature);
}

// ---- tlog-cosignature/v1 ----

std::string cosignature_message(uint64_t time_seconds, std::string_view text) {
  std::string msg = "cosignature/v1\ntime " + std::to_string(time_seconds) + "\n";
  msg.append(text);
  return msg;
}

Result<NoteSignature> sign_cosignature(std::string_view text, const std::string& name,
                                       const PrivateKey& key, uint64_t time_seconds) {
  CL_TRY(check_text(text).context("cosigning note"));
  if (time_seconds > kMaxCosignatureTime) {
    return Result<NoteSignature>::error("cosignature time exceeds 2^63 - 1");
  }
  auto hash = NoteVerifier{name, key.public_key()}.cosignature_key_hash();
  if (!hash) return hash.status().context("cosigning note");
  auto sig = key.sign(as_bytes(cosignature_message(time_seconds, text)));
  if (!sig) return sig.status().context("cosigning note");
  Bytes bytes(kTimeBytes);
  for (size_t i = 0; i < kTimeBytes; ++i) {
    bytes[i] = static_cast<uint8_t>(time_seconds >> (8 * (kTimeBytes - 1 - i)));
  }
  bytes.insert(bytes.end(), sig->begin(), sig->end());
  return NoteSignature{name, *hash, std::move(bytes)};
}

Result<uint64_t> cosignature_time(const NoteSignature& sig) {
  if (sig.signature.size() != kTimeBytes + kEd25519SigBytes) {
    return Result<uint64_t>::error("a cosignature is 8 + 64 bytes, this one " +
                                   std::to_string(sig.signature.size()));
  }
  uint64_t t = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) t = t << 8 | sig.signature[i];
  if (t > kMaxCosignatureTime) return Result<uint64_t>::error("cosignature time exceeds 2^63 - 1");
  return t;
}

Result<uint64_t> verify_cosignature(std::string_view text, const NoteSignature& sig,
                                    const NoteVerifier& verifier) {
  using R = Result<uint64_t>;
  if (sig.name != verifier.name) return R::error("the signature is not by " + verifier.name);
  CL_TRY(check_text(text));
  auto hash = verifier.cosignature_key_hash();
  if (!hash) return hash.status();
  if (*hash != sig.key_hash) {
    return R::error("the key hash is not " + verifier.name + "'s cosignature/v1 key hash");
  }
  auto time = cosignature_time(sig);
  if (!time) return time;
  ByteView ed(sig.signature.data() + kTimeBytes, kEd25519SigBytes);
  if (!verifier.key.verify(as_bytes(cosignature_message(*time, text)), ed)) {
    return R::error("the cosignature by " + verifier.name + " does not verify");
  }
  return time;
}

}  // namespace chipledger
