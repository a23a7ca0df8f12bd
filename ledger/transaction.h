// Custody transactions and their canonical encoding (docs/encoding.md).
// A Transaction is what an author signs; a SignedTransaction is the body's
// canonical bytes plus the author's signature, the unit the log stores (one
// leaf each). decode() checks syntax only (well-formed, limits, serial and
// country formats); who may do what is custody_rules' job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/keys.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

enum class TxType : uint8_t {
  register_chips = 1,
  transfer = 2,
  accept = 3,
  reject = 4,
};
std::string_view tx_type_name(TxType t);  // "register", "transfer", ...
Result<TxType> tx_type_from_name(std::string_view name);

inline constexpr uint8_t kTxVersion = 1;
inline constexpr uint32_t kMaxSerialsPerTx = 100000;
inline constexpr size_t kMaxFieldBytes = 256;
inline constexpr size_t kMaxDeviceKeyBytes = 512;
inline constexpr size_t kMaxSignatureBytes = 256;

struct RegisterItem {
  std::string serial;
  Bytes device_key;  // the chip's public key (SubjectPublicKeyInfo DER), may be empty
};

struct SerialRef {
  std::string serial;
  Hash prev{};  // txid of this serial's previous event
};

struct Transaction {
  TxType type = TxType::register_chips;
  std::string ledger_id;  // binds the transaction to one ledger
  std::string author;     // member id
  Hash key_id{};          // which of the author's keys signed
  uint64_t time_ms = 0;   // the author's clock, Unix milliseconds
  // register
  std::string model, eccn, fab_site, country;
  std::vector<RegisterItem> registrations;
  // transfer
  std::string to, ship_to_country;
  // reject
  std::string reason;
  // transfer, accept, reject
  std::vector<SerialRef> refs;

  // The serials this transaction touches, in order.
  std::vector<std::string> serials() const;
};

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
};

Result<SignedTransaction> sign_transaction(const Transaction& tx, const PrivateKey& key);

// Syntax checks shared by encoder, decoder and the CLI.
Status check_serial(std::string_view serial);    // 1-64 of [A-Za-z0-9._:/-]
Status check_member_id(std::string_view id);     // 1-64 of [a-z0-9._-]
Status check_country(std::string_view country);  // ISO 3166-1 alpha-2, upper case

}  // namespace chipledger
