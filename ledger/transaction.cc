#include "ledger/transaction.h"

#include <array>
#include <set>

#include "ledger/codec.h"

namespace chipledger {
namespace {

constexpr std::array<std::pair<TxType, std::string_view>, 4> kTypeNames{{
    {TxType::register_chips, "register"},
    {TxType::transfer, "transfer"},
    {TxType::accept, "accept"},
    {TxType::reject, "reject"},
}};

constexpr std::string_view kSigningDomain{"chipledger-tx-v1\0", 17};
constexpr std::string_view kTxidDomain{"chipledger-txid-v1\0", 19};

bool serial_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

bool member_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

Status check_text(std::string_view value, const char* what, bool required) {
  if (required && value.empty()) return Status::error(std::string(what) + " is missing");
  if (value.size() > kMaxFieldBytes) {
    return Status::error(std::string(what) + " is longer than " + std::to_string(kMaxFieldBytes) +
                         " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::error(std::string(what) + " contains a control character");
    }
  }
  return Status::ok();
}

Status check_items(const Transaction& tx) {
  auto serials = tx.serials();
  if (serials.empty()) return Status::error("the transaction names no serial");
  if (serials.size() > kMaxSerialsPerTx) {
    return Status::error("the transaction names " + std::to_string(serials.size()) +
                         " serials, over the limit of " + std::to_string(kMaxSerialsPerTx));
  }
  std::set<std::string_view> seen;
  for (const auto& s : serials) {
    CL_TRY(check_serial(s).context("serial '" + s + "'"));
    if (!seen.insert(s).second) return Status::error("serial " + s + " appears twice");
  }
  for (const auto& r : tx.registrations) {
    if (r.device_key.size() > kMaxDeviceKeyBytes) {
      return Status::error("device key of " + r.serial + " is over " +
                           std::to_string(kMaxDeviceKeyBytes) + " bytes");
    }
  }
  return Status::ok();
}

Status check_transaction(const Transaction& tx) {
  CL_TRY(check_text(tx.ledger_id, "ledger id", true));
  CL_TRY(check_member_id(tx.author).context("author"));
  bool is_register = tx.type == TxType::register_chips;
  if (is_register && !tx.refs.empty()) return Status::error("register takes no prev references");
  if (!is_register && !tx.registrations.empty()) {
    return Status::error(std::string(tx_type_name(tx.type)) + " takes no registrations");
  }
  switch (tx.type) {
    case TxType::register_chips:
      CL_TRY(check_text(tx.model, "model", true));
      CL_TRY(check_text(tx.eccn, "export classification (eccn)", false));
      CL_TRY(check_text(tx.fab_site, "fab site", true));
      CL_TRY(check_country(tx.country).context("country"));
      break;
    case TxType::transfer:
      CL_TRY(check_member_id(tx.to).context("recipient"));
      CL_TRY(check_country(tx.ship_to_country).context("ship-to country"));
      break;
    case TxType::reject:
      CL_TRY(check_text(tx.reason, "reason", false));
      break;
    case TxType::accept:
      break;
  }
  return check_items(tx);
}

void write_refs(Writer& w, const std::vector<SerialRef>& refs) {
  w.u32(static_cast<uint32_t>(refs.size()));
  for (const auto& r : refs) w.str(r.serial).hash(r.prev);
}

Status read_refs(Reader& r, std::vector<SerialRef>& refs) {
  auto n = r.count("serial list", kMaxSerialsPerTx);
  if (!n) return n.status();
  refs.resize(*n);
  for (auto& ref : refs) {
    auto serial = r.str("serial", kMaxFieldBytes);
    if (!serial) return serial.status();
    auto prev = r.hash("prev hash");
    if (!prev) return prev.status();
    ref.serial = std::move(*serial);
    ref.prev = *prev;
  }
  return Status::ok();
}

Status read_registrations(Reader& r, std::vector<RegisterItem>& items) {
  auto n = r.count("serial list", kMaxSerialsPerTx);
  if (!n) return n.status();
  items.resize(*n);
  for (auto& item : items) {
    auto serial = r.str("serial", kMaxFieldBytes);
    if (!serial) return serial.status();
    auto key = r.bytes("device key", kMaxDeviceKeyBytes);
    if (!key) return key.status();
    item.serial = std::move(*serial);
    item.device_key = std::move(*key);
  }
  return Status::ok();
}

// Reads one string field into `out`.
Status read_str(Reader& r, const char* what, std::string& out) {
  auto s = r.str(what, kMaxFieldBytes);
  if (!s) return s.status();
  out = std::move(*s);
  return Status::ok();
}

Status read_type_fields(Reader& r, Transaction& tx) {
  switch (tx.type) {
    case TxType::register_chips:
      CL_TRY(read_str(r, "model", tx.model));
      CL_TRY(read_str(r, "eccn", tx.eccn));
      CL_TRY(read_str(r, "fab site", tx.fab_site));
      CL_TRY(read_str(r, "country", tx.country));
      return read_registrations(r, tx.registrations);
    case TxType::transfer:
      CL_TRY(read_str(r, "recipient", tx.to));
      CL_TRY(read_str(r, "ship-to country", tx.ship_to_country));
      return read_refs(r, tx.refs);
    case TxType::reject:
      CL_TRY(read_str(r, "reason", tx.reason));
      return read_refs(r, tx.refs);
    case TxType::accept:
      return read_refs(r, tx.refs);
  }
  return Status::error("unknown transaction type");
}

}  // namespace

std::string_view tx_type_name(TxType t) {
  for (const auto& [type, name] : kTypeNames) {
    if (type == t) return name;
  }
  return "unknown";
}

Result<TxType> tx_type_from_name(std::string_view name) {
  for (const auto& [type, n] : kTypeNames) {
    if (n == name) return type;
  }
  return Result<TxType>::error("unknown transaction type '" + std::string(name) + "'");
}

std::vector<std::string> Transaction::serials() const {
  std::vector<std::string> out;
  out.reserve(registrations.size() + refs.size());
  for (const auto& r : registrations) out.push_back(r.serial);
  for (const auto& r : refs) out.push_back(r.serial);
  return out;
}

Status check_serial(std::string_view serial) {
  if (serial.empty() || serial.size() > 64) return Status::error("a serial is 1 to 64 characters");
  for (char c : serial) {
    if (!serial_char(c)) {
      return Status::error("a serial may only contain letters, digits and . _ : / -");
    }
  }
  return Status::ok();
}

Status check_member_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return Status::error("a member id is 1 to 64 characters");
  for (char c : id) {
    if (!member_char(c)) {
      return Status::error("member id '" + std::string(id) +
                           "' may only contain lower-case letters, digits and . _ -");
    }
  }
  return Status::ok();
}

