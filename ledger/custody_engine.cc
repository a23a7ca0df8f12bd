#include "ledger/custody_engine.h"

namespace chipledger {
namespace {

std::string short_hash(const Hash& h) { return hex_encode(h).substr(0, 16); }

std::string roles_of(const Member& m) {
  std::string out;
  for (Role r : m.roles) out += (out.empty() ? "" : ", ") + std::string(role_name(r));
  return out;
}

// A refusal while a step runs: its kind and reason.
struct Refused {
  RefusalKind kind = RefusalKind::none;
  std::string reason;
  explicit operator bool() const { return kind != RefusalKind::none; }
};

Refused refuse(std::string reason, RefusalKind kind = RefusalKind::rule) {
  return Refused{kind, std::move(reason)};
}

#define CL_CHECK(expr)                      \
  do {                                      \
    if (Refused r_ = (expr); r_) return r_; \
  } while (false)

// One serial's step: the working record and the rules as small checks on it.
class Step {
 public:
  Step(const Consortium& c, std::string_view serial, const std::optional<SerialRecord>& before,
       const SignedTransaction& stx, const Member& author, const EventContext& ctx,
       StepOutcome& out)
      : c_(c),
        serial_(serial),
        before_(before),
        tx_(stx.tx),
        author_(author),
        ctx_(ctx),
        out_(out) {
    if (before) rec_ = *before;
  }

  Refused apply(const Concern& concern);
  SerialRecord& record() { return rec_; }

 private:
  Refused registered() const;
  Refused named(const Hash& prev) const;
  Refused require_role(Role role, const char* action) const;
  Refused not_packed() const;
  Refused held_by_author() const;
  Refused not_flagged(const char* action) const;
  Refused in_unit(const std::string& unit, const char* action) const;
  Refused movable(const Hash& prev, const char* action) const;
  Refused recipient() const;
  Refused export_license();
  Refused chip_signature() const;
  const Hash& prev_in_refs() const;

  Refused do_register(const Concern& concern);
  Refused do_transfer(const Concern& concern);
  Refused do_answer(const Concern& concern, bool accept);
  Refused do_install(const Concern& concern);
  Refused do_attest(const Concern& concern);
  Refused do_pack(const Concern& concern);
  Refused do_unpack(const Concern& concern);
  Refused do_decommission();
  Refused do_flag(const Concern& concern, bool flag);
  Refused do_report(const Concern& concern);
  Refused do_locate();

