#include "verify/custody_verifier.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/custody_engine.h"
#include "ledger/custody_rules.h"
#include "ledger/governance_timeline.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"
#include "verify/proven_state.h"

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
    {Finding::revoked_key, "revoked-key", 23,
     "an event was signed by a key that governance later revoked from an index before it: the "
     "key may have been stolen then"},
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
    {Finding::location_unproven, "location-unproven", 24,
     "no recent landmark statement proves the chip near its declared install site"},
    {Finding::location_mismatch, "location-mismatch", 25,
     "a landmark's timing proves the chip farther from its declared install site than the policy "
     "allows"},
};

const FindingInfo& info(Finding f) {
  for (const auto& i : kFindings) {
    if (i.finding == f) return i;
  }
  return kFindings[0];
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
// verifier's checkpoint, with the exact evidence that was checked.
struct CheckedEvent {
  EventEvidence evidence;
  SignedTransaction stx;
};

// What only the verifier tracks about a serial, beside its record: the
// licenses in its history and what its shipments did under them, judged by
// the trust file's export policy.
struct LicenseFacts {
  std::map<std::string, LicenseTerms> terms;  // license events in its history, by id
  std::string pending_dest;                   // the destination of the shipment under way
  std::string pending_covered;                // the license covering it, when one was needed
  std::set<std::string> licensed_countries;   // entered under an export license
  std::vector<std::string> used;              // the licenses of its accepted shipments
  std::vector<std::string> unlicensed;        // shipments that needed a license they lacked
};

// "register H100 (3A090)", "via SRV-1: transfer -> op (export to US)", ...
std::string describe_event(const Transaction& tx, const std::vector<Concern>& concerns,
                           const std::optional<SerialRecord>& before, const SerialRecord& after) {
  bool direct = false;
  std::string unit;
  for (const auto& c : concerns) {
    if (c.kind == ConcernKind::via_unit) {
      unit = c.unit;
    } else {
      direct = true;
    }
  }
  std::string text;
  switch (tx.type) {
    case TxType::register_chips:
      text = "register " + tx.model + (tx.eccn.empty() ? "" : " (" + tx.eccn + ")");
      break;
    case TxType::transfer:
      text = "transfer -> " + tx.to + " (" + after.pending_kind + " to " + tx.ship_to_country +
             (tx.license_id.empty() ? "" : ", license " + tx.license_id) + ")";
      break;
    case TxType::accept:
      text = "accept";
      break;
    case TxType::reject:
      text = "reject" + (tx.reason.empty() ? "" : ": " + tx.reason);
      break;
    case TxType::install:
      text = "install at " + tx.site + " (" + tx.country + ")";
      break;
    case TxType::attest:
      text =
          "chip attests at " + tx.site + " (checkpoint " + std::to_string(tx.checkpoint_size) + ")";
      break;
    case TxType::pack:
      text = concerns.front().kind == ConcernKind::unit_of_pack
                 ? "pack " + std::to_string(tx.refs.size()) + " serials into it"
                 : "pack into " + tx.unit;
      break;
    case TxType::unpack:
      return direct ? "unpack" : "unpack from " + (before ? before->parent : unit);
    case TxType::decommission:
      text = "decommission (" + tx.kind + ")";
      break;
    case TxType::flag:
      text = "flag: " + tx.reason;
      break;
    case TxType::clear:
      text = "clear: " + tx.reason;
      break;
    case TxType::report:
      text = "report " + tx.kind + ": " + tx.reason;
      break;
    case TxType::locate:  // described by Replay::apply, which knows the site
    case TxType::license:
    case TxType::propose:
    case TxType::vote:
    case TxType::rotate_key:
    case TxType::rotate_node_key:
      break;
  }
  return direct ? text : "via " + unit + ": " + text;
}

std::string describe_license(const LicenseTerms& l) {
  return "license " + l.id + ": " + l.exporter + " -> " + l.recipient + ", " +
         std::to_string(l.quantity) + " x " + (l.model.empty() ? l.eccn : l.model) + " to " +
         l.destination;
}

// Why the event at `index`, valid when signed, is suspect: its key's
// revocation (in the consortium at the checkpoint) reached back over it.
std::optional<std::string> revoked_over(const GovernanceTimeline& g, const Transaction& tx,
                                        uint64_t index) {
  const RetiredKey* r = g.latest().retired_key(tx.key_id);
  if (!r || r->member != tx.author || r->from_index > index || index >= r->at_index) {
    return std::nullopt;
  }
  return "the event at index " + std::to_string(index) + " was signed by " + tx.author + "'s key " +
         hex_encode(tx.key_id).substr(0, 16) + "…, revoked from index " +
         std::to_string(r->from_index) + " by the change at index " + std::to_string(r->at_index);
}

// Replays one serial's checked events, in log order, through the ledger's
// custody engine (apply_event): the record it obtains is the ledger's.
class Replay {
 public:
  // `signatures` counts the chip signatures the engine verifies.
  Replay(const GovernanceTimeline& governance, const std::string& serial, uint64_t& signatures)
      : governance_(governance), serial_(serial), signatures_(signatures) {}

  Status apply(const CheckedEvent& event, uint64_t index, ChainRow& row);
  const std::optional<SerialRecord>& record() const { return record_; }
  const LicenseFacts& facts() const { return facts_; }
  // Events signed by a key whose revocation reached back over them.
  const std::vector<std::string>& revoked() const { return revoked_; }
  // The serial's latest install and the location statements since.
  const LocationHistory& located() const { return located_; }

 private:
  void track_licenses(const Transaction& tx, const Member& author, const StepOutcome& step);

  const GovernanceTimeline& governance_;
  const std::string& serial_;
  uint64_t& signatures_;
  std::optional<SerialRecord> record_;
  LicenseFacts facts_;
  std::vector<std::string> revoked_;
  LocationHistory located_;
};

Status rule_broken(const StepOutcome& step) {
  if (step.refusal == RefusalKind::stale_prev) {
    return Status::error("the prev chain is broken: " + step.reason);
  }
  return Status::error("the chain breaks the custody rules: " + step.reason);
}

void Replay::track_licenses(const Transaction& tx, const Member& author, const StepOutcome& step) {
  const bool was_in_transit = record_ && record_->status == CustodyStatus::in_transit;
  if (tx.type == TxType::transfer) {
    facts_.pending_dest = step.destination;
    facts_.pending_covered =
        step.license_needed && step.export_findings.empty() ? tx.license_id : "";
    for (const auto& why : step.export_findings) {
      facts_.unlicensed.push_back(
          "shipped by " + author.id + " to " + tx.to + " in " + step.destination +
          (tx.license_id.empty() ? " without a license"
                                 : " under license " + tx.license_id + ": " + why));
    }
  } else if ((tx.type == TxType::accept || tx.type == TxType::reject) && was_in_transit) {
    if (tx.type == TxType::accept && !facts_.pending_covered.empty()) {
      facts_.licensed_countries.insert(facts_.pending_dest);
      facts_.used.push_back(facts_.pending_covered);
    }
    facts_.pending_dest.clear();
    facts_.pending_covered.clear();
  }
}

// The event as fields for programs (ChainRow's type ... kind), from the
// transaction and the serial's record before it.
void fill_event_fields(ChainRow& row, const Transaction& tx, const Member& author,
                       const SerialRecord* before, const std::string& serial) {
  row.type = std::string(tx_type_name(tx.type));
  if (before) row.from = before->holder;
  switch (tx.type) {
    case TxType::transfer:
      row.to = tx.to;
      row.ship_to = tx.ship_to_country;
      row.license = tx.license_id;
      break;
    case TxType::accept:
      row.to = author.id;
      break;
    case TxType::license:
      row.license = tx.license.id;
      break;
    case TxType::register_chips:
      row.site = tx.fab_site;
      break;
    case TxType::install:
    case TxType::attest:
      row.site = tx.site;
      break;
    case TxType::pack:
      row.unit = tx.unit;
      break;
    case TxType::unpack:  // the unit left: for the unit itself, the unit
      if (before) row.unit = before->children.empty() ? before->parent : serial;
      break;
    case TxType::report:
    case TxType::decommission:
      row.kind = tx.kind;
      break;
    default:
      break;
  }
}

Status Replay::apply(const CheckedEvent& event, uint64_t index, ChainRow& row) {
  const SignedTransaction& stx = event.stx;
  const Transaction& tx = stx.tx;
  // Judged by the members, keys and policy in force at its index.
  const Consortium& c = governance_.at(index);
  const Member& author = *c.member(tx.author);  // check_signature found it
  row.member = author.id;
  row.key_id = hex_encode(tx.key_id);
  row.txid = hex_encode(stx.txid);
  fill_event_fields(row, tx, author, record_ ? &*record_ : nullptr, serial_);
  // Valid at its index; a revocation later in the log may reach back over it.
  if (auto why = revoked_over(governance_, tx, index)) {
    const RetiredKey& r = *governance_.latest().retired_key(tx.key_id);
    row.key_status = "revoked from index " + std::to_string(r.from_index) + " (at index " +
                     std::to_string(r.at_index) + ")";
    revoked_.push_back(std::move(*why));
  }
  row.role = first_role(author);
  row.country = author.country;
  row.time_ms = tx.time_ms;
  if (tx.type == TxType::license) {
    if (Status st = check_license_issue(c, tx); !st) {
      return Status::error("the chain breaks the custody rules: " + st.reason());
    }
    facts_.terms[tx.license.id] = tx.license;
    row.event = describe_license(tx.license);
    return Status::ok();
  }
  std::vector<Concern> concerns = concerns_of(tx, serial_, record_);
  if (concerns.empty()) return Status::error("the event does not concern serial " + serial_);
  EventContext context;
  context.license_rule = LicenseRule::report;
  if (tx.type == TxType::transfer && !tx.license_id.empty()) {
    auto it = facts_.terms.find(tx.license_id);
    if (it != facts_.terms.end()) context.license = &it->second;
  }
  StepOutcome step = apply_event(c, serial_, record_, stx, index, concerns, context);
  if (!step.ok()) return rule_broken(step);
  if (tx.type == TxType::attest) {
    for (const auto& c : concerns) {
      bool chip = c.kind == ConcernKind::via_unit || (record_ && record_->children.empty());
      signatures_ += chip ? 1 : 0;
    }
  }
  track_licenses(tx, author, step);
  if (tx.type == TxType::locate) {
    std::vector<LocationStatement> mine;
    for (const auto& st : tx.statements) {
      if (st.serial == serial_) mine.push_back(st);
    }
    row.event = describe_statements(c, step.record->site, mine);
    row.site = step.record->site;
    for (auto& st : mine) {
      const Landmark* then = c.landmark(st.landmark);  // the engine found it in force
      located_.statements.push_back({index, std::move(st),
                                     then ? std::optional(*then) : std::nullopt,
                                     c.location_policy().km_per_ms});
    }
  } else {
    row.event = describe_event(tx, concerns, record_, *step.record);
  }
  // Statements count for the install they were made at.
  if (tx.type == TxType::install) {
    const Site* site = c.site(tx.site);
    located_ = {index, site ? std::optional(*site) : std::nullopt, {}};
  } else if (!step.record->installed) {
    located_ = {};
  }
  record_ = std::move(step.record);
  return Status::ok();
}

void add(VerifyReport& r, Finding f, std::string reason) {
  r.findings.emplace_back(f, std::move(reason));
}

// The findings the replayed record and the license facts imply
// (docs/verdicts.md).
void judge_location_of(const Consortium& c, const SerialRecord& s, const LocationHistory& located,
                       uint64_t now_ms, VerifyReport& r) {
  LocationJudgement j = judge_location(c, s, located, now_ms);
  r.location_verdict = j.verdict;
  r.location_proofs = std::move(j.proofs);
  if (j.verdict == LocationVerdict::mismatch) add(r, Finding::location_mismatch, j.reason);
  if (j.verdict == LocationVerdict::unproven) add(r, Finding::location_unproven, j.reason);
}

void judge(const Consortium& c, const SerialRecord& s, const LicenseFacts& facts,
           const LocationHistory& located, uint64_t now_ms, VerifyReport& r) {
  const Policy& p = c.policy();
  const bool in_transit = s.status == CustodyStatus::in_transit;
  const bool decommissioned = s.status == CustodyStatus::decommissioned;
  r.holder = s.holder;
  r.status = std::string(custody_status_name(s.status));
  r.location = s.location_country;
  r.site = s.site;
  r.unit = s.parent;
  r.children = s.children;
  r.model = s.model;
  r.licenses = facts.used;
  r.last_attest_ms = s.last_attest_ms;
  if (s.flagged) add(r, Finding::flagged, "flagged by the regulator: " + s.flag_reason);
  if (s.open_reports > 0) {
    add(r, Finding::reported,
        std::to_string(s.open_reports) + " open report(s), latest: " + s.report_kind);
  }
  for (const auto& u : facts.unlicensed) add(r, Finding::unlicensed_export, u);
  // Only controlled chips need a license to be in a restricted destination.
  bool controlled = p.is_controlled(s.model, s.eccn);
  auto unlicensed_in = [&](const std::string& country) {
    return controlled && p.is_restricted(country) && !facts.licensed_countries.count(country);
  };
  if (in_transit && facts.pending_covered.empty() && unlicensed_in(facts.pending_dest)) {
    add(r, Finding::restricted_destination,
        "bound for " + facts.pending_dest + " without a license");
  } else if (!in_transit && unlicensed_in(s.location_country)) {
    add(r, Finding::restricted_destination,
        "located in " + s.location_country + " without a license");
  }
  if (decommissioned) {
    add(r, Finding::decommissioned, "decommissioned by " + s.holder);
    return;
  }
  if (in_transit) {
    r.in_transit_for_ms = now_ms > s.transit_since_ms ? now_ms - s.transit_since_ms : 0;
    if (r.in_transit_for_ms > p.max_transit_ms) {
      add(r, Finding::in_transit,
          "in transit from " + s.holder + " to " + s.pending_to + " for " +
              hours(r.in_transit_for_ms) + ", over the policy's " + hours(p.max_transit_ms));
    }
  }
  bool permitted = p.permitted_install_countries.empty()
                       ? !unlicensed_in(s.location_country)
                       : p.permitted_install_countries.count(s.location_country) != 0;
  if (!s.installed) {
    add(r, Finding::not_installed,
        !in_transit ? "held by " + s.holder + ", not installed"
                    : "in transit to " + s.pending_to + " for " + hours(r.in_transit_for_ms) +
                          ", not installed");
    return;
  }
  if (!permitted) {
    add(r, Finding::not_installed,
        "installed in " + s.location_country + ", not a permitted country");
  }
  if (s.last_attest_ms == 0) {
    add(r, Finding::never_attested, "installed at " + s.site + " but the chip never attested");
  } else if (now_ms > s.last_attest_ms && now_ms - s.last_attest_ms > p.max_attestation_age_ms) {
    add(r, Finding::stale_attestation,
        "latest chip attestation is " + hours(now_ms - s.last_attest_ms) +
            " old, over the policy's " + hours(p.max_attestation_age_ms));
  }
  // A unit (a server) is located by its chips; only a chip is judged.
  if (s.children.empty()) judge_location_of(c, s, located, now_ms, r);
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
                          {"type", r.type},
                          {"txid", r.txid},
                          {"from", r.from},
                          {"to", r.to},
                          {"ship_to", r.ship_to},
                          {"license", r.license},
                          {"site", r.site},
                          {"unit", r.unit},
                          {"kind", r.kind},
                          {"member", r.member},
                          {"role", r.role},
                          {"country", r.country},
                          {"key", r.key_id},
                          {"key_status", r.key_status},
                          {"time_ms", r.time_ms}});
  }
  json proofs = json::array();
  for (const auto& p : location_proofs) {
    json one{{"index", p.index},
             {"landmark", p.landmark},
             {"round_trip_us", p.round_trip_us},
             {"bound_km", p.bound_km},
             {"distance_km", p.distance_km},
             {"time_ms", p.time_ms},
             {"kind", proof_kind_name(p.kind)}};
    if (!p.why.empty()) one["why"] = p.why;
    proofs.push_back(std::move(one));
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
              {"location_proof",
               {{"verdict", location_verdict_name(location_verdict)}, {"statements", proofs}}},
              {"chain", chain_rows},
              {"governance", {{"events", governance_events}, {"changes", governance_changes}}},
              {"checkpoint", checkpoint}};
}