Status check_country(std::string_view country) {
  bool ok = country.size() == 2 && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' &&
            country[1] <= 'Z';
  if (!ok) {
    return Status::error("'" + std::string(country) +
                         "' is not an ISO 3166-1 alpha-2 country code (two upper-case letters)");
  }
  return Status::ok();
}

Result<Bytes> encode_body(const Transaction& tx) {
  CL_TRY(check_transaction(tx));
  Writer w;
  w.u8(kTxVersion).u8(static_cast<uint8_t>(tx.type));
  w.str(tx.ledger_id).str(tx.author).hash(tx.key_id).u64(tx.time_ms);
  switch (tx.type) {
    case TxType::register_chips:
      w.str(tx.model).str(tx.eccn).str(tx.fab_site).str(tx.country);
      w.u32(static_cast<uint32_t>(tx.registrations.size()));
      for (const auto& item : tx.registrations) w.str(item.serial).bytes(item.device_key);
      break;
    case TxType::transfer:
      w.str(tx.to).str(tx.ship_to_country);
      write_refs(w, tx.refs);
      break;
    case TxType::reject:
      w.str(tx.reason);
      write_refs(w, tx.refs);
      break;
    case TxType::accept:
      write_refs(w, tx.refs);
      break;
  }
  return w.take();
}

Result<Transaction> decode_body(ByteView body) {
  Reader r(body);
  auto version = r.u8("version");
  if (!version) return version.status();
  if (*version != kTxVersion) {
    return Result<Transaction>::error("unsupported transaction version " +
                                      std::to_string(*version));
  }
  auto type = r.u8("type");
  if (!type) return type.status();
  if (*type < 1 || *type > 4) {
    return Result<Transaction>::error("unknown transaction type " + std::to_string(*type));
  }
  Transaction tx;
  tx.type = static_cast<TxType>(*type);
  CL_TRY(read_str(r, "ledger id", tx.ledger_id));
  CL_TRY(read_str(r, "author", tx.author));
  auto key_id = r.hash("key id");
  if (!key_id) return key_id.status();
  tx.key_id = *key_id;
  auto time = r.u64("time");
  if (!time) return time.status();
  tx.time_ms = *time;
  CL_TRY(read_type_fields(r, tx));
  CL_TRY(r.expect_end("the transaction body"));
  CL_TRY(check_transaction(tx));
  return tx;
}

Bytes signing_input(ByteView body) {
  Writer w;
  w.raw(as_bytes(kSigningDomain)).raw(body);
  return w.take();
}

Hash transaction_id(ByteView body) {
  Sha256 h;
  h.update(kTxidDomain).update(body);
  return h.finish();
}

Bytes SignedTransaction::wire() const {
  Writer w;
  w.bytes(body).bytes(signature);
  return w.take();
}

Result<SignedTransaction> SignedTransaction::decode(ByteView wire) {
  Reader r(wire);
  auto body = r.bytes("transaction body", wire.size());
  if (!body) return body.status();
  auto sig = r.bytes("signature", kMaxSignatureBytes);
  if (!sig) return sig.status();
  CL_TRY(r.expect_end("the signature"));
  auto tx = decode_body(*body);
  if (!tx) return tx.status();
  SignedTransaction st{std::move(*tx), std::move(*body), std::move(*sig), {}};
  st.txid = transaction_id(st.body);
  return st;
}

Result<SignedTransaction> sign_transaction(const Transaction& tx, const PrivateKey& key) {
  auto body = encode_body(tx);
  if (!body) return body.status();
  auto sig = key.sign(signing_input(*body));
  if (!sig) return sig.status();
  SignedTransaction st{tx, std::move(*body), std::move(*sig), {}};
  st.txid = transaction_id(st.body);
  return st;
}

}  // namespace chipledger
