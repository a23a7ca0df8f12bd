#include "ledger/custody_rules.h"

#include <map>
#include <set>

namespace chipledger {
namespace {

std::string short_hash(const Hash& h) { return hex_encode(h).substr(0, 16); }

Status check_time(const Policy& policy, uint64_t tx_time, uint64_t block_time) {
  uint64_t skew = tx_time > block_time ? tx_time - block_time : block_time - tx_time;
  if (skew > policy.max_clock_skew_ms) {
    return Status::error("the transaction's time is " + std::to_string(skew / 1000) +
                         " s away from the ledger's clock; at most " +
                         std::to_string(policy.max_clock_skew_ms / 1000) + " s is allowed");
  }
  return Status::ok();
}

// One transaction's application: the tx-level checks that need the ledger
// state, and the custody engine for every serial the transaction changes.
class Apply {
 public:
  Apply(const Consortium& c, const StateView& state, const SignedTransaction& stx,
        const Member& author, uint64_t block_time, uint64_t log_index)
      : c_(c),
        state_(state),
        stx_(stx),
        tx_(stx.tx),
        author_(author),
        block_time_(block_time),
        log_index_(log_index) {}

  Result<Effects> run();

 private:
  using Before = std::optional<SerialRecord>;
  Result<Before> before(const std::string& serial);
  // The serials the transaction changes, in the order the rules take them:
  // registrations; a pack's unit then its chips; else each named serial
  // followed by the chips packed in it when the event applies to a unit.
  Result<std::vector<std::string>> affected();
  Status check_recent_checkpoint(uint64_t size, const Hash& root, const char* what) const;
  Status check_locate() const;
  Status check_covered() const;
  Status check_packed_not_flagged();
  Status use_license(const std::optional<LicenseRecord>& lic);
  Status do_license();

  const Consortium& c_;
  const StateView& state_;
  const SignedTransaction& stx_;
  const Transaction& tx_;
  const Member& author_;
  uint64_t block_time_;
  uint64_t log_index_;
  std::map<std::string, Before, std::less<>> before_;  // records before the transaction
  std::vector<std::pair<std::string, StepOutcome>> steps_;
  Effects effects_;
};

Result<Apply::Before> Apply::before(const std::string& serial) {
  auto it = before_.find(serial);
  if (it != before_.end()) return it->second;
  auto rec = state_.serial(serial);
  if (!rec) return rec.status();
  before_.emplace(serial, *rec);
  return std::move(*rec);
}

Result<std::vector<std::string>> Apply::affected() {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& s) {
    if (seen.insert(s).second) out.push_back(s);
  };
  if (tx_.type == TxType::register_chips) {
    for (const auto& r : tx_.registrations) add(r.serial);
    return out;
  }
  if (tx_.type == TxType::pack) add(tx_.unit);
  for (const auto& ref : tx_.refs) {
    add(ref.serial);
    if (!applies_to_unit(tx_.type)) continue;
    auto rec = before(ref.serial);
    if (!rec) return rec.status();
    if (rec->has_value()) {
      for (const auto& child : (*rec)->children) add(child);
    }
  }
  return out;
}

Status Apply::check_recent_checkpoint(uint64_t size, const Hash& root, const char* what) const {
  auto cp = state_.checkpoint(size);
  if (!cp) return cp.status();
  if (!cp->has_value() || (*cp)->root != root) {
    return Status::error(std::string("the ") + what +
                         " root is not the ledger's checkpoint at size " + std::to_string(size));
  }
  uint64_t window = c_.policy().attestation_root_window_ms;
  if ((*cp)->time_ms + window < block_time_) {
    return Status::error(std::string("the ") + what + " checkpoint (size " + std::to_string(size) +
                         ") is older than the policy's window of " + std::to_string(window / 1000) +
                         " s; sign a recent checkpoint");
  }
  return Status::ok();
}

// Each statement's checkpoint the ledger's own and recent, and its
// landmark's nonce never recorded before (a replayed statement).
Status Apply::check_locate() const {
  for (const auto& st : tx_.statements) {
    CL_TRY(check_recent_checkpoint(st.checkpoint_size, st.checkpoint_root, "located")
               .context("the statement of landmark " + st.landmark + " for serial " + st.serial));
    auto used = state_.location_nonce_used(st.landmark, st.nonce);
    if (!used) return used.status();
    if (*used) {
      return Status::error("the statement of landmark " + st.landmark + " for serial " + st.serial +
                           " was recorded before (its nonce is used): a replay");
    }
  }
  return Status::ok();
}

// Every chip signature is for a chip the attestation covers: a named chip,
// or a chip packed in a named unit.
Status Apply::check_covered() const {
  std::set<std::string> covered;
  for (const auto& [serial, step] : steps_) {
    if (step.record && step.record->children.empty()) covered.insert(serial);
  }
  for (const auto& s : tx_.chip_signatures) {
    if (!covered.count(s.serial)) {
      return Status::error("chip signature for serial " + s.serial +
                           ", which this attestation does not cover");
    }
  }
  return Status::ok();
}

// Packing into an existing unit moves the chips already in it too: none may
// be flagged (they are not otherwise changed, so their engine steps do not run).
Status Apply::check_packed_not_flagged() {
  if (is_zero(tx_.unit_prev)) return Status::ok();
  auto unit = before(tx_.unit);
  if (!unit) return unit.status();
  if (!unit->has_value()) return Status::ok();
  for (const auto& child : (*unit)->children) {
    auto c = before(child);
    if (!c) return c.status();
    if (c->has_value() && (*c)->flagged) {
      return Status::error("serial " + child + " in unit " + tx_.unit +
                           " is flagged by the regulator (" + (*c)->flag_reason +
                           "); the unit cannot be packed into");
    }
  }
  return Status::ok();
}

// The license a transfer named: the controlled chips that needed it use up
// its quantity (a rejected shipment does not give it back: a license counts
// shipments authorised), and it is listed in each moving serial's history.
Status Apply::use_license(const std::optional<LicenseRecord>& found) {
  if (!found) return Status::ok();
  LicenseRecord lic = *found;
  uint64_t needed = 0;
  for (const auto& [serial, step] : steps_) needed += step.license_needed ? 1 : 0;
  if (needed > 0) {
    if (lic.remaining() < needed) {
      return Status::error("license " + lic.terms.id + " has " + std::to_string(lic.remaining()) +
                           " chip(s) left; the transfer needs " + std::to_string(needed));
    }
    lic.used += needed;
  }
  for (const auto& [serial, step] : steps_) effects_.related.emplace_back(serial, lic.index);
  effects_.licenses.push_back(std::move(lic));
  return Status::ok();
}

Status Apply::do_license() {
  CL_TRY(check_license_issue(c_, tx_));
  auto existing = state_.license(tx_.license.id);
  if (!existing) return existing.status();
  if (existing->has_value()) return Status::error("license " + tx_.license.id + " exists already");
  effects_.licenses.push_back(LicenseRecord{tx_.license, author_.id, 0, log_index_});
  return Status::ok();
}

Result<Effects> Apply::run() {
  if (tx_.type == TxType::license) {
    CL_TRY(do_license());
    return std::move(effects_);
  }
  if (tx_.type == TxType::attest) {
    CL_TRY(check_recent_checkpoint(tx_.checkpoint_size, tx_.checkpoint_root, "attested"));
  }
  if (tx_.type == TxType::locate) CL_TRY(check_locate());
  std::optional<LicenseRecord> license;
  if (tx_.type == TxType::transfer && !tx_.license_id.empty()) {
    auto found = state_.license(tx_.license_id);
    if (!found) return found.status();
    license = std::move(*found);
  }
  EventContext context;
  context.license = license ? &license->terms : nullptr;
  auto serials = affected();
  if (!serials) return serials.status();
  const bool registers = tx_.type == TxType::register_chips;
  for (size_t i = 0; i < serials->size(); ++i) {
    const std::string& serial = (*serials)[i];
    auto rec = before(serial);
    if (!rec) return rec.status();
    // A register's serials are its registrations, in order and distinct
    // (decode refuses a serial named twice): each one's concern is known
    // without concerns_of's scan of them all.
    auto concerns = registers
                        ? std::vector<Concern>{{ConcernKind::registered, "", &tx_.registrations[i]}}
                        : concerns_of(tx_, serial, *rec);
    StepOutcome step = apply_event(c_, serial, *rec, stx_, log_index_, concerns, context);
    if (!step.ok()) return Result<Effects>::error(step.reason);
    steps_.emplace_back(serial, std::move(step));
  }
  if (tx_.type == TxType::attest) CL_TRY(check_covered());
  if (tx_.type == TxType::pack) CL_TRY(check_packed_not_flagged());
  if (tx_.type == TxType::transfer) CL_TRY(use_license(license));
  for (auto& [serial, step] : steps_)
    effects_.serials.emplace_back(serial, std::move(*step.record));
  for (const auto& st : tx_.statements)
    effects_.location_nonces.emplace_back(st.landmark, st.nonce);
  return std::move(effects_);
}

}  // namespace