  const Consortium& c_;
  const std::string serial_;
  const std::optional<SerialRecord>& before_;
  const Transaction& tx_;
  const Member& author_;
  const EventContext& ctx_;
  StepOutcome& out_;
  SerialRecord rec_;
};

Refused Step::registered() const {
  if (before_) return {};
  return refuse("serial " + serial_ + " is not registered");
}

// A named serial: registered, not decommissioned, `prev` its latest event.
Refused Step::named(const Hash& prev) const {
  CL_CHECK(registered());
  if (rec_.status == CustodyStatus::decommissioned) {
    return refuse("serial " + serial_ + " was decommissioned; nothing may follow");
  }
  if (rec_.last_event != prev) {
    return refuse("stale prev for serial " + serial_ + ": its latest event is " +
                      short_hash(rec_.last_event) + "…, the transaction names " + short_hash(prev) +
                      "…",
                  RefusalKind::stale_prev);
  }
  return {};
}

Refused Step::require_role(Role role, const char* action) const {
  if (author_.has_role(role)) return {};
  return refuse(std::string("only a ") + std::string(role_name(role)) + " may " + action + "; " +
                author_.id + " is " + roles_of(author_));
}

Refused Step::not_packed() const {
  if (rec_.parent.empty()) return {};
  return refuse("serial " + serial_ + " is packed in unit " + rec_.parent +
                "; act on the unit, or unpack it first");
}

Refused Step::held_by_author() const {
  if (rec_.status == CustodyStatus::in_transit) {
    return refuse("serial " + serial_ + " is in transit to " + rec_.pending_to +
                  "; it cannot move until " + rec_.pending_to + " accepts or rejects it");
  }
  if (rec_.holder != author_.id) {
    return refuse("serial " + serial_ + " is held by " + rec_.holder + ", not by " + author_.id +
                  "; only the holder may " + std::string(tx_type_name(tx_.type)) + " it");
  }
  return {};
}

Refused Step::not_flagged(const char* action) const {
  if (!rec_.flagged) return {};
  return refuse("serial " + serial_ + " is flagged by the regulator (" + rec_.flag_reason +
                "); it cannot be " + action);
}

// A chip concerned through its unit: packed in it, and (with an action) not
// flagged, since a unit with a flagged chip cannot be moved.
Refused Step::in_unit(const std::string& unit, const char* action) const {
  CL_CHECK(registered());
  if (rec_.parent != unit) {
    return refuse("serial " + serial_ + " is not packed in unit " + unit);
  }
  if (action && rec_.flagged) {
    return refuse("serial " + serial_ + " in unit " + unit + " is flagged by the regulator (" +
                  rec_.flag_reason + "); the unit cannot be " + action);
  }
  return {};
}

// A custody move (transfer, install, unpack, pack into) by its holder.
Refused Step::movable(const Hash& prev, const char* action) const {
  CL_CHECK(named(prev));
  CL_CHECK(not_packed());
  CL_CHECK(held_by_author());
  return not_flagged(action);
}

const Hash& Step::prev_in_refs() const {
  for (const auto& r : tx_.refs) {
    if (r.serial == serial_) return r.prev;
  }
  static const Hash kNone{};
  return kNone;
}

Refused Step::recipient() const {
  const Member* to = c_.member(tx_.to);
  if (!to) return refuse("unknown recipient '" + tx_.to + "'");
  if (to->suspended) return refuse("recipient " + to->id + " is suspended by a governance vote");
  if (!to->can_hold_custody()) {
    return refuse("recipient " + to->id + " (" + roles_of(*to) + ") cannot hold custody of chips");
  }
  if (to->id == author_.id) return refuse("a member cannot transfer chips to itself");
  return {};
}

// A controlled chip going to a restricted destination (the ship-to country
// or the recipient's country) needs a license whose exporter is the author,
// recipient the recipient, destination that country, not expired at the
// transfer's signed time, covering the chip. A license named when none is
// needed must still exist, name the author and recipient, and be unexpired.
Refused Step::export_license() {
  const Policy& p = c_.policy();
  const Member& to = *c_.member(tx_.to);  // recipient() found it
  const std::string dest = p.is_restricted(tx_.ship_to_country) ? tx_.ship_to_country : to.country;
  const bool controlled = p.is_controlled(rec_.model, rec_.eccn);
  const bool needed = controlled && p.is_restricted(dest);
  out_.license_needed = needed;
  out_.destination = dest;
  if (!needed && tx_.license_id.empty()) return {};
  auto fail = [&](std::string why) -> Refused {
    if (!needed) return refuse(std::move(why));
    if (ctx_.license_rule == LicenseRule::report) {
      out_.export_findings.push_back(std::move(why));
      return {};
    }
    return refuse(std::move(why), RefusalKind::export_license);
  };
  if (tx_.license_id.empty()) {
    return fail("a transfer of controlled chip " + serial_ + " (" + rec_.model + ", " + rec_.eccn +
                ") to " + dest +
                ", a restricted destination, needs an export license; none was named");
  }
  if (!ctx_.license) return fail("unknown license '" + tx_.license_id + "'");
  const LicenseTerms& lic = *ctx_.license;
  const std::string where = "license " + lic.id;
  if (lic.exporter != author_.id) {
    return fail(where + " authorises " + lic.exporter + " to export, not " + author_.id);
  }
  if (lic.recipient != to.id)
    return fail(where + " is for recipient " + lic.recipient + ", not " + to.id);
  if (needed && lic.destination != dest) {
    return fail(where + " is for destination " + lic.destination + ", not " + dest);
  }
  if (lic.expiry_ms <= tx_.time_ms) return fail(where + " has expired");
  bool covered = (!lic.model.empty() && lic.model == rec_.model) ||
                 (!lic.eccn.empty() && lic.eccn == rec_.eccn);
  if (controlled && !covered) {
    return fail(where + " does not cover serial " + serial_ + " (" + rec_.model + ")");
  }
  return {};
}

Refused Step::chip_signature() const {
  if (rec_.device_key.empty())
    return refuse("serial " + serial_ + " has no device key; it cannot attest");
  const ChipSignature* sig = nullptr;
  for (const auto& s : tx_.chip_signatures) {
    if (s.serial == serial_) sig = &s;
  }
  if (!sig) return refuse("the attestation has no chip signature for serial " + serial_);
  auto key = PublicKey::from_der(rec_.device_key);
  if (!key) return refuse("device key of " + serial_ + ": " + key.reason());
  Bytes msg = attestation_message(c_.ledger_id(), serial_, tx_.site, tx_.checkpoint_size,
                                  tx_.checkpoint_root);
  if (!key->verify(msg, sig->signature)) {
    return refuse("the chip signature of serial " + serial_ +
                  " does not verify with its device key");
  }
  return {};
}

Refused Step::do_register(const Concern& concern) {
  CL_CHECK(require_role(Role::manufacturer, "register chips"));
  if (before_) {
    return refuse("serial " + serial_ + " is already registered (by " + before_->manufacturer +
                  ")");
  }
  const RegisterItem* item =
      concern.item && concern.item->serial == serial_ ? concern.item : nullptr;
  for (size_t i = 0; !item && i < tx_.registrations.size(); ++i) {
    if (tx_.registrations[i].serial == serial_) item = &tx_.registrations[i];
  }
  if (!item) return refuse("the registration does not list serial " + serial_);
  if (!item->device_key.empty()) {
    auto key = PublicKey::from_der(item->device_key);
    if (!key) return refuse("device key of serial " + serial_ + ": " + key.reason());
  }
  rec_ = SerialRecord{};
  rec_.holder = rec_.manufacturer = author_.id;
  rec_.model = tx_.model;
  rec_.eccn = tx_.eccn;
  rec_.origin_country = rec_.location_country = tx_.country;
  rec_.device_key = item->device_key;
  return {};
}

Refused Step::do_transfer(const Concern& concern) {
  CL_CHECK(recipient());
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(movable(prev_in_refs(), "transferred"));
  } else {
    CL_CHECK(in_unit(concern.unit, "transferred"));
  }
  CL_CHECK(export_license());
  rec_.status = CustodyStatus::in_transit;
  rec_.pending_to = tx_.to;
  rec_.pending_ship_to = tx_.ship_to_country;
  rec_.pending_license = tx_.license_id;
  rec_.pending_kind =
      transfer_kind(rec_.origin_country, rec_.location_country, tx_.ship_to_country);
  rec_.transit_since_ms = tx_.time_ms;  // the signed time: the proofs cover it
  rec_.installed = false;
  rec_.site.clear();
  return {};
}

// accept (custody passes to the recipient) or reject (custody returns to
// the sender).
Refused Step::do_answer(const Concern& concern, bool accept) {
  const char* verb = accept ? "accept" : "reject";
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(named(prev_in_refs()));
    CL_CHECK(not_packed());
    if (rec_.status != CustodyStatus::in_transit) {
      return refuse("serial " + serial_ + " is not in transit; there is nothing to " + verb);
    }
    if (rec_.pending_to != author_.id) {
      return refuse("serial " + serial_ + " is in transit to " + rec_.pending_to + ", not to " +
                    author_.id + "; only the named recipient may " + verb + " it");
    }
    if (accept) CL_CHECK(not_flagged("accepted"));
  } else {
    CL_CHECK(in_unit(concern.unit, accept ? "accepted" : nullptr));
  }
  if (accept) {
    rec_.holder = rec_.pending_to;
    rec_.location_country = rec_.pending_ship_to;
  }
  rec_.status = CustodyStatus::held;
  rec_.pending_to.clear();
  rec_.pending_ship_to.clear();
  rec_.pending_license.clear();
  rec_.pending_kind.clear();
  rec_.transit_since_ms = 0;
  return {};
}