// ---- CustodyVerifier ----

struct CustodyVerifier::Impl {
  const Consortium& consortium;  // the genesis trust file
  Result<VerifiedCheckpoint> cp;
  GovernanceTimeline governance;
  // Why the governance history did not check: every report a proof-failure.
  std::optional<std::string> governance_failure;
  bool followed = false;
  // Governance events signed by a key whose revocation reached back over
  // them: a revoked-key finding in every report.
  std::vector<std::string> governance_revoked;
  VerifierStats stats;
  std::unordered_map<uint64_t, CheckedEvent> checked;  // by log index
  std::optional<SerialRecord> replayed;                // the latest verify()'s

  // The note as signed, and its checkpoint read before any signature is
  // checked: the governance history is checked against its root, and then
  // its signatures by the nodes in force at its size.
  std::string note;
  Result<Checkpoint> tree;

  Impl(const Consortium& c, std::string_view note_text)
      : consortium(c),
        cp(verify_checkpoint(c, note_text)),
        governance(c),
        note(note_text),
        tree(checkpoint_of(note_text)) {
    stats.signatures += note_verifications(c, note_text);
  }
  static Result<Checkpoint> checkpoint_of(std::string_view note_text) {
    auto parsed = parse_note(note_text);
    if (!parsed) return parsed.status().context("the checkpoint note");
    return Checkpoint::parse(parsed->text);
  }
  void judge_by_nodes_in_force();

