#include "ledger/custody_rules.h"

#include <functional>
#include <map>
#include <set>

namespace chipledger {
namespace {

std::string short_hash(const Hash& h) { return hex_encode(h).substr(0, 16); }

std::string roles_of(const Member& m) {
  std::string out;
  for (Role r : m.roles) out += (out.empty() ? "" : ", ") + std::string(role_name(r));
  return out;
}

Status check_time(const Policy& policy, uint64_t tx_time, uint64_t block_time) {
  uint64_t skew = tx_time > block_time ? tx_time - block_time : block_time - tx_time;
  if (skew > policy.max_clock_skew_ms) {
    return Status::error("the transaction's time is " + std::to_string(skew / 1000) +
                         " s away from the ledger's clock; at most " +
                         std::to_string(policy.max_clock_skew_ms / 1000) + " s is allowed");
  }
  return Status::ok();
}

// One transaction's application: the records it has read and changed so far
// (a working copy over the state), and the rules as small steps over them.
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
  using Records = std::map<std::string, SerialRecord, std::less<>>;

  // Loads a serial into the working copy; refuses unregistered serials.
  Result<SerialRecord*> load(const std::string& serial);
  // Loads a named serial and checks what every event needs: it is
  // registered, not decommissioned, and `prev` is its latest event.
  Result<SerialRecord*> named(const SerialRef& ref);
  Status require_role(Role role, const char* action) const;
  Status not_packed(const std::string& serial, const SerialRecord& rec) const;
  Status held_by_author(const std::string& serial, const SerialRecord& rec) const;
  // The serial and every serial packed in it must not be flagged.
  Status not_flagged(const std::string& serial, const SerialRecord& rec, const char* action);
  // Calls fn on the record of `serial` and of every serial packed in it.
  Status for_unit(const std::string& serial, const std::function<void(SerialRecord&)>& fn);
  // A custody move (transfer, install, pack...) of a named serial by its holder.
  Result<SerialRecord*> movable(const SerialRef& ref, const char* action);

  Status do_register();
  Status do_transfer();
  Status check_export_license(const std::vector<std::string>& serials, const Member& to);
  Status do_answer(bool accept);
  Status do_install();
  Status do_attest();
  Status check_attest_checkpoint();
  Status check_chip_signature(const std::string& chip, const SerialRecord& rec,
                              std::set<std::string>& covered);
  Status do_pack();
  Status do_unpack();
  Status do_decommission();
  Status do_flag(bool flag);
  Status do_report();
  Status do_license();