Refused Step::do_install(const Concern& concern) {
  CL_CHECK(require_role(Role::operator_, "record an installation"));
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(movable(prev_in_refs(), "installed"));
  } else {
    CL_CHECK(in_unit(concern.unit, "installed"));
  }
  rec_.installed = true;
  rec_.site = tx_.site;
  rec_.location_country = tx_.country;
  return {};
}

// The holder countersigns; each chip covered (the serial, or every chip
// packed in the unit) signs with its own device key.
Refused Step::do_attest(const Concern& concern) {
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(named(prev_in_refs()));
    CL_CHECK(not_packed());
    CL_CHECK(held_by_author());
    if (!rec_.installed || rec_.site != tx_.site) {
      return refuse("serial " + serial_ + " is not installed at site " + tx_.site);
    }
    if (rec_.children.empty()) CL_CHECK(chip_signature());
    // A unit attests through its chips: each must have signed. (Each chip's
    // signature is verified in its own step, with the device key in its
    // record; here, where the unit's record has no device keys, that it is there.)
    for (const auto& chip : rec_.children) {
      bool signed_by_chip = false;
      for (const auto& s : tx_.chip_signatures) signed_by_chip |= s.serial == chip;
      if (!signed_by_chip)
        return refuse("the attestation has no chip signature for serial " + chip);
    }
  } else {
    CL_CHECK(in_unit(concern.unit, nullptr));
    CL_CHECK(chip_signature());
  }
  rec_.last_attest_ms = tx_.time_ms;
  return {};
}

