#include "crypto/signed_note.h"

#include <catch2/catch.hpp>

using namespace chipledger;

namespace {

// Published example from golang.org/x/mod/sumdb/note (its tests and package
// documentation): the PeterNeumann key and note, and the EnochRoot verifier.
constexpr const char* kPeterSkey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr const char* kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr const char* kEnochVkey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr const char* kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr const char* kPeterSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr const char* kEnochSig =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

Bytes b64(std::string_view text) {
  auto r = base64_decode(text);
  REQUIRE(r);
  return *r;
}

// The key field of a Go key string ("name+hash+key" for a verifier key,
// "PRIVATE+KEY+name+hash+key" for a signer key; the base64 may itself contain
// '+'), decoded, without its leading algorithm byte (0x01, Ed25519).
Bytes key_material(std::string_view go_key) {
  int fields = go_key.substr(0, 12) == "PRIVATE+KEY+" ? 4 : 2;
  size_t at = 0;
  for (int i = 0; i < fields; ++i) at = go_key.find('+', at) + 1;
  Bytes typed = b64(go_key.substr(at));
  REQUIRE(typed.size() == 33);
  REQUIRE(typed[0] == 0x01);
  return Bytes(typed.begin() + 1, typed.end());
}

PublicKey ed25519_public(ByteView raw) {
  Bytes der = *hex_decode("302a300506032b6570032100");  // Ed25519 SPKI prefix
  der.insert(der.end(), raw.begin(), raw.end());
  auto key = PublicKey::from_der(der);
  REQUIRE(key);
  return *key;
}

PrivateKey peter_key() {
  auto key = PrivateKey::ed25519_from_seed(key_material(kPeterSkey));
  REQUIRE(key);
  return *key;
}

NoteVerifier make_verifier(const std::string& name, const PrivateKey& key) {
  return NoteVerifier{name, key.public_key()};
}

PrivateKey fresh_key() {
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  REQUIRE(key);
  return *key;
}

}  // namespace

TEST_CASE("Go note package vector: key hash, vkey and signature byte for byte",
          "[signed_note][vectors]") {
  PrivateKey key = peter_key();
  NoteVerifier peter = make_verifier("PeterNeumann", key);
  auto hash = peter.key_hash();
  REQUIRE(hash);
  CHECK(hex_encode(ByteView(*hash)) == "c74f20a3");
  auto vkey = peter.vkey();
  REQUIRE(vkey);
  CHECK(*vkey == kPeterVkey);

  auto sig = sign_note(kText, "PeterNeumann", key);
  REQUIRE(sig);
  std::string wire = format_note(SignedNote{kText, {*sig}});
  CHECK(wire == std::string(kText) + "\n" + kPeterSig);

  auto enoch_raw = key_material(kEnochVkey);
  NoteVerifier enoch{"EnochRoot", ed25519_public(enoch_raw)};
  auto enoch_vkey = enoch.vkey();
  REQUIRE(enoch_vkey);
  CHECK(*enoch_vkey == kEnochVkey);
}

TEST_CASE("Go note package vector: two-signature note parses and verifies",
          "[signed_note][vectors]") {
  std::string wire = std::string(kText) + "\n" + kPeterSig + kEnochSig;
  auto note = parse_note(wire);
  REQUIRE(note);
  CHECK(note->text == kText);
  REQUIRE(note->signatures.size() == 2);
  CHECK(note->signatures[0].name == "PeterNeumann");
  CHECK(hex_encode(ByteView(note->signatures[0].key_hash)) == "c74f20a3");
  CHECK(note->signatures[1].name == "EnochRoot");
  CHECK(hex_encode(ByteView(note->signatures[1].key_hash)) == "af0cfe78");
  CHECK(note->signatures[0].signature.size() == 64);
  CHECK(format_note(*note) == wire);

  NoteVerifier peter{"PeterNeumann", ed25519_public(key_material(kPeterVkey))};
  NoteVerifier enoch{"EnochRoot", ed25519_public(key_material(kEnochVkey))};
  CHECK(verify_note_signature(note->text, note->signatures[0], peter));
  CHECK(verify_note_signature(note->text, note->signatures[1], enoch));
  CHECK_FALSE(verify_note_signature(note->text, note->signatures[0], enoch));
  CHECK_FALSE(verify_note_signature(note->text, note->signatures[1], peter));
}