  const Consortium& c_;
  const StateView& state_;
  const SignedTransaction& stx_;
  const Transaction& tx_;
  const Member& author_;
  uint64_t block_time_;
  uint64_t log_index_;
  Records records_;                // read or changed so far
  std::set<std::string> changed_;  // the serials this transaction changes
  Effects effects_;
};

Result<SerialRecord*> Apply::load(const std::string& serial) {
  auto it = records_.find(serial);
  if (it != records_.end()) return &it->second;
  auto rec = state_.serial(serial);
  if (!rec) return rec.status();
  if (!rec->has_value()) {
    return Result<SerialRecord*>::error("serial " + serial + " is not registered");
  }
  return &records_.emplace(serial, std::move(**rec)).first->second;
}

Result<SerialRecord*> Apply::named(const SerialRef& ref) {
  auto rec = load(ref.serial);
  if (!rec) return rec;
  const SerialRecord& r = **rec;
  if (r.status == CustodyStatus::decommissioned) {
    return Result<SerialRecord*>::error("serial " + ref.serial +
                                        " was decommissioned; nothing may follow");
  }
  if (r.last_event != ref.prev) {
    return Result<SerialRecord*>::error("stale prev for serial " + ref.serial +
                                        ": its latest event is " + short_hash(r.last_event) +
                                        "…, the transaction names " + short_hash(ref.prev) + "…");
  }
  changed_.insert(ref.serial);
  return rec;
}

Status Apply::require_role(Role role, const char* action) const {
  if (author_.has_role(role)) return Status::ok();
  return Status::error(std::string("only a ") + std::string(role_name(role)) + " may " + action +
                       "; " + author_.id + " is " + roles_of(author_));
}

Status Apply::not_packed(const std::string& serial, const SerialRecord& rec) const {
  if (rec.parent.empty()) return Status::ok();
  return Status::error("serial " + serial + " is packed in unit " + rec.parent +
                       "; act on the unit, or unpack it first");
}

Status Apply::held_by_author(const std::string& serial, const SerialRecord& rec) const {
  if (rec.status == CustodyStatus::in_transit) {
    return Status::error("serial " + serial + " is in transit to " + rec.pending_to +
                         "; it cannot move until " + rec.pending_to + " accepts or rejects it");
  }
  if (rec.holder != author_.id) {
    return Status::error("serial " + serial + " is held by " + rec.holder + ", not by " +
                         author_.id + "; only the holder may " +
                         std::string(tx_type_name(tx_.type)) + " it");
  }
  return Status::ok();
}

Status Apply::not_flagged(const std::string& serial, const SerialRecord& rec, const char* action) {
  if (rec.flagged) {
    return Status::error("serial " + serial + " is flagged by the regulator (" + rec.flag_reason +
                         "); it cannot be " + action);
  }
  for (const auto& child : rec.children) {
    auto c = load(child);
    if (!c) return c.status();
    if ((*c)->flagged) {
      return Status::error("serial " + child + " in unit " + serial +
                           " is flagged by the regulator (" + (*c)->flag_reason +
                           "); the unit cannot be " + action);
    }
  }
  return Status::ok();
}

Status Apply::for_unit(const std::string& serial, const std::function<void(SerialRecord&)>& fn) {
  auto rec = load(serial);
  if (!rec) return rec.status();
  std::vector<std::string> children = (*rec)->children;
  changed_.insert(serial);
  fn(**rec);
  for (const auto& child : children) {
    auto c = load(child);
    if (!c) return c.status();
    changed_.insert(child);
    fn(**c);
  }
  return Status::ok();
}

Result<SerialRecord*> Apply::movable(const SerialRef& ref, const char* action) {
  auto rec = named(ref);
  if (!rec) return rec;
  CL_TRY(not_packed(ref.serial, **rec));
  CL_TRY(held_by_author(ref.serial, **rec));
  CL_TRY(not_flagged(ref.serial, **rec, action));
  return rec;
}

Status Apply::do_register() {
  CL_TRY(require_role(Role::manufacturer, "register chips"));
  for (const auto& item : tx_.registrations) {
    auto existing = state_.serial(item.serial);
    if (!existing) return existing.status();
    if (existing->has_value()) {
      return Status::error("serial " + item.serial + " is already registered (by " +
                           (*existing)->manufacturer + ")");
    }
    if (!item.device_key.empty()) {
      auto key = PublicKey::from_der(item.device_key);
      if (!key) return key.status().context("device key of serial " + item.serial);
    }
    SerialRecord rec;
    rec.holder = rec.manufacturer = author_.id;
    rec.model = tx_.model;
    rec.eccn = tx_.eccn;
    rec.origin_country = rec.location_country = tx_.country;
    rec.device_key = item.device_key;
    records_[item.serial] = std::move(rec);
    changed_.insert(item.serial);
  }
  return Status::ok();
}

Status Apply::do_transfer() {
  const Member* to = c_.member(tx_.to);
  if (!to) return Status::error("unknown recipient '" + tx_.to + "'");
  if (!to->can_hold_custody()) {
    return Status::error("recipient " + to->id + " (" + roles_of(*to) +
                         ") cannot hold custody of chips");
  }
  if (to->id == author_.id) return Status::error("a member cannot transfer chips to itself");
  std::vector<std::string> moving;
  for (const auto& ref : tx_.refs) {
    auto rec = movable(ref, "transferred");
    if (!rec) return rec.status();
    moving.push_back(ref.serial);
    for (const auto& child : (*rec)->children) moving.push_back(child);
  }
  CL_TRY(check_export_license(moving, *to));
  for (const auto& ref : tx_.refs) {
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& r) {
      r.status = CustodyStatus::in_transit;
      r.pending_to = tx_.to;
      r.pending_ship_to = tx_.ship_to_country;
      r.pending_license = tx_.license_id;
      r.pending_kind = transfer_kind(r.origin_country, r.location_country, tx_.ship_to_country);
      r.transit_since_ms = block_time_;
      r.installed = false;
      r.site.clear();
    }));
  }
  return Status::ok();
}