  Result<const CheckedEvent*> event(const EventEvidence& evidence, const Consortium& in_force);
  Status follow(const HistoryEvidence& evidence);
  Status check_attested(const EventEvidence& evidence, const Transaction& tx) const;
  Status replay(const HistoryEvidence& evidence, const SerialEvidence& serial, Replay& replay,
                std::vector<ChainRow>& rows);
  bool start(VerifyReport& report, uint64_t now_ms) const;
  Status check_state(const SerialEvidence& serial, const std::optional<SerialRecord>& replayed);
  void finish(const Replay& replay, uint64_t now_ms, VerifyReport& report) const;
};

// The event as checked before when its leaf and proof are exactly what was
// checked then; otherwise decodes and checks it in full.
Result<const CheckedEvent*> CustodyVerifier::Impl::event(const EventEvidence& evidence,
                                                         const Consortium& in_force) {
  const uint64_t index = evidence.index;
  auto it = checked.find(index);
  if (it != checked.end() && it->second.evidence == evidence) {
    ++stats.events_reused;
    return &it->second;
  }
  ++stats.events_checked;
  auto where = [&] { return "event at index " + std::to_string(index); };
  auto stx = SignedTransaction::decode(evidence.leaf);
  if (!stx) return stx.status().context(where());
  stats.signatures += reaches_signature(in_force, stx->tx);
  if (Status st = check_signature(in_force, *stx); !st) return st.context(where());
  Status included = merkle::verify_inclusion(index, tree->size, merkle::leaf_hash(evidence.leaf),
                                             evidence.proof, tree->root);
  if (!included) return included.context(where() + ": inclusion proof");
  if (stx->tx.type == TxType::attest) CL_TRY(check_attested(evidence, stx->tx).context(where()));
  // Both copies proved the same leaf at `index`: keeping the newest is as sound.
  auto& slot =
      checked.insert_or_assign(index, CheckedEvent{evidence, std::move(*stx)}).first->second;
  return &slot;
}