Status check_author(const Consortium& consortium, const Transaction& tx) {
  const Member* author = consortium.member(tx.author);
  if (!author) return Status::error("unknown member '" + tx.author + "'");
  if (author->suspended) {
    return Status::error("member " + author->id + " is suspended by a governance vote");
  }
  if (!author->key(tx.key_id)) {
    return Status::error("key " + short_hash(tx.key_id) + "… is not a key of member " + author->id);
  }
  return Status::ok();
}

Status check_signature(const Consortium& consortium, const SignedTransaction& stx) {
  const Transaction& tx = stx.tx;
  if (tx.ledger_id != consortium.ledger_id()) {
    return Status::error("the transaction is for ledger '" + tx.ledger_id + "', this is '" +
                         consortium.ledger_id() + "'");
  }
  CL_TRY(check_author(consortium, tx));
  const Member* author = consortium.member(tx.author);
  const PublicKey* key = author->key(tx.key_id);
  if (!key->verify(signing_input(stx.body), stx.signature)) {
    return Status::error("the signature does not verify with " + author->id + "'s key " +
                         short_hash(tx.key_id) + "…");
  }
  return Status::ok();
}

std::string location_nonce_key(std::string_view landmark, const Hash& nonce) {
  std::string key("location-nonce");
  key.push_back('\0');
  key.append(landmark);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  return key;
}

Status check_common_rules(const Consortium& consortium, const StateView& state,
                          const SignedTransaction& stx, uint64_t block_time_ms) {
  CL_TRY(check_author(consortium, stx.tx));
  auto seen = state.find_txid(stx.txid);
  if (!seen) return seen.status();
  if (seen->has_value()) {
    return Status::error("replay: this transaction is already in the ledger at index " +
                         std::to_string(**seen));
  }
  return check_time(consortium.policy(), stx.tx.time_ms, block_time_ms);
}

Result<Effects> apply_rules(const Consortium& consortium, const StateView& state,
                            const SignedTransaction& stx, uint64_t block_time_ms,
                            uint64_t log_index) {
  if (is_governance(stx.tx.type)) {
    return Result<Effects>::error("a governance transaction is not a custody event");
  }
  CL_TRY(check_common_rules(consortium, state, stx, block_time_ms));
  const Member* author = consortium.member(stx.tx.author);
  return Apply(consortium, state, stx, *author, block_time_ms, log_index).run();
}

}  // namespace chipledger