// A controlled chip going to a restricted destination (the ship-to country
// or the recipient's country) needs a matching, unexpired license with
// enough quantity left; the transfer uses it up.
Status Apply::check_export_license(const std::vector<std::string>& serials, const Member& to) {
  const Policy& p = c_.policy();
  std::vector<std::string> controlled;
  for (const auto& s : serials) {
    if (p.is_controlled(records_.at(s).model, records_.at(s).eccn)) controlled.push_back(s);
  }
  std::string dest = p.is_restricted(tx_.ship_to_country) ? tx_.ship_to_country : to.country;
  bool needed = !controlled.empty() && p.is_restricted(dest);
  if (!needed && tx_.license_id.empty()) return Status::ok();
  if (needed && tx_.license_id.empty()) {
    return Status::error("a transfer of " + std::to_string(controlled.size()) +
                         " controlled chip(s) (" + records_.at(controlled[0]).model + ", " +
                         records_.at(controlled[0]).eccn + ") to " + dest +
                         ", a restricted destination, needs an export license; none was named");
  }
  auto found = state_.license(tx_.license_id);
  if (!found) return found.status();
  if (!found->has_value()) return Status::error("unknown license '" + tx_.license_id + "'");
  LicenseRecord lic = std::move(**found);
  const std::string where = "license " + lic.terms.id;
  if (lic.terms.exporter != author_.id) {
    return Status::error(where + " authorises " + lic.terms.exporter + " to export, not " +
                         author_.id);
  }
  if (lic.terms.recipient != to.id) {
    return Status::error(where + " is for recipient " + lic.terms.recipient + ", not " + to.id);
  }
  if (needed && lic.terms.destination != dest) {
    return Status::error(where + " is for destination " + lic.terms.destination + ", not " + dest);
  }
  if (lic.terms.expiry_ms <= block_time_) return Status::error(where + " has expired");
  for (const auto& s : controlled) {
    const SerialRecord& r = records_.at(s);
    bool covered = (!lic.terms.model.empty() && lic.terms.model == r.model) ||
                   (!lic.terms.eccn.empty() && lic.terms.eccn == r.eccn);
    if (!covered)
      return Status::error(where + " does not cover serial " + s + " (" + r.model + ")");
  }
  if (needed) {
    if (lic.remaining() < controlled.size()) {
      return Status::error(where + " has " + std::to_string(lic.remaining()) +
                           " chip(s) left; the transfer needs " +
                           std::to_string(controlled.size()));
    }
    lic.used += controlled.size();
  }
  for (const auto& s : serials) effects_.related.emplace_back(s, lic.index);
  effects_.licenses.push_back(std::move(lic));
  return Status::ok();
}