TEST_CASE("Go note package vector: malformed messages are refused", "[signed_note][vectors]") {
  std::string text = kText;
  std::string sig = kPeterSig;
  const std::string bad[] = {
      text,
      text + "\n",
      text + "\n" + sig.substr(0, sig.size() - 1),
      "\x01" + text + "\n" + sig,
      "\xff" + text + "\n" + sig,
      text + "\n" + "\xE2\x80\x94 Bad Name " + sig.substr(sig.find(' ', 4) + 1),
      text + "\n" + sig + "Unexpected line.\n",
  };
  for (const std::string& wire : bad) {
    INFO("wire: " << wire);
    auto r = parse_note(wire);
    CHECK_FALSE(r);
    CHECK_THAT(r.reason(), Catch::StartsWith("malformed note"));
  }
  // A signature blob with a bad byte in its middle still parses but no longer verifies.
  std::string corrupted = text + "\n" + sig.substr(0, 60) + "ABCD" + sig.substr(60);
  auto note = parse_note(corrupted);
  REQUIRE(note);
  NoteVerifier peter{"PeterNeumann", ed25519_public(key_material(kPeterVkey))};
  CHECK_FALSE(verify_note_signature(note->text, note->signatures[0], peter));
}

TEST_CASE("sign, format, parse and verify round trip", "[signed_note]") {
  PrivateKey a = fresh_key(), b = fresh_key();
  std::string text = "chipledger.dev/log\n42\nq0ZjAb3lQfC6vXyUOuYF5j4vCq0xgGqzEYbtgRkW5Tk=\n";
  auto sig_a = sign_note(text, "node-a.chipledger.dev", a);
  auto sig_b = sign_note(text, "witness.example/b", b);
  REQUIRE(sig_a);
  REQUIRE(sig_b);
  CHECK(sig_a->signature.size() == 64);

  std::string wire = format_note(SignedNote{text, {*sig_a, *sig_b}});
  CHECK_THAT(wire, Catch::StartsWith(text + "\n\xE2\x80\x94 node-a.chipledger.dev "));
  auto note = parse_note(wire);
  REQUIRE(note);
  CHECK(note->text == text);
  REQUIRE(note->signatures.size() == 2);
  CHECK(note->signatures[0].name == sig_a->name);
  CHECK(note->signatures[0].key_hash == sig_a->key_hash);
  CHECK(note->signatures[0].signature == sig_a->signature);
  CHECK(format_note(*note) == wire);

  NoteVerifier va = make_verifier("node-a.chipledger.dev", a);
  NoteVerifier vb = make_verifier("witness.example/b", b);
  CHECK(verify_note_signature(note->text, note->signatures[0], va));
  CHECK(verify_note_signature(note->text, note->signatures[1], vb));

  SECTION("wrong name is refused") {
    NoteVerifier renamed = make_verifier("node-b.chipledger.dev", a);
    CHECK_FALSE(verify_note_signature(note->text, note->signatures[0], renamed));
    NoteSignature sig = note->signatures[0];
    sig.name = "node-b.chipledger.dev";
    CHECK_FALSE(verify_note_signature(note->text, sig, va));
  }
  SECTION("wrong key is refused") {
    NoteVerifier same_name_other_key = make_verifier("node-a.chipledger.dev", b);
    CHECK_FALSE(verify_note_signature(note->text, note->signatures[0], same_name_other_key));
    CHECK_FALSE(verify_note_signature(note->text, note->signatures[0], vb));
  }
  SECTION("wrong key hash is refused even with a valid signature") {
    NoteSignature sig = note->signatures[0];
    sig.key_hash[0] ^= 1;
    CHECK_FALSE(verify_note_signature(note->text, sig, va));
  }
  SECTION("tampered text is refused") {
    std::string tampered = note->text;
    tampered[tampered.find("42")] = '3';
    CHECK_FALSE(verify_note_signature(tampered, note->signatures[0], va));
    CHECK_FALSE(verify_note_signature(note->text + "x\n", note->signatures[0], va));
    CHECK_FALSE(verify_note_signature(note->text.substr(0, note->text.size() - 1),
                                      note->signatures[0], va));
  }
  SECTION("tampered signature is refused") {
    NoteSignature sig = note->signatures[1];
    sig.signature[10] ^= 0x80;
    CHECK_FALSE(verify_note_signature(note->text, sig, vb));
    sig.signature.pop_back();
    CHECK_FALSE(verify_note_signature(note->text, sig, vb));
  }
}

