// Custody transactions and their canonical encoding (docs/encoding.md).
// A Transaction is what an author signs; a SignedTransaction is the body's
// canonical bytes plus the author's signature, the unit the log stores (one
// leaf each). decode() checks syntax only (well-formed, limits, serial and
// country formats); who may do what is custody_rules' job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/keys.h"
#include "crypto/result.h"
#include "crypto/sha256.h"
#include "ledger/governance_change.h"
#include "ledger/location.h"

namespace chipledger {

enum class TxType : uint8_t {
  register_chips = 1,
  transfer = 2,
  accept = 3,
  reject = 4,
  install = 5,
  attest = 6,
  pack = 7,
  unpack = 8,
  decommission = 9,
  flag = 10,
  clear = 11,
  report = 12,
  license = 13,
  propose = 14,     // governance (docs/governance.md)
  vote = 15,        // governance
  rotate_key = 16,  // a member replaces the key that signs it
  // a node's operator replaces its checkpoint key, endorsed by the old one
  rotate_node_key = 17,
  // landmarks' signed statements of how far each chip can be (docs/location.md)
  locate = 18,
};
inline constexpr uint8_t kMaxTxType = 18;
std::string_view tx_type_name(TxType t);  // "register", "transfer", ...
// license, propose, vote, rotate-key and rotate-node-key name no serial.
bool names_no_serial(TxType t);
// propose, vote, rotate-key and rotate-node-key change the consortium
// (ledger/governance.h).
bool is_governance(TxType t);
Result<TxType> tx_type_from_name(std::string_view name);

inline constexpr uint8_t kTxVersion = 1;
inline constexpr uint32_t kMaxSerialsPerTx = 100000;
inline constexpr size_t kMaxFieldBytes = 256;
inline constexpr size_t kMaxDeviceKeyBytes = 512;
inline constexpr size_t kMaxSignatureBytes = 256;
inline constexpr size_t kMaxStatementsPerSerial = 16;
inline constexpr uint32_t kMaxStatementsPerTx = 16000;
inline constexpr size_t kMaxStatementBytes = 1024;

struct RegisterItem {
  std::string serial;
  Bytes device_key;  // the chip's public key (SubjectPublicKeyInfo DER), may be empty
};

struct SerialRef {
  std::string serial;
  Hash prev{};  // txid of this serial's previous event
};

// An attestation's per-chip signature by the chip's device key over
// attestation_message(...).
struct ChipSignature {
  std::string serial;
  Bytes signature;
};

// What a regulator's export license authorises.
struct LicenseTerms {
  std::string id;  // the license number, unique in the ledger
  std::string exporter;
  std::string recipient;
  std::string model;  // covers chips of this model...
  std::string eccn;   // ...or of this export classification (at least one is set)
  uint64_t quantity = 0;
  std::string destination;  // country
  uint64_t expiry_ms = 0;
  bool operator==(const LicenseTerms&) const = default;
};

struct Transaction {
  TxType type = TxType::register_chips;
  std::string ledger_id;  // binds the transaction to one ledger
  std::string author;     // member id
  Hash key_id{};          // which of the author's keys signed
  uint64_t time_ms = 0;   // the author's clock, Unix milliseconds
  // register (model also names a unit declared by pack)
  std::string model, eccn, fab_site, country;
  std::vector<RegisterItem> registrations;
  // transfer
  std::string to, ship_to_country, license_id;
  // install (site, country) and attest (site)
  std::string site;
  // attest: the checkpoint the chips signed, and their signatures
  uint64_t checkpoint_size = 0;
  Hash checkpoint_root{};
  std::vector<ChipSignature> chip_signatures;
  // pack: the unit (a board or server) the chips in refs go into; unit_prev
  // is the unit's latest event, or all zero to declare a new unit
  std::string unit;
  Hash unit_prev{};
  // report (diverted, tampered, lost, stolen), decommission (destroyed, recycled)
  std::string kind;
  // reject, decommission, flag, clear, report
  std::string reason;
  // license
  LicenseTerms license;
  // propose: the changes, applied together or not at all
  std::vector<GovernanceChange> changes;
  // vote: the proposal approved (the propose transaction's id)
  Hash proposal{};
  // rotate_key: the author's new key (SPKI DER); the signing key retires.
  // rotate_node_key: the node's new checkpoint key (Ed25519 SPKI DER).
  Bytes new_key;
  // rotate_node_key: the node, and its current checkpoint key's signature
  // over node_key_rotation_message(ledger id, node, new key)
  std::string node;
  Bytes node_signature;
  // locate: the landmarks' statements, 1 to kMaxStatementsPerSerial for
  // each serial of refs
  std::vector<LocationStatement> statements;
  // every type but register and license
  std::vector<SerialRef> refs;

  // The serials this transaction names, in order (a pack's unit first).
  std::vector<std::string> serials() const;
};

// What a chip's device key signs in an attestation: domain-separated
// (ledger id, serial, site, checkpoint size, checkpoint root).
Bytes attestation_message(std::string_view ledger_id, std::string_view serial,
                          std::string_view site, uint64_t checkpoint_size, const Hash& root);

// What a node's current checkpoint key signs to endorse its successor in a
// rotate-node-key: domain-separated (ledger id, node id, new key DER).
Bytes node_key_rotation_message(std::string_view ledger_id, std::string_view node,
                                ByteView new_key);

// Canonical body bytes; refuses what decode would refuse.
Result<Bytes> encode_body(const Transaction& tx);
Result<Transaction> decode_body(ByteView body);

// The bytes a signature covers, and the transaction id (what `prev` names):
// both domain-separated hashes of the body, independent of the signature.
Bytes signing_input(ByteView body);
Hash transaction_id(ByteView body);

struct SignedTransaction {
  Transaction tx;
  Bytes body;
  Bytes signature;
  Hash txid{};

  Bytes wire() const;  // u32 len || body || u32 len || signature: the log leaf
  static Result<SignedTransaction> decode(ByteView wire);
  // The transaction id of a signed transaction's wire bytes, checking only
  // their framing as decode() does (u32 len || body || u32 len || signature
  // of at most kMaxSignatureBytes, nothing after), not the body: for events
  // the ledger stored, whose bodies decode() accepted on the way in. No copy.
  static Result<Hash> txid_of_wire(ByteView wire);
  // The type byte of a signed transaction's wire bytes (the body's second
  // byte), read without a decode; nullopt when the wire is too short to
  // hold one. For stored events, whose bodies decode() accepted.
  static std::optional<TxType> type_of_wire(ByteView wire);
};

Result<SignedTransaction> sign_transaction(const Transaction& tx, const PrivateKey& key);

// Syntax checks shared by encoder, decoder and the CLI.
Status check_serial(std::string_view serial);    // 1-64 of [A-Za-z0-9._:/-]
Status check_member_id(std::string_view id);     // 1-64 of [a-z0-9._-]
Status check_country(std::string_view country);  // ISO 3166-1 alpha-2, upper case
// A text field: at most 256 bytes of UTF-8 without control characters.
Status check_field_text(std::string_view value, const char* what, bool required);
inline bool is_zero(const Hash& h) { return h == Hash{}; }

}  // namespace chipledger