Refused Step::do_pack(const Concern& concern) {
  if (concern.kind == ConcernKind::unit_of_pack) {
    if (is_zero(tx_.unit_prev)) {
      if (before_) {
        return refuse("unit " + serial_ +
                      " exists already; name its latest event as the unit's prev");
      }
      rec_ = SerialRecord{};
      rec_.holder = rec_.manufacturer = author_.id;
      rec_.model = tx_.model;
      rec_.origin_country = rec_.location_country = author_.country;
    } else {
      CL_CHECK(movable(tx_.unit_prev, "packed into"));
    }
    for (const auto& r : tx_.refs) rec_.children.push_back(r.serial);
    return {};
  }
  CL_CHECK(named(prev_in_refs()));
  if (!rec_.parent.empty()) {
    return refuse("serial " + serial_ + " is already packed in unit " + rec_.parent);
  }
  if (!rec_.children.empty()) {
    return refuse("serial " + serial_ + " is a unit with packed serials; units do not nest");
  }
  CL_CHECK(held_by_author());
  CL_CHECK(not_flagged("packed"));
  if (rec_.installed) {
    return refuse("serial " + serial_ + " is installed at " + rec_.site + "; it cannot be packed");
  }
  rec_.parent = concern.unit;
  return {};
}

Refused Step::do_unpack(const Concern& concern) {
  if (concern.kind == ConcernKind::via_unit) {
    CL_CHECK(in_unit(concern.unit, "unpacked"));
    rec_.parent.clear();
    return {};
  }
  CL_CHECK(movable(prev_in_refs(), "unpacked"));
  if (rec_.children.empty())
    return refuse("serial " + serial_ + " has no packed serials to unpack");
  rec_.children.clear();
  return {};
}

Refused Step::do_decommission() {
  CL_CHECK(named(prev_in_refs()));
  CL_CHECK(not_packed());
  CL_CHECK(held_by_author());
  if (!rec_.children.empty()) {
    return refuse("unit " + serial_ + " still holds packed serials; unpack it first");
  }
  rec_.status = CustodyStatus::decommissioned;
  rec_.installed = false;
  return {};
}

// A flag or clear of a unit applies to every chip packed in it.
Refused Step::do_flag(const Concern& concern, bool flag) {
  CL_CHECK(require_role(Role::regulator, flag ? "flag serials" : "clear serials"));
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(named(prev_in_refs()));
    if (!flag && !rec_.flagged && rec_.open_reports == 0) {
      return refuse("serial " + serial_ + " has no flag or report to clear");
    }
  } else {
    CL_CHECK(in_unit(concern.unit, nullptr));
  }
  rec_.flagged = flag;
  rec_.flag_reason = flag ? tx_.reason : "";
  if (!flag) {
    rec_.open_reports = 0;
    rec_.report_kind.clear();
  }
  return {};
}