// An attestation's chips signed a checkpoint (size, root) of this log: the
// node's consistency proof must show that tree to be a prefix of the
// verified checkpoint's, so no attestation can name a root from another
// history. The ledger allows only a checkpoint it had before the
// attestation, so the size is at most the event's index.
Status CustodyVerifier::Impl::check_attested(const EventEvidence& evidence,
                                             const Transaction& tx) const {
  const Checkpoint& trusted = *tree;
  const std::string named = "the attested checkpoint (size " + std::to_string(tx.checkpoint_size) +
                            ", root " + hex_encode(tx.checkpoint_root).substr(0, 16) + "…)";
  if (tx.checkpoint_size == 0 || tx.checkpoint_size > evidence.index) {
    return Status::error(named + " is not a checkpoint before the attestation at index " +
                         std::to_string(evidence.index));
  }
  if (!evidence.consistency) {
    return Status::error("the node gave no consistency proof for " + named +
                         ": it cannot be shown to be in this log");
  }
  Status st = merkle::verify_consistency(tx.checkpoint_size, trusted.size, tx.checkpoint_root,
                                         trusted.root, *evidence.consistency);
  if (!st) {
    // (verify_consistency's reason starts "consistency proof: ...")
    return st.context(named + " is not a prefix of the verified checkpoint (size " +
                      std::to_string(trusted.size) + ")");
  }
  return Status::ok();
}