TEST_CASE("the text splits at the last blank line", "[signed_note]") {
  PrivateKey key = fresh_key();
  for (std::string text : {"a\n\nb\n", "a\n\n", "\n", "line\n\n\n", "caf\xC3\xA9 \xE2\x82\xAC\n"}) {
    INFO("text: " << text);
    auto sig = sign_note(text, "k", key);
    REQUIRE(sig);
    auto note = parse_note(format_note(SignedNote{text, {*sig}}));
    REQUIRE(note);
    CHECK(note->text == text);
    CHECK(verify_note_signature(note->text, note->signatures[0], make_verifier("k", key)));
  }
}

TEST_CASE("sign_note refuses bad text, names and keys", "[signed_note]") {
  PrivateKey key = fresh_key();
  CHECK_FALSE(sign_note("", "k", key));
  CHECK_FALSE(sign_note("no newline", "k", key));
  CHECK_FALSE(sign_note("tab\there\n", "k", key));
  CHECK_FALSE(sign_note("cr\r\n", "k", key));
  CHECK_FALSE(sign_note("bad \xff utf8\n", "k", key));
  CHECK_FALSE(sign_note("overlong \xC0\xAF\n", "k", key));
  CHECK_FALSE(sign_note("surrogate \xED\xA0\x80\n", "k", key));
  for (std::string name :
       {"", "a b", "a+b", "tab\tname", "nbsp\xC2\xA0name", "ideo\xE3\x80\x80sp", "bad\xffutf8"}) {
    INFO("name: " << name);
    auto r = sign_note("text\n", name, key);
    CHECK_FALSE(r);
    CHECK_FALSE(r.reason().empty());
  }
  auto ec = PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  REQUIRE(ec);
  auto r = sign_note("text\n", "k", *ec);
  CHECK_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("ed25519"));

  NoteVerifier ec_verifier{"k", ec->public_key()};
  CHECK_FALSE(ec_verifier.key_hash());
  CHECK_FALSE(ec_verifier.vkey());
  CHECK_FALSE(NoteVerifier{"a+b", key.public_key()}.vkey());
}