// accept (custody passes to the recipient) or reject (custody returns to the
// sender; license quantity a rejected transfer used stays used: a license
// counts shipments authorised, and the regulator can issue another).
Status Apply::do_answer(bool accept) {
  const char* verb = accept ? "accept" : "reject";
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    SerialRecord& r = **rec;
    CL_TRY(not_packed(ref.serial, r));
    if (r.status != CustodyStatus::in_transit) {
      return Status::error("serial " + ref.serial + " is not in transit; there is nothing to " +
                           verb);
    }
    if (r.pending_to != author_.id) {
      return Status::error("serial " + ref.serial + " is in transit to " + r.pending_to +
                           ", not to " + author_.id + "; only the named recipient may " + verb +
                           " it");
    }
    if (accept) CL_TRY(not_flagged(ref.serial, r, "accepted"));
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& s) {
      if (accept) {
        s.holder = s.pending_to;
        s.location_country = s.pending_ship_to;
      }
      s.status = CustodyStatus::held;
      s.pending_to.clear();
      s.pending_ship_to.clear();
      s.pending_license.clear();
      s.pending_kind.clear();
      s.transit_since_ms = 0;
    }));
  }
  return Status::ok();
}

Status Apply::do_install() {
  CL_TRY(require_role(Role::operator_, "record an installation"));
  for (const auto& ref : tx_.refs) {
    auto rec = movable(ref, "installed");
    if (!rec) return rec.status();
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& r) {
      r.installed = true;
      r.site = tx_.site;
      r.location_country = tx_.country;
    }));
  }
  return Status::ok();
}

Status Apply::check_attest_checkpoint() {
  auto cp = state_.checkpoint(tx_.checkpoint_size);
  if (!cp) return cp.status();
  if (!cp->has_value() || (*cp)->root != tx_.checkpoint_root) {
    return Status::error("the attested root is not the ledger's checkpoint at size " +
                         std::to_string(tx_.checkpoint_size));
  }
  uint64_t window = c_.policy().attestation_root_window_ms;
  if ((*cp)->time_ms + window < block_time_) {
    return Status::error("the attested checkpoint (size " + std::to_string(tx_.checkpoint_size) +
                         ") is older than the policy's window of " + std::to_string(window / 1000) +
                         " s; sign a recent checkpoint");
  }
  return Status::ok();
}

Status Apply::check_chip_signature(const std::string& chip, const SerialRecord& rec,
                                   std::set<std::string>& covered) {
  if (rec.device_key.empty()) {
    return Status::error("serial " + chip + " has no device key; it cannot attest");
  }
  const ChipSignature* sig = nullptr;
  for (const auto& s : tx_.chip_signatures) {
    if (s.serial == chip) sig = &s;
  }
  if (!sig) return Status::error("the attestation has no chip signature for serial " + chip);
  auto key = PublicKey::from_der(rec.device_key);
  if (!key) return key.status().context("device key of " + chip);
  Bytes msg =
      attestation_message(c_.ledger_id(), chip, tx_.site, tx_.checkpoint_size, tx_.checkpoint_root);
  if (!key->verify(msg, sig->signature)) {
    return Status::error("the chip signature of serial " + chip +
                         " does not verify with its device key");
  }
  covered.insert(chip);
  return Status::ok();
}

Status Apply::do_attest() {
  CL_TRY(check_attest_checkpoint());
  std::set<std::string> covered;
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    CL_TRY(not_packed(ref.serial, **rec));
    CL_TRY(held_by_author(ref.serial, **rec));
    if (!(*rec)->installed || (*rec)->site != tx_.site) {
      return Status::error("serial " + ref.serial + " is not installed at site " + tx_.site);
    }
    std::vector<std::string> chips = (*rec)->children;
    if (chips.empty()) chips.push_back(ref.serial);
    for (const auto& chip : chips) {
      auto c = load(chip);
      if (!c) return c.status();
      CL_TRY(check_chip_signature(chip, **c, covered));
    }
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& r) { r.last_attest_ms = tx_.time_ms; }));
  }
  for (const auto& s : tx_.chip_signatures) {
    if (!covered.count(s.serial)) {
      return Status::error("chip signature for serial " + s.serial +
                           ", which this attestation does not cover");
    }
  }
  return Status::ok();
}