// A report of a unit is a report of every chip packed in it.
Refused Step::do_report(const Concern& concern) {
  if (concern.kind == ConcernKind::named) {
    CL_CHECK(named(prev_in_refs()));
  } else {
    CL_CHECK(in_unit(concern.unit, nullptr));
  }
  rec_.open_reports += 1;
  rec_.report_kind = tx_.kind;
  return {};
}

// The holder records the landmarks' statements of an installed chip (a
// chip packed in a unit is named itself: each chip answers for itself).
// Each statement must be by a landmark in force, its landmark's signature
// and the chip's (by the device key in the record) must verify, and its
// time must lie within the policy's window of the transaction's signed
// time. The record changes only as every event changes it.
Refused Step::do_locate() {
  CL_CHECK(named(prev_in_refs()));
  CL_CHECK(held_by_author());
  if (!rec_.installed) {
    return refuse("serial " + serial_ + " is not installed; only an installed chip is located");
  }
  if (rec_.device_key.empty()) {
    return refuse("serial " + serial_ + " has no device key; it cannot answer a landmark");
  }
  auto device = PublicKey::from_der(rec_.device_key);
  if (!device) return refuse("device key of " + serial_ + ": " + device.reason());
  const uint64_t window = c_.location_policy().statement_window_ms;
  for (const auto& st : tx_.statements) {
    if (st.serial != serial_) continue;
    const Landmark* landmark = c_.landmark(st.landmark);
    if (!landmark) {
      return refuse("landmark " + st.landmark + " is not one of the consortium's");
    }
    if (const Member* runs = c_.member(landmark->member); !runs || runs->suspended) {
      return refuse("landmark " + st.landmark + " is run by " + landmark->member +
                    ", who is suspended: its statements do not count");
    }
    if (Status ok = verify_statement_signatures(st, landmark->key, *device); !ok) {
      return refuse(ok.reason());
    }
    const uint64_t apart =
        st.time_ms > tx_.time_ms ? st.time_ms - tx_.time_ms : tx_.time_ms - st.time_ms;
    if (apart > window) {
      return refuse("the statement of landmark " + st.landmark + " for serial " + serial_ +
                    " was made " + std::to_string(apart / 1000) +
                    " s from the transaction's time; at most " + std::to_string(window / 1000) +
                    " s is allowed");
    }
  }
  return {};
}

// Which concerns each type allows.
bool allowed(TxType type, ConcernKind kind) {
  switch (type) {
    case TxType::register_chips:
      return kind == ConcernKind::registered;
    case TxType::pack:
      return kind == ConcernKind::unit_of_pack || kind == ConcernKind::packed_into;
    case TxType::decommission:
    case TxType::locate:
      return kind == ConcernKind::named;
    case TxType::license:
      return false;
    default:
      return kind == ConcernKind::named || kind == ConcernKind::via_unit;
  }
}

Refused Step::apply(const Concern& concern) {
  if (!allowed(tx_.type, concern.kind)) {
    return refuse("a " + std::string(tx_type_name(tx_.type)) + " cannot concern serial " + serial_ +
                  " that way");
  }
  switch (tx_.type) {
    case TxType::register_chips:
      return do_register(concern);
    case TxType::transfer:
      return do_transfer(concern);
    case TxType::accept:
      return do_answer(concern, true);
    case TxType::reject:
      return do_answer(concern, false);
    case TxType::install:
      return do_install(concern);
    case TxType::attest:
      return do_attest(concern);
    case TxType::pack:
      return do_pack(concern);
    case TxType::unpack:
      return do_unpack(concern);
    case TxType::decommission:
      return do_decommission();
    case TxType::flag:
      return do_flag(concern, true);
    case TxType::clear:
      return do_flag(concern, false);
    case TxType::report:
      return do_report(concern);
    case TxType::locate:
      return do_locate();
    case TxType::license:
    case TxType::propose:
    case TxType::vote:
    case TxType::rotate_key:
    case TxType::rotate_node_key:
      break;
  }
  return refuse("a " + std::string(tx_type_name(tx_.type)) + " names no serial");
}

}  // namespace