// Checks and replays the serial's events, in log order.
Status CustodyVerifier::Impl::replay(const HistoryEvidence& evidence, const SerialEvidence& serial,
                                     Replay& replay, std::vector<ChainRow>& rows) {
  for (uint64_t at : serial.indices) {
    if (!rows.empty() && at <= rows.back().index) {
      return Status::error("history events are not in log order");
    }
    const EventEvidence* e = evidence.event(at);
    if (!e)
      return Status::error("a history entry lacks tx or index (event " + std::to_string(at) + ")");
    auto event = this->event(*e, governance.at(at));
    if (!event) return event.status();
    ChainRow row;
    row.index = at;
    if (Status st = replay.apply(**event, at, row); !st) {
      return st.context("event at index " + std::to_string(at));
    }
    rows.push_back(std::move(row));
  }
  return Status::ok();
}

// What the replay of `serial`'s history gave against the state the
// checkpoint commits to: the proven record must be exactly the replayed one
// (an event left out changes its event count, latest event and more), and
// a serial with no history must be proven absent.
Status CustodyVerifier::Impl::check_state(const SerialEvidence& serial,
                                          const std::optional<SerialRecord>& replayed) {
  ++stats.state_proofs;
  auto proven = proven_state(*tree, serial);
  if (!proven) return proven.status();
  if (!*proven) {
    if (replayed) {
      return Status::error("the state map proves serial " + serial.serial +
                           " absent, but its history registers it");
    }
    return Status::ok();
  }
  const SerialRecord& committed = **proven;
  auto describe = [](const SerialRecord& r) {
    return std::to_string(r.events) + " event(s), the latest at log index " +
           std::to_string(r.last_index);
  };
  if (!replayed) {
    return Status::error("the state map shows serial " + serial.serial + " registered (" +
                         describe(committed) +
                         "), but the node gave no history for it: events were withheld");
  }
  if (*replayed != committed) {
    return Status::error("the history of serial " + serial.serial +
                         " does not give its committed state: the state map shows " +
                         describe(committed) + ", the history's replay gives " +
                         describe(*replayed) + ": events were withheld or altered");
  }
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
  report.governance_events = governance.record() ? governance.record()->events : 0;
  report.governance_changes = governance.changes();
  // Fail closed: judged by an unproven consortium, nothing is believed.
  if (governance_failure || !followed) {
    add(report, Finding::proof_failure,
        governance_failure ? *governance_failure
                           : "the governance history was not followed (follow_governance): the "
                             "members, keys and policy in force are unproven");
    return false;
  }
  if (Status fresh = checkpoint_age_status(*cp, governance.latest().policy(), now_ms); !fresh) {
    add(report, Finding::stale_checkpoint, fresh.reason());
    return false;
  }
  for (const auto& why : governance_revoked) add(report, Finding::revoked_key, why);
  return true;
}