Status Apply::do_pack() {
  SerialRecord* unit = nullptr;
  if (is_zero(tx_.unit_prev)) {
    auto existing = state_.serial(tx_.unit);
    if (!existing) return existing.status();
    if (existing->has_value()) {
      return Status::error("unit " + tx_.unit +
                           " exists already; name its latest event as the unit's prev");
    }
    SerialRecord rec;
    rec.holder = rec.manufacturer = author_.id;
    rec.model = tx_.model;
    rec.origin_country = rec.location_country = author_.country;
    unit = &(records_[tx_.unit] = std::move(rec));
    changed_.insert(tx_.unit);
  } else {
    auto rec = movable(SerialRef{tx_.unit, tx_.unit_prev}, "packed into");
    if (!rec) return rec.status();
    unit = *rec;
  }
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    SerialRecord& r = **rec;
    if (!r.parent.empty()) {
      return Status::error("serial " + ref.serial + " is already packed in unit " + r.parent);
    }
    if (!r.children.empty()) {
      return Status::error("serial " + ref.serial +
                           " is a unit with packed serials; units do not nest");
    }
    CL_TRY(held_by_author(ref.serial, r));
    CL_TRY(not_flagged(ref.serial, r, "packed"));
    if (r.installed) {
      return Status::error("serial " + ref.serial + " is installed at " + r.site +
                           "; it cannot be packed");
    }
    r.parent = tx_.unit;
    unit->children.push_back(ref.serial);
  }
  if (!unit->parent.empty()) {
    return Status::error("unit " + tx_.unit + " is itself packed in " + unit->parent);
  }
  return Status::ok();
}

Status Apply::do_unpack() {
  for (const auto& ref : tx_.refs) {
    auto rec = movable(ref, "unpacked");
    if (!rec) return rec.status();
    SerialRecord& unit = **rec;
    if (unit.children.empty()) {
      return Status::error("serial " + ref.serial + " has no packed serials to unpack");
    }
    for (const auto& child : unit.children) {
      auto c = load(child);
      if (!c) return c.status();
      (*c)->parent.clear();
      changed_.insert(child);
    }
    unit.children.clear();
  }
  return Status::ok();
}

Status Apply::do_decommission() {
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    SerialRecord& r = **rec;
    CL_TRY(not_packed(ref.serial, r));
    CL_TRY(held_by_author(ref.serial, r));
    if (!r.children.empty()) {
      return Status::error("unit " + ref.serial + " still holds packed serials; unpack it first");
    }
    r.status = CustodyStatus::decommissioned;
    r.installed = false;
  }
  return Status::ok();
}

Status Apply::do_flag(bool flag) {
  CL_TRY(require_role(Role::regulator, flag ? "flag serials" : "clear serials"));
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    const SerialRecord& r = **rec;
    if (!flag && !r.flagged && r.open_reports == 0) {
      return Status::error("serial " + ref.serial + " has no flag or report to clear");
    }
    // A flag or clear of a unit applies to every chip packed in it.
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& s) {
      s.flagged = flag;
      s.flag_reason = flag ? tx_.reason : "";
      if (!flag) {
        s.open_reports = 0;
        s.report_kind.clear();
      }
    }));
  }
  return Status::ok();
}

Status Apply::do_report() {
  for (const auto& ref : tx_.refs) {
    auto rec = named(ref);
    if (!rec) return rec.status();
    // A report of a unit is a report of every chip packed in it.
    CL_TRY(for_unit(ref.serial, [&](SerialRecord& s) {
      s.open_reports += 1;
      s.report_kind = tx_.kind;
    }));
  }
  return Status::ok();
}

