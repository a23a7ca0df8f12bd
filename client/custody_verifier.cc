#include "client/custody_verifier.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/custody_rules.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

struct FindingInfo {
  Finding finding;
  std::string_view name;
  int exit_code;
  std::string_view meaning;
};

constexpr FindingInfo kFindings[] = {
    {Finding::proof_failure, "proof-failure", 10,
     "the evidence does not check: a signature, prev link, inclusion proof, custody rule or the "
     "checkpoint quorum fails"},
    {Finding::split_view, "split-view", 22,
     "the node's checkpoint contradicts one this client verified before: a fork that a quorum "
     "signed (equivocation)"},
    {Finding::stale_checkpoint, "stale-checkpoint", 21,
     "the checkpoint's quorum of node signatures is older than the policy allows: the node may "
     "be showing an old state"},
    {Finding::not_registered, "not-registered", 11, "no manufacturer registered this serial"},
    {Finding::in_transit, "in-transit", 12,
     "shipped but not accepted for longer than the policy allows"},
    {Finding::flagged, "flagged", 13, "the regulator flagged this serial; it cannot move"},
    {Finding::reported, "reported", 14,
     "a member reported it diverted, tampered with, lost or stolen; not yet cleared"},
    {Finding::restricted_destination, "restricted-destination", 15,
     "it is in, or bound for, a restricted destination without a license covering it"},
    {Finding::unlicensed_export, "unlicensed-export", 16,
     "a controlled chip was shipped to a restricted destination without a matching license"},
    {Finding::not_installed, "not-installed", 17,
     "not installed by an operator at a site in a permitted country"},
    {Finding::stale_attestation, "stale-attestation", 18,
     "the chip's latest own attestation is older than the policy allows"},
    {Finding::never_attested, "never-attested", 19,
     "the chip never attested where it is installed"},
    {Finding::decommissioned, "decommissioned", 20, "destroyed or recycled; no longer in service"},
};

const FindingInfo& info(Finding f) {
  for (const auto& i : kFindings) {
    if (i.finding == f) return i;
  }
  return kFindings[0];
}

