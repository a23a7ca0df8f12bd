#include "ledger/transaction.h"

#include <array>
#include <map>
#include <optional>
#include <set>

#include "crypto/utf8.h"
#include "ledger/codec.h"

namespace chipledger {
namespace {

constexpr std::array<std::string_view, kMaxTxType + 1> kTypeNames{
    "",           "register",        "transfer", "accept", "reject", "install", "attest",  "pack",
    "unpack",     "decommission",    "flag",     "clear",  "report", "license", "propose", "vote",
    "rotate-key", "rotate-node-key", "locate"};

constexpr std::string_view kSigningDomain{"chipledger-tx-v1\0", 17};
constexpr std::string_view kTxidDomain{"chipledger-txid-v1\0", 19};
constexpr std::string_view kAttestDomain{"chipledger-attest-v1\0", 21};
constexpr std::string_view kNodeKeyRotationDomain{"chipledger-node-key-rotation-v1\0", 32};

const std::set<std::string_view> kReportKinds{"diverted", "tampered", "lost", "stolen"};
const std::set<std::string_view> kDecommissionKinds{"destroyed", "recycled"};

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
  if (!is_valid_utf8(value)) return Status::error(std::string(what) + " is not valid UTF-8");
  return Status::ok();
}

Status check_kind(std::string_view kind, const std::set<std::string_view>& allowed,
                  const char* what) {
  if (allowed.count(kind)) return Status::ok();
  std::string list;
  for (auto k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
  return Status::error(std::string(what) + " '" + std::string(kind) + "' is not one of " + list);
}

// The field groups each type carries (docs/encoding.md), visited in order
// by the encoder and the decoder alike so the two cannot disagree.
// Tx is Transaction (decoding) or const Transaction (encoding).
template <typename V, typename Tx>
Status visit_fields(V& v, Tx& tx) {
  switch (tx.type) {
    case TxType::register_chips:
      CL_TRY(v.str("model", tx.model));
      CL_TRY(v.str("eccn", tx.eccn));
      CL_TRY(v.str("fab site", tx.fab_site));
      CL_TRY(v.str("country", tx.country));
      return v.registrations(tx.registrations);
    case TxType::transfer:
      CL_TRY(v.str("recipient", tx.to));
      CL_TRY(v.str("ship-to country", tx.ship_to_country));
      CL_TRY(v.str("license id", tx.license_id));
      return v.refs(tx.refs);
    case TxType::accept:
    case TxType::unpack:
      return v.refs(tx.refs);
    case TxType::reject:
    case TxType::flag:
    case TxType::clear:
      CL_TRY(v.str("reason", tx.reason));
      return v.refs(tx.refs);
    case TxType::install:
      CL_TRY(v.str("site", tx.site));
      CL_TRY(v.str("country", tx.country));
      return v.refs(tx.refs);
    case TxType::attest:
      CL_TRY(v.str("site", tx.site));
      CL_TRY(v.u64("checkpoint size", tx.checkpoint_size));
      CL_TRY(v.hash("checkpoint root", tx.checkpoint_root));
      CL_TRY(v.refs(tx.refs));
      return v.chip_signatures(tx.chip_signatures);
    case TxType::pack:
      CL_TRY(v.str("unit", tx.unit));
      CL_TRY(v.hash("unit prev", tx.unit_prev));
      CL_TRY(v.str("unit model", tx.model));
      return v.refs(tx.refs);
    case TxType::decommission:
    case TxType::report:
      CL_TRY(v.str("kind", tx.kind));
      CL_TRY(v.str("reason", tx.reason));
      return v.refs(tx.refs);
    case TxType::license:
      CL_TRY(v.str("license id", tx.license.id));
      CL_TRY(v.str("exporter", tx.license.exporter));
      CL_TRY(v.str("recipient", tx.license.recipient));
      CL_TRY(v.str("model", tx.license.model));
      CL_TRY(v.str("eccn", tx.license.eccn));
      CL_TRY(v.u64("quantity", tx.license.quantity));
      CL_TRY(v.str("destination", tx.license.destination));
      return v.u64("expiry", tx.license.expiry_ms);
    case TxType::propose:
      return v.changes(tx.changes);
    case TxType::vote:
      return v.hash("proposal", tx.proposal);
    case TxType::rotate_key:
      return v.key("new key", tx.new_key);
    case TxType::rotate_node_key:
      CL_TRY(v.str("node", tx.node));
      CL_TRY(v.key("new key", tx.new_key));
      return v.key("node signature", tx.node_signature);
    case TxType::locate:
      CL_TRY(v.refs(tx.refs));
      return v.statements(tx.statements);
  }
  return Status::error("unknown transaction type");
}

struct EncodeVisitor {
  Writer& w;
  Status str(const char*, const std::string& s) {
    w.str(s);
    return Status::ok();
  }
  Status u64(const char*, uint64_t v) {
    w.u64(v);
    return Status::ok();
  }
  Status hash(const char*, const Hash& h) {
    w.hash(h);
    return Status::ok();
  }
  Status registrations(const std::vector<RegisterItem>& items) {
    w.u32(static_cast<uint32_t>(items.size()));
    for (const auto& i : items) w.str(i.serial).bytes(i.device_key);
    return Status::ok();
  }
  Status refs(const std::vector<SerialRef>& refs) {
    w.u32(static_cast<uint32_t>(refs.size()));
    for (const auto& r : refs) w.str(r.serial).hash(r.prev);
    return Status::ok();
  }
  Status chip_signatures(const std::vector<ChipSignature>& sigs) {
    w.u32(static_cast<uint32_t>(sigs.size()));
    for (const auto& s : sigs) w.str(s.serial).bytes(s.signature);
    return Status::ok();
  }
  Status changes(const std::vector<GovernanceChange>& changes) {
    w.u32(static_cast<uint32_t>(changes.size()));
    for (const auto& c : changes) encode_change(w, c);
    return Status::ok();
  }
  Status key(const char*, const Bytes& key) {
    w.bytes(key);
    return Status::ok();
  }
  Status statements(const std::vector<LocationStatement>& statements) {
    w.u32(static_cast<uint32_t>(statements.size()));
    for (const auto& st : statements) {
      auto bytes = st.encode();
      if (!bytes) return bytes.status();
      w.bytes(*bytes);
    }
    return Status::ok();
  }
};

struct DecodeVisitor {
  Reader& r;
  Status str(const char* what, std::string& out) {
    auto s = r.str(what, kMaxFieldBytes);
    if (!s) return s.status();
    out = std::move(*s);
    return Status::ok();
  }
  Status u64(const char* what, uint64_t& out) {
    auto v = r.u64(what);
    if (!v) return v.status();
    out = *v;
    return Status::ok();
  }
  Status hash(const char* what, Hash& out) {
    auto h = r.hash(what);
    if (!h) return h.status();
    out = *h;
    return Status::ok();
  }
  Status bytes(const char* what, size_t max, Bytes& out) {
    auto b = r.bytes(what, max);
    if (!b) return b.status();
    out = std::move(*b);
    return Status::ok();
  }
  template <typename T, typename F>
  Status list(std::vector<T>& out, F read_one) {
    auto n = r.count("serial list", kMaxSerialsPerTx);
    if (!n) return n.status();
    out.resize(*n);
    for (auto& item : out) CL_TRY(read_one(item));
    return Status::ok();
  }
  Status registrations(std::vector<RegisterItem>& items) {
    return list(items, [&](RegisterItem& i) {
      CL_TRY(str("serial", i.serial));
      return bytes("device key", kMaxDeviceKeyBytes, i.device_key);
    });
  }
  Status refs(std::vector<SerialRef>& refs) {
    return list(refs, [&](SerialRef& ref) {
      CL_TRY(str("serial", ref.serial));
      return hash("prev hash", ref.prev);
    });
  }
  Status chip_signatures(std::vector<ChipSignature>& sigs) {
    return list(sigs, [&](ChipSignature& s) {
      CL_TRY(str("serial", s.serial));
      return bytes("chip signature", kMaxSignatureBytes, s.signature);
    });
  }
  Status changes(std::vector<GovernanceChange>& changes) {
    auto n = r.count("changes", kMaxChangesPerProposal);
    if (!n) return n.status();
    for (uint32_t i = 0; i < *n; ++i) {
      auto c = decode_change(r);
      if (!c) return c.status().context("change " + std::to_string(i + 1));
      changes.push_back(std::move(*c));
    }
    return Status::ok();
  }
  Status key(const char* what, Bytes& out) { return bytes(what, kMaxDeviceKeyBytes, out); }
  Status statements(std::vector<LocationStatement>& out) {
    auto n = r.count("statements", kMaxStatementsPerTx);
    if (!n) return n.status();
    for (uint32_t i = 0; i < *n; ++i) {  // no reserve: the count is the sender's word
      Bytes b;
      CL_TRY(bytes("statement", kMaxStatementBytes, b));
      auto st = LocationStatement::decode(b);
      if (!st) return st.status().context("statement " + std::to_string(i + 1));
      out.push_back(std::move(*st));
    }
    return Status::ok();
  }
};

Status check_serials(const Transaction& tx) {
  auto serials = tx.serials();
  if (names_no_serial(tx.type)) {
    return serials.empty() ? Status::ok()
                           : Status::error("a " + std::string(tx_type_name(tx.type)) +
                                           " transaction names no serials");
  }
  if (tx.type != TxType::register_chips && !tx.registrations.empty()) {
    return Status::error(std::string(tx_type_name(tx.type)) + " takes no registrations");
  }
  if (tx.type == TxType::register_chips && !tx.refs.empty()) {
    return Status::error("register takes no prev references");
  }
  if (tx.refs.empty() && tx.registrations.empty()) {
    return Status::error("the transaction names no serial");
  }
  if (serials.size() > kMaxSerialsPerTx) {
    return Status::error("the transaction names " + std::to_string(serials.size()) +
                         " serials, over the limit of " + std::to_string(kMaxSerialsPerTx));
  }
  std::set<std::string_view> seen;
  for (const auto& s : serials) {
    CL_TRY(check_serial(s).context("serial '" + s + "'"));
    if (!seen.insert(s).second) return Status::error("serial " + s + " appears twice");
  }
  return Status::ok();
}

Status check_license_terms(const LicenseTerms& l) {
  CL_TRY(check_text(l.id, "license id", true));
  CL_TRY(check_member_id(l.exporter).context("exporter"));
  CL_TRY(check_member_id(l.recipient).context("recipient"));
  CL_TRY(check_text(l.model, "model", false));
  CL_TRY(check_text(l.eccn, "eccn", false));
  if (l.model.empty() && l.eccn.empty()) {
    return Status::error("a license covers a model or an export classification (eccn)");
  }
  if (l.quantity == 0) return Status::error("a license's quantity must be at least 1");
  return check_country(l.destination).context("destination");
}

Status check_attest(const Transaction& tx) {
  CL_TRY(check_text(tx.site, "site", true));
  if (tx.chip_signatures.empty()) return Status::error("an attestation carries chip signatures");
  std::set<std::string_view> seen;
  for (const auto& s : tx.chip_signatures) {
    CL_TRY(check_serial(s.serial).context("chip signature"));
    if (!seen.insert(s.serial).second) {
      return Status::error("two chip signatures for serial " + s.serial);
    }
  }
  return Status::ok();
}

// Each statement for this ledger and a serial of the refs, 1 to
// kMaxStatementsPerSerial of them per serial, no (landmark, nonce) twice.
Status check_locate(const Transaction& tx) {
  if (tx.statements.size() > kMaxStatementsPerTx) {
    return Status::error("a locate carries at most " + std::to_string(kMaxStatementsPerTx) +
                         " statements");
  }
  std::map<std::string_view, size_t> per_serial;
  for (const auto& ref : tx.refs) per_serial[ref.serial] = 0;
  std::set<std::pair<std::string_view, Hash>> nonces;
  for (const auto& st : tx.statements) {
    if (st.ledger_id != tx.ledger_id) {
      return Status::error("a statement of landmark " + st.landmark + " is for ledger '" +
                           st.ledger_id + "', not this one");
    }
    auto it = per_serial.find(st.serial);
    if (it == per_serial.end()) {
      return Status::error("a statement is for serial " + st.serial +
                           ", which this locate does not name");
    }
    if (++it->second > kMaxStatementsPerSerial) {
      return Status::error("more than " + std::to_string(kMaxStatementsPerSerial) +
                           " statements for serial " + st.serial);
    }
    if (!nonces.insert({st.landmark, st.nonce}).second) {
      return Status::error("two statements of landmark " + st.landmark + " with one nonce");
    }
  }
  for (const auto& [serial, n] : per_serial) {
    if (n == 0) return Status::error("no statement for serial " + std::string(serial));
  }
  return Status::ok();
}

Status check_type_fields(const Transaction& tx) {
  if (tx.type != TxType::locate && !tx.statements.empty()) {
    return Status::error("only a locate carries location statements");
  }
  switch (tx.type) {
    case TxType::register_chips:
      CL_TRY(check_text(tx.model, "model", true));
      CL_TRY(check_text(tx.eccn, "export classification (eccn)", false));
      CL_TRY(check_text(tx.fab_site, "fab site", true));
      return check_country(tx.country).context("country");
    case TxType::transfer:
      CL_TRY(check_member_id(tx.to).context("recipient"));
      CL_TRY(check_text(tx.license_id, "license id", false));
      return check_country(tx.ship_to_country).context("ship-to country");
    case TxType::install:
      CL_TRY(check_text(tx.site, "site", true));
      return check_country(tx.country).context("country");
    case TxType::attest:
      return check_attest(tx);
    case TxType::pack:
      CL_TRY(check_serial(tx.unit).context("unit"));
      if (is_zero(tx.unit_prev)) return check_text(tx.model, "unit model", true);
      return check_text(tx.model, "unit model", false);
    case TxType::decommission:
      CL_TRY(check_kind(tx.kind, kDecommissionKinds, "decommission kind"));
      return check_text(tx.reason, "reason", false);
    case TxType::report:
      CL_TRY(check_kind(tx.kind, kReportKinds, "report kind"));
      return check_text(tx.reason, "reason", true);
    case TxType::flag:
    case TxType::clear:
      return check_text(tx.reason, "reason", true);
    case TxType::reject:
      return check_text(tx.reason, "reason", false);
    case TxType::license:
      return check_license_terms(tx.license);
    case TxType::propose:
      if (tx.changes.empty() || tx.changes.size() > kMaxChangesPerProposal) {
        return Status::error("a proposal makes 1 to " + std::to_string(kMaxChangesPerProposal) +
                             " changes");
      }
      for (size_t i = 0; i < tx.changes.size(); ++i) {
        CL_TRY(check_change(tx.changes[i]).context("change " + std::to_string(i + 1)));
      }
      return Status::ok();
    case TxType::vote:
      if (is_zero(tx.proposal)) return Status::error("a vote names its proposal");
      return Status::ok();
    case TxType::rotate_key: {
      auto key = PublicKey::from_der(tx.new_key);
      if (!key) return key.status().context("new key");
      if (key->der() != tx.new_key) {
        return Status::error("new key: not the canonical SubjectPublicKeyInfo DER");
      }
      if (key->algorithm() == KeyAlgorithm::ecdsa_p384) {
        return Status::error("new key: a member key is Ed25519 or ECDSA P-256");
      }
      if (key->key_id() == tx.key_id) return Status::error("new key: the same as the signing key");
      return Status::ok();
    }
    case TxType::rotate_node_key: {
      CL_TRY(check_member_id(tx.node).context("node"));
      auto key = PublicKey::from_der(tx.new_key);
      if (!key) return key.status().context("new node key");
      if (key->der() != tx.new_key || key->algorithm() != KeyAlgorithm::ed25519) {
        return Status::error("new node key: an Ed25519 key, canonical SubjectPublicKeyInfo DER");
      }
      if (tx.node_signature.size() != 64) {
        return Status::error("node signature: an Ed25519 signature is 64 bytes");
      }
      return Status::ok();
    }
    case TxType::locate:
      return check_locate(tx);
    case TxType::accept:
    case TxType::unpack:
      return Status::ok();
  }
  return Status::error("unknown transaction type");
}

Status check_transaction(const Transaction& tx) {
  CL_TRY(check_text(tx.ledger_id, "ledger id", true));
  CL_TRY(check_member_id(tx.author).context("author"));
  CL_TRY(check_type_fields(tx));
  return check_serials(tx);
}

}  // namespace

Status check_field_text(std::string_view value, const char* what, bool required) {
  return check_text(value, what, required);
}

bool names_no_serial(TxType t) {
  return t == TxType::license || t == TxType::propose || t == TxType::vote ||
         t == TxType::rotate_key || t == TxType::rotate_node_key;
}

bool is_governance(TxType t) {
  return t == TxType::propose || t == TxType::vote || t == TxType::rotate_key ||
         t == TxType::rotate_node_key;
}

std::string_view tx_type_name(TxType t) {
  auto i = static_cast<size_t>(t);
  return i >= 1 && i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

Result<TxType> tx_type_from_name(std::string_view name) {
  for (size_t i = 1; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<TxType>(i);
  }
  return Result<TxType>::error("unknown transaction type '" + std::string(name) + "'");
}

std::vector<std::string> Transaction::serials() const {
  std::vector<std::string> out;
  out.reserve(registrations.size() + refs.size() + 1);
  if (type == TxType::pack) out.push_back(unit);
  for (const auto& r : registrations) out.push_back(r.serial);
  for (const auto& r : refs) out.push_back(r.serial);
  return out;
}

Bytes node_key_rotation_message(std::string_view ledger_id, std::string_view node,
                                ByteView new_key) {
  Writer w;
  w.raw(as_bytes(kNodeKeyRotationDomain))
      .str(ledger_id)
      .str(node)
      .bytes(Bytes(new_key.begin(), new_key.end()));
  return w.take();
}

Bytes attestation_message(std::string_view ledger_id, std::string_view serial,
                          std::string_view site, uint64_t checkpoint_size, const Hash& root) {
  Writer w;
  w.raw(as_bytes(kAttestDomain)).str(ledger_id).str(serial).str(site).u64(checkpoint_size);
  w.hash(root);
  return w.take();
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
  EncodeVisitor v{w};
  CL_TRY(visit_fields(v, tx));
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
  if (*type < 1 || *type > kMaxTxType) {
    return Result<Transaction>::error("unknown transaction type " + std::to_string(*type));
  }
  Transaction tx;
  tx.type = static_cast<TxType>(*type);
  DecodeVisitor v{r};
  CL_TRY(v.str("ledger id", tx.ledger_id));
  CL_TRY(v.str("author", tx.author));
  CL_TRY(v.hash("key id", tx.key_id));
  CL_TRY(v.u64("time", tx.time_ms));
  CL_TRY(visit_fields(v, tx));
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

Result<Hash> SignedTransaction::txid_of_wire(ByteView wire) {
  auto u32_at = [&](size_t pos) -> std::optional<uint32_t> {
    if (wire.size() < 4 || pos > wire.size() - 4) return std::nullopt;
    return (uint32_t{wire[pos]} << 24) | (uint32_t{wire[pos + 1]} << 16) |
           (uint32_t{wire[pos + 2]} << 8) | uint32_t{wire[pos + 3]};
  };
  auto body_len = u32_at(0);
  if (!body_len || *body_len > wire.size() - 4) {
    return Result<Hash>::error("truncated reading transaction body");
  }
  const size_t sig_at = 4 + size_t{*body_len};
  auto sig_len = u32_at(sig_at);
  if (!sig_len || *sig_len > kMaxSignatureBytes || *sig_len > wire.size() - sig_at - 4) {
    return Result<Hash>::error("malformed signature field");
  }
  if (sig_at + 4 + *sig_len != wire.size()) {
    return Result<Hash>::error("trailing bytes after the signature");
  }
  return transaction_id(wire.subspan(4, *body_len));
}

std::optional<TxType> SignedTransaction::type_of_wire(ByteView wire) {
  // u32 body length, then the body: version byte, type byte.
  if (wire.size() < 6) return std::nullopt;
  return static_cast<TxType>(wire[5]);
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