Status Apply::do_license() {
  CL_TRY(require_role(Role::regulator, "issue export licenses"));
  const LicenseTerms& t = tx_.license;
  auto existing = state_.license(t.id);
  if (!existing) return existing.status();
  if (existing->has_value()) return Status::error("license " + t.id + " exists already");
  const Member* exporter = c_.member(t.exporter);
  if (!exporter || !exporter->can_hold_custody()) {
    return Status::error("exporter '" + t.exporter + "' is not a member that can hold custody");
  }
  const Member* recipient = c_.member(t.recipient);
  if (!recipient || !recipient->can_hold_custody()) {
    return Status::error("recipient '" + t.recipient + "' is not a member that can hold custody");
  }
  if (t.expiry_ms <= block_time_) return Status::error("license " + t.id + " expires in the past");
  effects_.licenses.push_back(LicenseRecord{t, author_.id, 0, log_index_});
  return Status::ok();
}

Result<Effects> Apply::run() {
  Status st = Status::ok();
  switch (tx_.type) {
    case TxType::register_chips:
      st = do_register();
      break;
    case TxType::transfer:
      st = do_transfer();
      break;
    case TxType::accept:
      st = do_answer(true);
      break;
    case TxType::reject:
      st = do_answer(false);
      break;
    case TxType::install:
      st = do_install();
      break;
    case TxType::attest:
      st = do_attest();
      break;
    case TxType::pack:
      st = do_pack();
      break;
    case TxType::unpack:
      st = do_unpack();
      break;
    case TxType::decommission:
      st = do_decommission();
      break;
    case TxType::flag:
      st = do_flag(true);
      break;
    case TxType::clear:
      st = do_flag(false);
      break;
    case TxType::report:
      st = do_report();
      break;
    case TxType::license:
      st = do_license();
      break;
  }
  if (!st) return st;
  // Every record this transaction changed now has it as its latest event.
  for (const auto& s : changed_) {
    SerialRecord rec = records_.at(s);
    rec.last_event = stx_.txid;
    rec.last_index = log_index_;
    rec.last_time_ms = tx_.time_ms;
    rec.events += 1;
    effects_.serials.emplace_back(s, std::move(rec));
  }
  return std::move(effects_);
}

}  // namespace

std::string_view transfer_kind(std::string_view origin, std::string_view location,
                               std::string_view ship_to) {
  if (ship_to == location) return "in-country";
  return location == origin ? "export" : "re-export";
}

Status check_signature(const Consortium& consortium, const SignedTransaction& stx) {
  const Transaction& tx = stx.tx;
  if (tx.ledger_id != consortium.ledger_id()) {
    return Status::error("the transaction is for ledger '" + tx.ledger_id + "', this is '" +
                         consortium.ledger_id() + "'");
  }
  const Member* author = consortium.member(tx.author);
  if (!author) return Status::error("unknown member '" + tx.author + "'");
  const PublicKey* key = author->key(tx.key_id);
  if (!key) {
    return Status::error("key " + short_hash(tx.key_id) + "… is not a key of member " + author->id);
  }
  if (!key->verify(signing_input(stx.body), stx.signature)) {
    return Status::error("the signature does not verify with " + author->id + "'s key " +
                         short_hash(tx.key_id) + "…");
  }
  return Status::ok();
}

Result<Effects> apply_rules(const Consortium& consortium, const StateView& state,
                            const SignedTransaction& stx, uint64_t block_time_ms,
                            uint64_t log_index) {
  const Member* author = consortium.member(stx.tx.author);
  if (!author) return Result<Effects>::error("unknown member '" + stx.tx.author + "'");
  auto seen = state.find_txid(stx.txid);
  if (!seen) return seen.status();
  if (seen->has_value()) {
    return Result<Effects>::error("replay: this transaction is already in the ledger at index " +
                                  std::to_string(**seen));
  }
  CL_TRY(check_time(consortium.policy(), stx.tx.time_ms, block_time_ms));
  return Apply(consortium, state, stx, *author, block_time_ms, log_index).run();
}

}  // namespace chipledger