bool applies_to_unit(TxType type) {
  switch (type) {
    case TxType::register_chips:
    case TxType::pack:
    case TxType::decommission:
    case TxType::locate:
    case TxType::license:
    case TxType::propose:
    case TxType::vote:
    case TxType::rotate_key:
    case TxType::rotate_node_key:
      return false;
    default:
      return true;
  }
}

std::vector<Concern> concerns_of(const Transaction& tx, std::string_view serial,
                                 const std::optional<SerialRecord>& before) {
  std::vector<Concern> out;
  if (tx.type == TxType::register_chips) {
    for (const auto& r : tx.registrations) {
      if (r.serial == serial) out.push_back({ConcernKind::registered, "", &r});
    }
    return out;
  }
  if (tx.type == TxType::pack) {
    if (tx.unit == serial) out.push_back({ConcernKind::unit_of_pack, ""});
    for (const auto& r : tx.refs) {
      if (r.serial == serial) out.push_back({ConcernKind::packed_into, tx.unit});
    }
    return out;
  }
  const bool unit_events = applies_to_unit(tx.type);
  for (const auto& r : tx.refs) {
    if (r.serial == serial) {
      out.push_back({ConcernKind::named, ""});
    } else if (unit_events && before && !before->parent.empty() && before->parent == r.serial) {
      out.push_back({ConcernKind::via_unit, r.serial});
    }
  }
  return out;
}

StepOutcome apply_event(const Consortium& consortium, std::string_view serial,
                        const std::optional<SerialRecord>& before, const SignedTransaction& stx,
                        uint64_t log_index, const std::vector<Concern>& concerns,
                        const EventContext& context) {
  StepOutcome out;
  auto fail = [&](Refused r) {
    out.refusal = r.kind;
    out.reason = std::move(r.reason);
    return out;
  };
  const Member* author = consortium.member(stx.tx.author);
  if (!author) return fail(refuse("unknown member '" + stx.tx.author + "'"));
  if (author->suspended) {
    return fail(refuse("member " + author->id + " is suspended by a governance vote"));
  }
  if (concerns.empty()) {
    return fail(refuse("the event does not concern serial " + std::string(serial)));
  }
  Step step(consortium, serial, before, stx, *author, context, out);
  for (const auto& concern : concerns) {
    if (Refused r = step.apply(concern); r) return fail(std::move(r));
  }
  SerialRecord& rec = step.record();
  rec.last_event = stx.txid;
  rec.last_index = log_index;
  rec.last_time_ms = stx.tx.time_ms;
  rec.events += 1;
  out.record = std::move(rec);
  return out;
}

Status check_license_issue(const Consortium& c, const Transaction& tx) {
  const Member* author = c.member(tx.author);
  if (!author) return Status::error("unknown member '" + tx.author + "'");
  if (!author->has_role(Role::regulator)) {
    return Status::error("only a regulator may issue export licenses; " + author->id + " is " +
                         roles_of(*author));
  }
  const LicenseTerms& t = tx.license;
  const Member* exporter = c.member(t.exporter);
  if (!exporter || !exporter->can_hold_custody()) {
    return Status::error("exporter '" + t.exporter + "' is not a member that can hold custody");
  }
  const Member* recipient = c.member(t.recipient);
  if (!recipient || !recipient->can_hold_custody()) {
    return Status::error("recipient '" + t.recipient + "' is not a member that can hold custody");
  }
  if (t.expiry_ms <= tx.time_ms) return Status::error("license " + t.id + " expires in the past");
  return Status::ok();
}

std::string_view transfer_kind(std::string_view origin, std::string_view location,
                               std::string_view ship_to) {
  if (ship_to == location) return "in-country";
  return location == origin ? "export" : "re-export";
}

}  // namespace chipledger