TEST_CASE("malformed wire forms are refused", "[signed_note]") {
  PrivateKey key = fresh_key();
  std::string text = "hello\n";
  auto sig = sign_note(text, "k", key);
  REQUIRE(sig);
  std::string wire = format_note(SignedNote{text, {*sig}});
  REQUIRE(parse_note(wire));
  std::string line = wire.substr(text.size() + 1);  // "— k <b64>\n"
  std::string b64 = line.substr(line.rfind(' ') + 1);
  b64.pop_back();  // drop '\n'
  const std::string dash = "\xE2\x80\x94 ";

  const std::string bad[] = {
      "",
      "\n",
      "\n\n",
      text,                                               // no signatures
      text + "\n",                                        // blank line, no signatures
      text + "\n" + line.substr(0, line.size() - 1),      // missing final newline
      text + "\n" + "- k " + b64 + "\n",                  // hyphen, not em dash
      text + "\n" + "\xE2\x80\x94k " + b64 + "\n",        // no space after the dash
      text + "\n" + dash + "k\n",                         // no signature
      text + "\n" + dash + "k \n",                        // empty signature
      text + "\n" + dash + " " + b64 + "\n",              // empty name
      text + "\n" + dash + "a+b " + b64 + "\n",           // '+' in name
      text + "\n" + dash + "k " + b64 + " \n",            // trailing space
      text + "\n" + dash + "k  " + b64 + "\n",            // double space
      text + "\n" + dash + "k " + b64.substr(1) + "\n",   // bad base64 length
      text + "\n" + dash + "k !" + b64.substr(1) + "\n",  // bad base64 character
      text + "\n" + dash + "k AAAA\n",                    // 3 bytes: shorter than 5
      text + "\n" + dash + "k AAAAAA==\n",                // 4 bytes: key hash only
      text + "\n" + line + "\n",                          // blank line after signatures
      text + "\n" + line + "trailing\n",                  // non-signature line
      "hel\x01lo\n\n" + line,                             // control character in text
      "hel\xc3lo\n\n" + line,                             // invalid UTF-8 in text
      text + "\r\n" + line,                               // CR is a control character
  };
  for (const std::string& w : bad) {
    INFO("wire: " << w);
    auto r = parse_note(w);
    CHECK_FALSE(r);
    CHECK_FALSE(r.reason().empty());
  }

  // Five bytes is the shortest blob accepted: a key hash and one signature byte.
  auto short_sig = parse_note(text + "\n" + dash + "k AAAAAAA=\n");
  REQUIRE(short_sig);
  CHECK(short_sig->signatures[0].signature.size() == 1);
  CHECK_FALSE(verify_note_signature(text, short_sig->signatures[0], make_verifier("k", key)));
}

TEST_CASE("signature count is limited", "[signed_note]") {
  PrivateKey key = fresh_key();
  std::string text = "t\n";
  auto sig = sign_note(text, "k", key);
  REQUIRE(sig);
  SignedNote many{text, std::vector<NoteSignature>(100, *sig)};
  CHECK(parse_note(format_note(many)));
  many.signatures.push_back(*sig);
  auto r = parse_note(format_note(many));
  CHECK_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("more than 100 signature lines"));
}

TEST_CASE("a caller's signature line bound is checked before the lines are decoded",
          "[signed_note]") {
  PrivateKey key = fresh_key();
  std::string text = "t\n";
  auto sig = sign_note(text, "k", key);
  REQUIRE(sig);
  SignedNote three{text, std::vector<NoteSignature>(3, *sig)};
  CHECK(parse_note(format_note(three), 3));
  auto r = parse_note(format_note(three), 2);
  CHECK_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("more than 2 signature lines"));
  // The fourth line is not even decoded: garbage there changes nothing.
  std::string wire = format_note(SignedNote{text, std::vector<NoteSignature>(2, *sig)});
  r = parse_note(wire + "not a signature line\n", 2);
  CHECK_THAT(r.reason(), Catch::Contains("more than 2 signature lines"));
  CHECK_FALSE(parse_note(format_note(three), 0));
}

// ---- tlog-cosignature/v1 (c2sp.org/tlog-cosignature) ----

namespace {

// The checkpoint body and time of the spec's example cosignature.
constexpr const char* kSpecBody =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr uint64_t kSpecTime = 1679315147;
// The spec's example signature line of witness.example.com/w1 (its key is
// not published: only the layout and the timestamp can be checked).
constexpr const char* kSpecWitnessLine =
    "\xE2\x80\x94 witness.example.com/w1 "
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
    "qhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
// An independent vector, computed with Python's `cryptography` from the
// spec's text: RFC 8032 test 1 seed, name witness.example.com/w1, the spec's
// body and time. vkey witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea
constexpr const char* kRfc8032Seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr const char* kVectorLine =
    "\xE2\x80\x94 witness.example.com/w1 "
    "fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/"
    "HbuL3AJsp3bv/aNCQ==\n";

PrivateKey rfc8032_key() {
  auto key = PrivateKey::ed25519_from_seed(*hex_decode(kRfc8032Seed));
  REQUIRE(key);
  return *key;
}

NoteSignature only_signature(const std::string& line) {
  auto note = parse_note(std::string(kSpecBody) + "\n" + line);
  REQUIRE(note);
  REQUIRE(note->signatures.size() == 1);
  return note->signatures[0];
}

}  // namespace