bool is_whole(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

// `sorted` is sorted.
bool contains(const std::vector<std::string>& sorted, const std::string& s) {
  return std::binary_search(sorted.begin(), sorted.end(), s);
}

// "340 h", "5 h 12 min", "12 min", "40 s".
std::string hours(uint64_t ms) {
  uint64_t s = ms / 1000, h = s / 3600, m = s % 3600 / 60;
  if (h >= 24 || (h > 0 && m == 0)) return std::to_string(h) + " h";
  if (h > 0) return std::to_string(h) + " h " + std::to_string(m) + " min";
  if (m > 0) return std::to_string(m) + " min";
  return std::to_string(s) + " s";
}

std::string first_role(const Member& m) {
  return m.roles.empty() ? "" : std::string(role_name(*m.roles.begin()));
}

Result<std::vector<Hash>> parse_proof(const json& j) {
  if (!j.is_array()) return Result<std::vector<Hash>>::error("proof is not a list");
  std::vector<Hash> out;
  for (const auto& h : j) {
    if (!h.is_string()) return Result<std::vector<Hash>>::error("proof entry is not a string");
    auto hash = hash_from_hex(h.get<std::string>());
    if (!hash) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

// How many signatures verify_checkpoint verifies in `note`: those under the
// name of a consortium node with that node's key hash.
uint64_t note_verifications(const Consortium& c, std::string_view note) {
  auto parsed = parse_note(note);
  if (!parsed) return 0;
  uint64_t n = 0;
  for (const auto& sig : parsed->signatures) {
    const NodeInfo* node = c.node(sig.name);
    if (!node) continue;
    auto hash = NoteVerifier{node->id, node->key}.cosignature_key_hash();
    n += hash && *hash == sig.key_hash;
  }
  return n;
}

// Whether check_signature gets as far as verifying the signature.
bool reaches_signature(const Consortium& c, const Transaction& tx) {
  const Member* author = c.member(tx.author);
  return tx.ledger_id == c.ledger_id() && author && author->key(tx.key_id);
}

// An event whose author signature and inclusion proof checked against the
// verifier's checkpoint, with the exact text that was checked.
struct CheckedEvent {
  std::string tx;  // base64, as the node gave it
  json proof;      // as the node gave it
  SignedTransaction stx;
  std::vector<std::string> serials;  // stx.tx.serials(), sorted
};

// What the chain says about one serial, replayed event by event with the
// same custody rules the ledger applies.
struct ChipState {
  bool registered = false;
  bool decommissioned = false;
  std::string holder, manufacturer, model, eccn, origin, location;
  std::string pending_to, pending_ship_to, pending_license, pending_dest;
  uint64_t transit_since_ms = 0;
  bool installed = false;
  std::string site;
  std::string parent;
  std::vector<std::string> children;  // for a unit: the chips packed in it
  Hash last{};                        // the latest event that changed this serial
  Hash unit_last{};                   // the latest event of its unit, while packed
  Bytes device_key;
  uint64_t last_attest_ms = 0;
  bool flagged = false;
  std::string flag_reason;
  uint32_t open_reports = 0;
  std::string report_kind;
  std::set<std::string> licensed_countries;  // entered under an export license
  std::vector<std::string> licenses;         // the licenses of its accepted shipments
};

class Replay {
 public:
  // `signatures` counts the chip signatures it verifies.
  Replay(const Consortium& c, const std::string& serial, uint64_t& signatures)
      : c_(c), serial_(serial), signatures_(signatures) {}

  Status apply(const CheckedEvent& event, ChainRow& row);
  const ChipState& state() const { return s_; }
  const std::vector<std::string>& unlicensed() const { return unlicensed_; }

 private:
  Status check_prev(const Transaction& tx, bool direct) const;
  Status rule(bool ok, const std::string& what) const {
    return ok ? Status::ok() : Status::error("the chain breaks the custody rules: " + what);
  }
  Status effect(const SignedTransaction& stx, const Member& author, bool via_unit,
                std::string& text);
  Status transfer(const Transaction& tx, const Member& author, std::string& text);
  void check_license(const Transaction& tx, const Member& author, const std::string& dest);
  Status attest(const Transaction& tx);

  const Consortium& c_;
  const std::string& serial_;
  uint64_t& signatures_;
  ChipState s_;
  std::map<std::string, LicenseTerms> licenses_;
  std::vector<std::string> unlicensed_;
};

Status Replay::check_prev(const Transaction& tx, bool direct) const {
  if (tx.type == TxType::register_chips) {
    return s_.registered ? Status::error("registered twice") : Status::ok();
  }
  if (tx.type == TxType::pack && tx.unit == serial_) {
    if (is_zero(tx.unit_prev)) {
      return s_.registered ? Status::error("declared as a new unit twice") : Status::ok();
    }
    return tx.unit_prev == s_.last ? Status::ok() : Status::error("the prev chain is broken");
  }
  if (!s_.registered) return Status::error("an event comes before the registration");
  const std::string& subject = direct ? serial_ : s_.parent;
  const Hash& expected = direct ? s_.last : s_.unit_last;
  for (const auto& r : tx.refs) {
    if (r.serial == subject) {
      return r.prev == expected ? Status::ok() : Status::error("the prev chain is broken");
    }
  }
  return Status::error("the event does not name " + subject);
}

void Replay::check_license(const Transaction& tx, const Member& author, const std::string& dest) {
  auto it = licenses_.find(tx.license_id);
  const Member* to = c_.member(tx.to);
  bool covered = it != licenses_.end() && to && it->second.exporter == author.id &&
                 it->second.recipient == to->id && it->second.destination == dest &&
                 it->second.expiry_ms > tx.time_ms &&
                 ((!it->second.model.empty() && it->second.model == s_.model) ||
                  (!it->second.eccn.empty() && it->second.eccn == s_.eccn));
  if (covered) {
    s_.pending_license = tx.license_id;
    return;
  }
  unlicensed_.push_back(
      tx.license_id.empty()
          ? "shipped by " + author.id + " to " + tx.to + " in " + dest + " without a license"
          : "shipped by " + author.id + " to " + tx.to + " in " + dest + " under license " +
                tx.license_id + ", which the evidence does not show covering it");
}

Status Replay::transfer(const Transaction& tx, const Member& author, std::string& text) {
  CL_TRY(rule(s_.holder == author.id && s_.pending_to.empty(), "transfer not by the holder"));
  CL_TRY(rule(!s_.flagged, "a flagged serial was transferred"));
  const Member* to = c_.member(tx.to);
  CL_TRY(rule(to && to->can_hold_custody(), "transfer to a member that cannot hold custody"));
  std::string kind(transfer_kind(s_.origin, s_.location, tx.ship_to_country));
  const Policy& p = c_.policy();
  std::string dest = p.is_restricted(tx.ship_to_country) ? tx.ship_to_country : to->country;
  s_.pending_license.clear();
  if (p.is_controlled(s_.model, s_.eccn) && p.is_restricted(dest)) check_license(tx, author, dest);
  s_.pending_to = tx.to;
  s_.pending_ship_to = tx.ship_to_country;
  s_.pending_dest = dest;
  s_.transit_since_ms = tx.time_ms;
  s_.installed = false;
  s_.site.clear();
  text = "transfer -> " + tx.to + " (" + kind + " to " + tx.ship_to_country +
         (tx.license_id.empty() ? "" : ", license " + tx.license_id) + ")";
  return Status::ok();
}

Status Replay::attest(const Transaction& tx) {
  CL_TRY(rule(s_.installed && s_.site == tx.site, "attestation away from the install site"));
  if (!s_.children.empty()) {
    // A unit attests through its chips. Their device keys are in their own
    // registrations, not in the unit's history: each chip's own verify
    // checks its signature; here every chip must at least have signed.
    for (const auto& chip : s_.children) {
      bool signed_by_chip = false;
      for (const auto& cs : tx.chip_signatures) signed_by_chip |= cs.serial == chip;
      CL_TRY(rule(signed_by_chip, "the unit's attestation has no signature of chip " + chip));
    }
    s_.last_attest_ms = tx.time_ms;
    return Status::ok();
  }
  CL_TRY(rule(!s_.device_key.empty(), "attestation of a chip without a device key"));
  const ChipSignature* sig = nullptr;
  for (const auto& cs : tx.chip_signatures) {
    if (cs.serial == serial_) sig = &cs;
  }
  auto key = PublicKey::from_der(s_.device_key);
  bool verified = false;
  if (sig && key) {
    Bytes msg =
        attestation_message(tx.ledger_id, serial_, tx.site, tx.checkpoint_size, tx.checkpoint_root);
    ++signatures_;
    verified = key->verify(msg, sig->signature);
  }
  CL_TRY(rule(verified, "the chip's signature does not verify with its device key"));
  s_.last_attest_ms = tx.time_ms;
  return Status::ok();
}

Status Replay::effect(const SignedTransaction& stx, const Member& author, bool via_unit,
                      std::string& text) {
  const Transaction& tx = stx.tx;
  std::string prefix = via_unit ? "via " + s_.parent + ": " : "";
  switch (tx.type) {
    case TxType::register_chips:
      CL_TRY(rule(author.has_role(Role::manufacturer), "registered by a non-manufacturer"));
      s_.registered = true;
      s_.holder = s_.manufacturer = author.id;
      s_.model = tx.model;
      s_.eccn = tx.eccn;
      s_.origin = s_.location = tx.country;
      for (const auto& r : tx.registrations) {
        if (r.serial == serial_) s_.device_key = r.device_key;
      }
      text = "register " + tx.model + (tx.eccn.empty() ? "" : " (" + tx.eccn + ")");
      break;
    case TxType::transfer:
      CL_TRY(transfer(tx, author, text));
      break;
    case TxType::accept:
    case TxType::reject: {
      bool accept = tx.type == TxType::accept;
      CL_TRY(rule(s_.pending_to == author.id, "accept/reject not by the recipient"));
      if (accept) {
        CL_TRY(rule(!s_.flagged, "a flagged serial was accepted"));
        s_.holder = author.id;
        s_.location = s_.pending_ship_to;
        if (!s_.pending_license.empty()) {
          s_.licensed_countries.insert(s_.pending_dest);
          s_.licenses.push_back(s_.pending_license);
        }
      }
      s_.pending_to.clear();
      s_.pending_license.clear();
      s_.transit_since_ms = 0;
      text = accept ? "accept" : "reject" + (tx.reason.empty() ? "" : ": " + tx.reason);
      break;
    }
    case TxType::install:
      CL_TRY(
          rule(s_.holder == author.id && s_.pending_to.empty() && author.has_role(Role::operator_),
               "install not by the operator holding it"));
      s_.installed = true;
      s_.site = tx.site;
      s_.location = tx.country;
      text = "install at " + tx.site + " (" + tx.country + ")";
      break;
    case TxType::attest:
      CL_TRY(rule(s_.holder == author.id, "attestation not countersigned by the holder"));
      CL_TRY(attest(tx));
      text =
          "chip attests at " + tx.site + " (checkpoint " + std::to_string(tx.checkpoint_size) + ")";
      break;
    case TxType::pack:
      CL_TRY(rule((tx.unit == serial_ && is_zero(tx.unit_prev)) ||
                      (s_.holder == author.id && s_.pending_to.empty()),
                  "pack not by the holder"));
      if (tx.unit == serial_) {
        if (is_zero(tx.unit_prev)) {
          s_.registered = true;
          s_.holder = s_.manufacturer = author.id;
          s_.model = tx.model;
          s_.origin = s_.location = author.country;
        }
        for (const auto& r : tx.refs) s_.children.push_back(r.serial);
      } else {
        s_.parent = tx.unit;
        s_.unit_last = stx.txid;
      }
      text = tx.unit == serial_ ? "pack " + std::to_string(tx.refs.size()) + " serials into it"
                                : "pack into " + tx.unit;
      break;
    case TxType::unpack:
      CL_TRY(rule(s_.holder == author.id, "unpack not by the holder"));
      text = via_unit ? "unpack from " + s_.parent : "unpack";
      if (via_unit) s_.parent.clear();
      if (!via_unit) s_.children.clear();
      prefix.clear();
      break;
    case TxType::decommission:
      CL_TRY(
          rule(s_.holder == author.id && s_.pending_to.empty(), "decommission not by the holder"));
      s_.decommissioned = true;
      s_.installed = false;
      text = "decommission (" + tx.kind + ")";
      break;
    case TxType::flag:
    case TxType::clear: {
      bool flag = tx.type == TxType::flag;
      CL_TRY(rule(author.has_role(Role::regulator), "flag/clear not by a regulator"));
      s_.flagged = flag;
      s_.flag_reason = flag ? tx.reason : "";
      if (!flag) s_.open_reports = 0;
      text = std::string(flag ? "flag: " : "clear: ") + tx.reason;
      break;
    }
    case TxType::report:
      s_.open_reports += 1;
      s_.report_kind = tx.kind;
      text = "report " + tx.kind + ": " + tx.reason;
      break;
    case TxType::license:
      return Status::error("a license names no serial");
  }
  if (via_unit && tx.type != TxType::unpack) s_.unit_last = stx.txid;
  text = prefix + text;
  return Status::ok();
}

Status Replay::apply(const CheckedEvent& event, ChainRow& row) {
  const SignedTransaction& stx = event.stx;
  const Transaction& tx = stx.tx;
  const Member& author = *c_.member(tx.author);  // check_signature found it
  row.member = author.id;
  row.role = first_role(author);
  row.country = author.country;
  row.time_ms = tx.time_ms;
  const auto& serials = event.serials;
  bool direct = contains(serials, serial_);
  if (tx.type == TxType::license) {
    CL_TRY(rule(author.has_role(Role::regulator), "a license not issued by a regulator"));
    licenses_[tx.license.id] = tx.license;
    row.event = "license " + tx.license.id + ": " + tx.license.exporter + " -> " +
                tx.license.recipient + ", " + std::to_string(tx.license.quantity) + " x " +
                (tx.license.model.empty() ? tx.license.eccn : tx.license.model) + " to " +
                tx.license.destination;
    return Status::ok();
  }
  bool via_unit = !direct && !s_.parent.empty() && contains(serials, s_.parent);
  if (!direct && !via_unit) return Status::error("the event does not concern serial " + serial_);
  CL_TRY(rule(!s_.decommissioned, "an event follows the decommissioning"));
  CL_TRY(check_prev(tx, direct));
  CL_TRY(effect(stx, author, via_unit, row.event));
  s_.last = stx.txid;
  return Status::ok();
}

void add(VerifyReport& r, Finding f, std::string reason) {
  r.findings.emplace_back(f, std::move(reason));
}

// The findings the replayed state implies (DESIGN.md's verdict conditions).
void judge(const Consortium& c, const Replay& replay, uint64_t now_ms, VerifyReport& r) {
  const ChipState& s = replay.state();
  const Policy& p = c.policy();
  r.holder = s.holder;
  r.status = s.decommissioned ? "decommissioned" : s.pending_to.empty() ? "held" : "in-transit";
  r.location = s.location;
  r.site = s.site;
  r.unit = s.parent;
  r.children = s.children;
  r.model = s.model;
  r.licenses = s.licenses;
  r.last_attest_ms = s.last_attest_ms;
  if (s.flagged) add(r, Finding::flagged, "flagged by the regulator: " + s.flag_reason);
  if (s.open_reports > 0) {
    add(r, Finding::reported,
        std::to_string(s.open_reports) + " open report(s), latest: " + s.report_kind);
  }
  for (const auto& u : replay.unlicensed()) add(r, Finding::unlicensed_export, u);
  // Only controlled chips need a license to be in a restricted destination.
  bool controlled = p.is_controlled(s.model, s.eccn);
  auto unlicensed_in = [&](const std::string& country) {
    return controlled && p.is_restricted(country) && !s.licensed_countries.count(country);
  };
  if (!s.pending_to.empty() && s.pending_license.empty() && unlicensed_in(s.pending_dest)) {
    add(r, Finding::restricted_destination, "bound for " + s.pending_dest + " without a license");
  } else if (s.pending_to.empty() && unlicensed_in(s.location)) {
    add(r, Finding::restricted_destination, "located in " + s.location + " without a license");
  }
  if (s.decommissioned) {
    add(r, Finding::decommissioned, "decommissioned by " + s.holder);
    return;
  }
  if (!s.pending_to.empty()) {
    r.in_transit_for_ms = now_ms > s.transit_since_ms ? now_ms - s.transit_since_ms : 0;
    if (r.in_transit_for_ms > p.max_transit_ms) {
      add(r, Finding::in_transit,
          "in transit from " + s.holder + " to " + s.pending_to + " for " +
              hours(r.in_transit_for_ms) + ", over the policy's " + hours(p.max_transit_ms));
    }
  }
  bool permitted = p.permitted_install_countries.empty()
                       ? !unlicensed_in(s.location)
                       : p.permitted_install_countries.count(s.location) != 0;
  if (!s.installed) {
    add(r, Finding::not_installed,
        s.pending_to.empty() ? "held by " + s.holder + ", not installed"
                             : "in transit to " + s.pending_to + " for " +
                                   hours(r.in_transit_for_ms) + ", not installed");
    return;
  }
  if (!permitted) {
    add(r, Finding::not_installed, "installed in " + s.location + ", not a permitted country");
  }
  if (s.last_attest_ms == 0) {
    add(r, Finding::never_attested, "installed at " + s.site + " but the chip never attested");
  } else if (now_ms > s.last_attest_ms && now_ms - s.last_attest_ms > p.max_attestation_age_ms) {
    add(r, Finding::stale_attestation,
        "latest chip attestation is " + hours(now_ms - s.last_attest_ms) +
            " old, over the policy's " + hours(p.max_attestation_age_ms));
  }
}

}  // namespace

std::string_view finding_name(Finding f) { return info(f).name; }
int finding_exit_code(Finding f) { return info(f).exit_code; }
std::string_view finding_meaning(Finding f) { return info(f).meaning; }

std::string VerifyReport::verdict() const {
  return ok() ? "ok" : std::string(finding_name(findings.front().first));
}

int VerifyReport::exit_code() const { return ok() ? 0 : finding_exit_code(findings.front().first); }

json VerifyReport::to_json() const {
  json signed_at = json::object();  // node id -> its signature time (POSIX seconds)
  for (const auto& s : checkpoint_signed_at) signed_at[s.node_id] = s.time;
  json checkpoint{{"size", checkpoint_size},
                  {"signers", checkpoint_signers},
                  {"signed_at", signed_at},
                  {"age_ms", checkpoint_age_ms}};
  json f = json::array();
  for (const auto& [finding, reason] : findings) {
    f.push_back({{"finding", finding_name(finding)},
                 {"reason", reason},
                 {"meaning", finding_meaning(finding)},
                 {"exit_code", finding_exit_code(finding)}});
  }
  json chain_rows = json::array();
  for (const auto& r : chain) {
    chain_rows.push_back({{"index", r.index},
                          {"event", r.event},
                          {"member", r.member},
                          {"role", r.role},
                          {"country", r.country},
                          {"time_ms", r.time_ms}});
  }
  return json{{"serial", serial},
              {"verdict", verdict()},
              {"exit_code", exit_code()},
              {"findings", f},
              {"holder", holder},
              {"status", status},
              {"location", location},
              {"site", site},
              {"unit", unit},
              {"children", children},
              {"model", model},
              {"licenses", licenses},
              {"in_transit_for_ms", in_transit_for_ms},
              {"last_attest_ms", last_attest_ms},
              {"chain", chain_rows},
              {"checkpoint", checkpoint}};
}

// ---- CustodyVerifier ----

struct CustodyVerifier::Impl {
  const Consortium& consortium;
  Result<VerifiedCheckpoint> cp;
  VerifierStats stats;
  std::unordered_map<uint64_t, CheckedEvent> checked;  // by log index

  Impl(const Consortium& c, std::string_view note) : consortium(c), cp(verify_checkpoint(c, note)) {
    stats.signatures += note_verifications(c, note);
  }

  Result<const CheckedEvent*> event(uint64_t index, const std::string& tx, const json& proof);
  Status check_entry(const json& index, const json& entry, Replay& replay,
                     std::vector<ChainRow>& rows);
  bool start(VerifyReport& report, uint64_t now_ms) const;
  void finish(Replay& replay, uint64_t now_ms, VerifyReport& report) const;
};

// The event at `index` as checked before when `tx` and `proof` are exactly
// what was checked then; otherwise decodes and checks it in full.
Result<const CheckedEvent*> CustodyVerifier::Impl::event(uint64_t index, const std::string& tx,
                                                         const json& proof) {
  auto it = checked.find(index);
  if (it != checked.end() && it->second.tx == tx && it->second.proof == proof) {
    ++stats.events_reused;
    return &it->second;
  }
  ++stats.events_checked;
  auto where = [&] { return "event at index " + std::to_string(index); };
  auto wire = base64_decode(tx);
  if (!wire) return wire.status().context(where());
  auto stx = SignedTransaction::decode(*wire);
  if (!stx) return stx.status().context(where());
  stats.signatures += reaches_signature(consortium, stx->tx);
  if (Status st = check_signature(consortium, *stx); !st) return st.context(where());
  auto hashes = parse_proof(proof);
  if (!hashes) return hashes.status().context(where());
  Status included = merkle::verify_inclusion(index, cp->checkpoint.size, merkle::leaf_hash(*wire),
                                             *hashes, cp->checkpoint.root);
  if (!included) return included.context(where() + ": inclusion proof");
  std::vector<std::string> serials = stx->tx.serials();
  std::sort(serials.begin(), serials.end());
  // Both texts proved the same leaf at `index`: keeping the newest is as sound.
  auto& slot =
      checked.insert_or_assign(index, CheckedEvent{tx, proof, std::move(*stx), std::move(serials)})
          .first->second;
  return &slot;
}

// Checks one history entry (`index` from the entry or the batch's list),
// then replays it.
Status CustodyVerifier::Impl::check_entry(const json& index, const json& entry, Replay& replay,
                                          std::vector<ChainRow>& rows) {
  const json* tx = nullptr;
  if (entry.is_object()) {
    auto t = entry.find("tx");
    if (t != entry.end() && t->is_string()) tx = &*t;
  }
  if (!tx || !is_whole(index)) return Status::error("a history entry lacks tx or index");
  uint64_t at = index.get<uint64_t>();
  if (!rows.empty() && at <= rows.back().index) {
    return Status::error("history events are not in log order");
  }
  static const json kNone;
  auto p = entry.find("proof");
  auto event = this->event(at, tx->get_ref<const std::string&>(), p != entry.end() ? *p : kNone);
  if (!event) return event.status();
  ChainRow row;
  row.index = at;
  if (Status st = replay.apply(**event, row); !st) {
    return st.context("event at index " + std::to_string(at));
  }
  rows.push_back(std::move(row));
  return Status::ok();
}

// The checkpoint part of a report; false when it already is a proof
// failure or the checkpoint is stale at `now_ms`.
bool CustodyVerifier::Impl::start(VerifyReport& report, uint64_t now_ms) const {
  if (!cp) {
    add(report, Finding::proof_failure, cp.reason());
    return false;
  }
  report.checkpoint_signers = cp->signers;
  report.checkpoint_signed_at = cp->signed_at;
  report.checkpoint_size = cp->checkpoint.size;
  report.checkpoint_age_ms = cp->age_ms(now_ms);
  if (Status fresh = checkpoint_age_status(*cp, consortium.policy(), now_ms); !fresh) {
    add(report, Finding::stale_checkpoint, fresh.reason());
    return false;
  }
  return true;
}

void CustodyVerifier::Impl::finish(Replay& replay, uint64_t now_ms, VerifyReport& report) const {
  if (!replay.state().registered) {
    add(report, Finding::not_registered, "no registration event for " + report.serial);
    return;
  }
  judge(consortium, replay, now_ms, report);
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

CustodyVerifier::CustodyVerifier(const Consortium& consortium, std::string_view checkpoint_note)
    : impl_(std::make_unique<Impl>(consortium, checkpoint_note)) {}
CustodyVerifier::~CustodyVerifier() = default;
CustodyVerifier::CustodyVerifier(CustodyVerifier&&) noexcept = default;
CustodyVerifier& CustodyVerifier::operator=(CustodyVerifier&&) noexcept = default;

const Result<VerifiedCheckpoint>& CustodyVerifier::checkpoint() const { return impl_->cp; }
const VerifierStats& CustodyVerifier::stats() const { return impl_->stats; }

VerifyReport CustodyVerifier::verify(const std::string& serial, const std::optional<json>& history,
                                     uint64_t now_ms) {
  VerifyReport report;
  report.serial = serial;
  if (!impl_->start(report, now_ms)) return report;
  if (!history) {
    add(report, Finding::not_registered, "serial " + serial + " has no events in the ledger");
    return report;
  }
  const json& h = *history;
  bool well_formed = h.is_object() && h.contains("size") && is_whole(h["size"]) &&
                     h.contains("events") && h["events"].is_array();
  if (!well_formed || h["size"].get<uint64_t>() != impl_->cp->checkpoint.size) {
    add(report, Finding::proof_failure, "the history answer does not match the checkpoint's size");
    return report;
  }
  static const json kNone;
  Replay replay(impl_->consortium, serial, impl_->stats.signatures);
  for (const auto& e : h["events"]) {
    auto index = e.is_object() ? e.find("index") : e.end();
    Status st = impl_->check_entry(index != e.end() ? *index : kNone, e, replay, report.chain);
    if (!st) {
      add(report, Finding::proof_failure, st.reason());
      return report;
    }
  }
  impl_->finish(replay, now_ms, report);
  return report;
}

VerifyReport CustodyVerifier::verify_in_batch(const std::string& serial, const json& batch,
                                              uint64_t now_ms) {
  VerifyReport report;
  report.serial = serial;
  if (!impl_->start(report, now_ms)) return report;
  static const json kNone = json::object();
  auto field = [&](const json& j, const std::string& key) -> const json* {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it != j.end() ? &*it : nullptr;
  };
  const json* histories = field(batch, "histories");
  const json* indices = histories ? field(*histories, serial) : nullptr;
  if (!indices) {
    add(report, Finding::proof_failure, "the node's answer lacks serial " + serial);
    return report;
  }
  if (indices->is_null()) {
    add(report, Finding::not_registered, "serial " + serial + " has no events in the ledger");
    return report;
  }
  const json* size = field(batch, "size");
  if (!size || !is_whole(*size) || size->get<uint64_t>() != impl_->cp->checkpoint.size ||
      !indices->is_array()) {
    add(report, Finding::proof_failure, "the history answer does not match the checkpoint's size");
    return report;
  }
  const json* events = field(batch, "events");
  Replay replay(impl_->consortium, serial, impl_->stats.signatures);
  for (const auto& index : *indices) {
    const json* e = events && index.is_number_unsigned()
                        ? field(*events, std::to_string(index.get<uint64_t>()))
                        : nullptr;
    Status st = impl_->check_entry(index, e ? *e : kNone, replay, report.chain);
    if (!st) {
      add(report, Finding::proof_failure, st.reason());
      return report;
    }
  }
  impl_->finish(replay, now_ms, report);
  return report;
}

VerifyReport verify_custody(const Consortium& consortium, const std::string& serial,
                            const std::string& checkpoint_note, const std::optional<json>& history,
                            uint64_t now_ms) {
  return CustodyVerifier(consortium, checkpoint_note).verify(serial, history, now_ms);
}

}  // namespace chipledger