void CustodyVerifier::Impl::finish(const Replay& replay, uint64_t now_ms,
                                   VerifyReport& report) const {
  if (!replay.record()) {
    add(report, Finding::not_registered, "no registration event for " + report.serial);
    return;
  }
  for (const auto& why : replay.revoked()) add(report, Finding::revoked_key, why);
  judge(governance.latest(), *replay.record(), replay.facts(), replay.located(), now_ms, report);
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

// Checks the governance history (each event's signature against the
// consortium in force at its index, its inclusion proof) and replays it
// into the timeline; its replay must give exactly the record the state map
// commits under kGovernanceHistory, so no governance transaction was left out.
Status CustodyVerifier::Impl::follow(const HistoryEvidence& evidence) {
  if (evidence.size != tree->size) {
    return Status::error("the answer does not match the checkpoint's size");
  }
  const SerialEvidence* history = evidence.find(kGovernanceHistory);
  if (!history) return Status::error("the node's answer lacks it");
  std::optional<uint64_t> last;
  for (uint64_t at : history->indices) {
    auto where = [&] { return "event at index " + std::to_string(at); };
    if (last && at <= *last) return Status::error("its events are not in log order");
    last = at;
    const EventEvidence* e = evidence.event(at);
    if (!e) return Status::error(where() + " is listed without its transaction");
    auto event = this->event(*e, governance.at(at));
    if (!event) return event.status();
    if (!is_governance((*event)->stx.tx.type)) {
      return Status::error(where() + " is not a governance transaction");
    }
    CL_TRY(governance.apply((*event)->stx, at).context(where()));
  }
  CL_TRY(check_state(*history, governance.record()));
  for (uint64_t at : history->indices) {
    const Transaction& tx = checked.at(at).stx.tx;
    if (auto why = revoked_over(governance, tx, at)) {
      governance_revoked.push_back("governance: " + *why);
    }
  }
  return Status::ok();
}

// Whether two consortia judge a checkpoint alike: the same nodes with the
// same keys, and the same quorum.
bool same_nodes(const Consortium& a, const Consortium& b) {
  if (a.quorum() != b.quorum() || a.nodes().size() != b.nodes().size()) return false;
  for (const auto& n : a.nodes()) {
    const NodeInfo* m = b.node(n.id);
    if (!m || m->key.key_id() != n.key.key_id()) return false;
  }
  return true;
}

// The governance changed the nodes or the quorum: the checkpoint is judged
// by those in force at its size (docs/governance.md, section 6), not by
// the genesis ones: a removed node's signature no longer counts, an added
// node's does.
void CustodyVerifier::Impl::judge_by_nodes_in_force() {
  const Consortium& in_force = governance.latest();
  if (same_nodes(in_force, consortium)) return;
  cp = verify_checkpoint(in_force, note);
  if (!cp)
    cp = Result<VerifiedCheckpoint>(cp.status().context("by the nodes in force at its size"));
  stats.signatures += note_verifications(in_force, note);
}

CustodyVerifier::CustodyVerifier(const Consortium& consortium, std::string_view checkpoint_note)
    : impl_(std::make_unique<Impl>(consortium, checkpoint_note)) {}
CustodyVerifier::~CustodyVerifier() = default;
CustodyVerifier::CustodyVerifier(CustodyVerifier&&) noexcept = default;
CustodyVerifier& CustodyVerifier::operator=(CustodyVerifier&&) noexcept = default;

const Result<VerifiedCheckpoint>& CustodyVerifier::checkpoint() const { return impl_->cp; }
const Result<Checkpoint>& CustodyVerifier::unverified_checkpoint() const { return impl_->tree; }

Status CustodyVerifier::follow_governance(const Result<HistoryEvidence>& evidence) {
  if (!impl_->tree) return impl_->tree.status();
  if (impl_->followed) return Status::error("the governance history was followed already");
  impl_->followed = true;
  Status st = evidence ? impl_->follow(*evidence) : evidence.status();
  if (!st) {
    impl_->governance_failure = "the governance history does not check: " + st.reason();
    // Judged by an unproven node set, the checkpoint proves nothing either.
    impl_->cp = Result<VerifiedCheckpoint>(Status::error(*impl_->governance_failure));
    return Status::error(*impl_->governance_failure);
  }
  impl_->judge_by_nodes_in_force();
  return Status::ok();
}

const GovernanceTimeline& CustodyVerifier::governance() const { return impl_->governance; }

void CustodyVerifier::assume_no_governance() { impl_->followed = true; }
const VerifierStats& CustodyVerifier::stats() const { return impl_->stats; }
const std::optional<SerialRecord>& CustodyVerifier::replayed() const { return impl_->replayed; }

VerifyReport CustodyVerifier::verify(const std::string& serial,
                                     const Result<HistoryEvidence>& evidence, uint64_t now_ms) {
  VerifyReport report;
  report.serial = serial;
  impl_->replayed.reset();
  if (!impl_->start(report, now_ms)) return report;
  if (!evidence) {
    add(report, Finding::proof_failure, "the node's answer is malformed: " + evidence.reason());
    return report;
  }
  const SerialEvidence* mine = evidence->find(serial);
  if (!mine) {
    add(report, Finding::proof_failure, "the node's answer lacks serial " + serial);
    return report;
  }
  if (evidence->size != impl_->cp->checkpoint.size) {
    add(report, Finding::proof_failure, "the history answer does not match the checkpoint's size");
    return report;
  }
  Replay replay(impl_->governance, serial, impl_->stats.signatures);
  if (Status st = impl_->replay(*evidence, *mine, replay, report.chain); !st) {
    add(report, Finding::proof_failure, st.reason());
    return report;
  }
  // The history is complete only if its replay gives exactly the record
  // the checkpoint's state map commits to (or the map proves it absent).
  if (Status st = impl_->check_state(*mine, replay.record()); !st) {
    add(report, Finding::proof_failure, st.reason());
    return report;
  }
  impl_->replayed = replay.record();
  if (!replay.record()) {
    add(report, Finding::not_registered,
        "the state map proves serial " + serial + " was never registered");
    return report;
  }
  impl_->finish(replay, now_ms, report);
  return report;
}

VerifyReport verify_custody(const Consortium& consortium, const std::string& serial,
                            const std::string& checkpoint_note,
                            const Result<HistoryEvidence>& evidence, uint64_t now_ms) {
  CustodyVerifier v(consortium, checkpoint_note);
  v.assume_no_governance();
  return v.verify(serial, evidence, now_ms);
}

}  // namespace chipledger