TEST_CASE("cosignature/v1: the spec's message layout and example timestamp",
          "[signed_note][cosignature][vectors]") {
  CHECK(cosignature_message(kSpecTime, kSpecBody) ==
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  CHECK(cosignature_message(0, "a\n") == "cosignature/v1\ntime 0\na\n");
  NoteSignature spec = only_signature(kSpecWitnessLine);
  CHECK(hex_encode(ByteView(spec.key_hash)) == "8d66cf3f");
  auto t = cosignature_time(spec);
  REQUIRE(t);
  CHECK(*t == kSpecTime);
}

TEST_CASE("cosignature/v1: an independent vector byte for byte, and it verifies",
          "[signed_note][cosignature][vectors]") {
  PrivateKey key = rfc8032_key();
  NoteVerifier w{"witness.example.com/w1", key.public_key()};
  auto kh = w.cosignature_key_hash();
  REQUIRE(kh);
  CHECK(hex_encode(ByteView(*kh)) == "7e6f4aaa");
  auto sig = sign_cosignature(kSpecBody, w.name, key, kSpecTime);
  REQUIRE(sig);
  CHECK(format_note(SignedNote{kSpecBody, {*sig}}) == std::string(kSpecBody) + "\n" + kVectorLine);
  auto t = verify_cosignature(kSpecBody, only_signature(kVectorLine), w);
  REQUIRE(t);
  CHECK(*t == kSpecTime);
}

TEST_CASE("cosignature/v1: tampered time, signature, text, key type or name is refused",
          "[signed_note][cosignature]") {
  PrivateKey key = fresh_key();
  NoteVerifier v{"node-a.chipledger.dev", key.public_key()};
  const std::string text = "ledger\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  NoteSignature good = *sign_cosignature(text, v.name, key, 1'800'000'000);
  REQUIRE(verify_cosignature(text, good, v));
  CHECK(*verify_cosignature(text, good, v) == 1'800'000'000);
  SECTION("time") {
    for (size_t i = 0; i < 8; ++i) {
      NoteSignature bad = good;
      bad.signature[i] ^= 0x01;
      CHECK_FALSE(verify_cosignature(text, bad, v));
    }
  }
  SECTION("signature bytes") {
    NoteSignature bad = good;
    bad.signature[8 + 10] ^= 0x80;
    CHECK_FALSE(verify_cosignature(text, bad, v));
    bad = good;
    bad.signature.pop_back();
    CHECK_FALSE(verify_cosignature(text, bad, v));
    CHECK_FALSE(cosignature_time(bad));
  }
  SECTION("text") {
    CHECK_FALSE(
        verify_cosignature("ledger\n6\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", good, v));
  }
  SECTION("a plain note signature (type 0x01) is no cosignature, and back") {
    NoteSignature plain = *sign_note(text, v.name, key);
    CHECK_FALSE(verify_cosignature(text, plain, v));
    CHECK_FALSE(verify_note_signature(text, good, v));
    // The right key hash type with a type-0x01 message is refused too.
    NoteSignature mixed = good;
    mixed.key_hash = *v.key_hash();
    CHECK_FALSE(verify_cosignature(text, mixed, v));
  }
  SECTION("name and key") {
    CHECK_FALSE(verify_cosignature(text, good, NoteVerifier{"node-b", key.public_key()}));
    CHECK_FALSE(verify_cosignature(text, good, NoteVerifier{v.name, fresh_key().public_key()}));
  }
  SECTION("times beyond 2^63 - 1") {
    CHECK_FALSE(sign_cosignature(text, v.name, key, kMaxCosignatureTime + 1));
    REQUIRE(sign_cosignature(text, v.name, key, kMaxCosignatureTime));
    NoteSignature bad = good;
    bad.signature[0] = 0x80;
    CHECK_FALSE(cosignature_time(bad));
  }
}
