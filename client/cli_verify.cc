// Commands that read: history and license-status (the node's view, not
// verified), status (a serial's state, proven by the checkpoint's state
// map) and verify (one serial, or a batch from a CSV); status and verify
// trust only the consortium trust file.
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "client/batch_verifier.h"
#include "client/cli_common.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "ledger/transaction_json.h"
#include "verify/custody_verifier.h"
#include "verify/proven_state.h"

namespace chipledger::cli {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* field) {
  return j.contains(field) && j[field].is_string() ? j[field].get<std::string>() : "";
}
uint64_t num(const json& j, const char* field) {
  return j.contains(field) && j[field].is_number_unsigned() ? j[field].get<uint64_t>() : 0;
}

std::string ago(uint64_t ms) {
  uint64_t now = now_ms();
  return now > ms ? format_duration(now - ms) + " ago" : "just now";
}

std::string join(const std::vector<std::string>& v, size_t max) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += (i ? " " : "") + v[i];
  if (v.size() > max) out += " … (" + std::to_string(v.size()) + " in all)";
  return out;
}

// The checkpoint in --json: size, signers, each signer's time, age.
json checkpoint_json(const VerifiedCheckpoint& cp, uint64_t now) {
  json signed_at = json::object();  // node id -> its signature time (POSIX seconds)
  for (const auto& s : cp.signed_at) signed_at[s.node_id] = s.time;
  return json{{"size", cp.checkpoint.size},
              {"signers", cp.signers},
              {"signed_at", signed_at},
              {"age_ms", cp.age_ms(now)}};
}

std::string fixed3(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", v);
  return text;
}

// "located within 43 km of its site by lm-ashburn": the proof that leaves
// the least room (for a report whose location is proven).
std::string located(const VerifyReport& r) {
  const LocationProof* best = tightest_proof(r.location_proofs, true);
  if (!best) return "location proven";
  return "located within " +
         std::to_string(static_cast<uint64_t>(best->distance_km + 0.5) + best->bound_km) +
         " km of its site by " + best->landmark;
}

void row(const std::string& label, const std::string& value) {
  std::cout << std::left << std::setw(13) << label << std::right << value << "\n";
}

void print_report(const VerifyReport& r) {
  std::cout << "custody chain of " << r.serial << (r.model.empty() ? "" : " (" + r.model + ")")
            << "\n";
  // The event column fits the longest event, up to kMaxEvent characters
  // (longer ones, e.g. a flag's reason, are cut; --json has them whole).
  constexpr size_t kMaxEvent = 76;
  size_t width = 44;
  for (const auto& c : r.chain) width = std::max(width, std::min(c.event.size(), kMaxEvent) + 2);
  auto cut = [&](const std::string& e) {
    if (e.size() <= kMaxEvent) return e;
    size_t n = kMaxEvent - 3;
    while (n > 0 && (static_cast<unsigned char>(e[n]) & 0xC0) == 0x80) --n;  // whole UTF-8 only
    return e.substr(0, n) + "...";
  };
  std::cout << std::left << std::setw(8) << "index" << std::setw(static_cast<int>(width)) << "event"
            << std::setw(13) << "member" << std::setw(14) << "role" << std::setw(9) << "country"
            << std::setw(22) << "time (UTC)"
            << "key\n";
  for (const auto& c : r.chain) {
    std::cout << std::left << std::setw(8) << c.index << std::setw(static_cast<int>(width))
              << cut(c.event) << std::setw(13) << c.member << std::setw(14) << c.role
              << std::setw(9) << c.country << std::setw(22) << format_time(c.time_ms)
              << c.key_id.substr(0, 12) << (c.key_status == "valid" ? "" : "  " + c.key_status)
              << "\n";
  }
  std::cout << std::right;
  if (!r.checkpoint_signers.empty()) {
    std::cout << "checkpoint: log size " << r.checkpoint_size << ", signed by "
              << join(r.checkpoint_signers, 16) << ", " << format_duration(r.checkpoint_age_ms)
              << " ago\n";
    std::cout << "governance: " << r.governance_events << " transaction(s) followed from the "
              << "trust file, " << r.governance_changes
              << " change(s); each event is judged by the members and keys in force at its "
                 "index\n";
  }
  if (!r.holder.empty()) {
    std::cout << "state: "
              << (r.status == "held"         ? "held by "
                  : r.status == "in-transit" ? "in transit, sent by "
                                             : r.status + ", last held by ")
              << r.holder;
    if (!r.location.empty()) std::cout << " in " << r.location;
    if (!r.site.empty()) std::cout << ", installed at " << r.site;
    if (!r.unit.empty()) std::cout << ", packed in " << r.unit;
    if (!r.children.empty()) std::cout << ", holds " << r.children.size() << " packed chips";
    std::cout << "\n";
    if (r.status == "in-transit") {
      std::cout << "in transit for " << format_duration(r.in_transit_for_ms) << "\n";
    }
    std::cout << "latest chip attestation: "
              << (r.last_attest_ms
                      ? format_time(r.last_attest_ms) + " (" + ago(r.last_attest_ms) + ")"
                      : std::string("never"))
              << "\n";
    if (r.location_verdict != LocationVerdict::not_judged) {
      std::cout << "location: " << location_verdict_name(r.location_verdict) << "\n";
      for (const auto& p : r.location_proofs) {
        std::cout << "    " << p.landmark << " at " << format_time(p.time_ms) << ": round trip "
                  << fixed3(static_cast<double>(p.round_trip_us) / 1000) << " ms, within "
                  << p.bound_km << " km of it; it is " << static_cast<uint64_t>(p.distance_km + 0.5)
                  << " km from the site: " << proof_kind_name(p.kind)
                  << (p.why.empty() ? "" : " (" + p.why + ")") << "\n";
      }
    }
  }
  for (const auto& [finding, reason] : r.findings) {
    std::cout << "finding " << finding_name(finding) << " (exit " << finding_exit_code(finding)
              << "): " << reason << "\n"
              << "    " << finding_meaning(finding) << "\n";
  }
  if (r.ok()) {
    std::cout << "verdict: ok — " << r.chain.size() << " events, every signature, prev link and "
              << "inclusion proof checks; held by " << r.holder << ", installed at " << r.site
              << " in " << r.location << ", attested " << ago(r.last_attest_ms)
              << (r.location_verdict == LocationVerdict::proven ? ", " + located(r) : "")
              << (r.licenses.empty() ? "" : ", exported under license " + join(r.licenses, 4))
              << "\n";
  } else {
    std::cout << "verdict: " << r.verdict() << "\n";
  }
}

// One line of the batch table: the most telling detail of a report.
std::string detail(const VerifyReport& r) {
  if (!r.ok()) return r.findings.front().second;
  std::string out = "installed at " + r.site + ", attested " + ago(r.last_attest_ms);
  if (r.location_verdict == LocationVerdict::proven) out += ", " + located(r);
  if (!r.licenses.empty()) out += ", exported under license " + join(r.licenses, 4);
  return out;
}

int verify_batch(const Args& a, BatchVerifier& v) {
  auto serials = collect_serials(a);
  std::vector<VerifyReport> reports;
  {
    Progress progress("verifying", serials.size());
    reports = need(v.verify_all(serials, [&](size_t n) { progress.advance(n); }));
  }
  const VerifiedCheckpoint* cp = v.checkpoint();
  uint64_t now = now_ms();
  // Counts per verdict, most severe first (ok last); the batch's exit code
  // is its most severe finding's.
  std::map<int, std::pair<std::string, std::vector<std::string>>> by_verdict;  // rank -> ...
  std::optional<Finding> worst;
  for (const auto& r : reports) {
    int rank = r.ok() ? 1000 : static_cast<int>(r.findings.front().first);
    if (!r.ok() && (!worst || r.findings.front().first < *worst)) worst = r.findings.front().first;
    auto& [name, list] = by_verdict[rank];
    name = r.verdict();
    list.push_back(r.serial);
  }
  int exit_code = worst ? finding_exit_code(*worst) : 0;
  if (a.json_out) {
    json counts = json::object();
    for (const auto& [rank, v2] : by_verdict) counts[v2.first] = v2.second.size();
    json results = json::array();
    for (const auto& r : reports) {
      json f = json::array();
      for (const auto& [finding, reason] : r.findings) {
        f.push_back({{"finding", finding_name(finding)},
                     {"reason", reason},
                     {"exit_code", finding_exit_code(finding)}});
      }
      results.push_back({{"serial", r.serial},
                         {"verdict", r.verdict()},
                         {"exit_code", r.exit_code()},
                         {"holder", r.holder},
                         {"status", r.status},
                         {"location", r.location},
                         {"site", r.site},
                         {"unit", r.unit},
                         {"last_attest_ms", r.last_attest_ms},
                         {"findings", f}});
    }
    json out{{"total", reports.size()},
             {"verdict", worst ? std::string(finding_name(*worst)) : "ok"},
             {"exit_code", exit_code},
             {"counts", counts},
             {"results", results}};
    if (cp) out["checkpoint"] = checkpoint_json(*cp, now);
    std::cout << out.dump(2) << "\n";
    return exit_code;
  }
  if (cp) {
    std::cout << "verified " << reports.size() << " serial" << (reports.size() == 1 ? "" : "s")
              << " against checkpoint " << cp->checkpoint.size << " (signed by "
              << join(cp->signers, 16) << ", " << format_duration(cp->age_ms(now)) << " ago)\n";
  }
  constexpr size_t kListMax = 50;
  if (a.list || reports.size() <= kListMax) {
    size_t sw = 8;
    for (const auto& r : reports) sw = std::max(sw, r.serial.size() + 2);
    std::cout << std::left << std::setw(static_cast<int>(sw)) << "serial" << std::setw(24)
              << "verdict" << std::setw(13) << "holder" << std::setw(9) << "country"
              << "detail\n";
    for (const auto& r : reports) {
      std::cout << std::setw(static_cast<int>(sw)) << r.serial << std::setw(24) << r.verdict()
                << std::setw(13) << r.holder << std::setw(9) << r.location << detail(r) << "\n";
    }
    std::cout << std::right << "\n";
  }
  std::cout << std::left << std::setw(24) << "verdict" << std::setw(8) << "count" << std::setw(6)
            << "exit"
            << "serials\n";
  for (const auto& [rank, v2] : by_verdict) {
    const auto& [name, list] = v2;
    int code = rank == 1000 ? 0 : finding_exit_code(static_cast<Finding>(rank));
    std::cout << std::setw(24) << name << std::setw(8) << list.size();
    if (rank == 1000) {
      std::cout << code << "\n";
    } else {
      std::cout << std::setw(6) << code << join(list, 5) << "\n";
    }
  }
  std::cout << std::right << "exit status " << exit_code << " ("
            << (worst ? std::string(finding_name(*worst)) : "all ok") << ")\n";
  return exit_code;
}

}  // namespace

// The serial's state at the node's latest checkpoint, proven: the
// checkpoint's quorum, freshness and memory checked as `verify` checks
// them, then the state map's proof of the record (or of its absence)
// against the checkpoint's state root (docs/verdicts.md, "status").
int cmd_status(const Args& a) {
  require_valid_serial(a.serial);
  const Consortium& consortium = trust(a);
  auto node = connect(a);
  auto v = need(BatchVerifier::open(consortium, *node, now_ms, &memory(a)));
  auto fail = [&](Finding f, const std::string& reason) {
    std::cerr << "serial " << a.serial << ": " << finding_name(f) << ": " << reason << "\n";
    return finding_exit_code(f);
  };
  if (const auto& refused = v.refused()) return fail(refused->first, refused->second);
  if (!v.note()) return fail(Finding::proof_failure, v.note().reason());
  const VerifiedCheckpoint& cp = *v.checkpoint();
  const uint64_t now = now_ms();
  // Fresh by the policy in force at the checkpoint (governance may change it).
  if (Status fresh = checkpoint_age_status(cp, v.governance().latest().policy(), now); !fresh) {
    return fail(Finding::stale_checkpoint, fresh.reason());
  }
  // A malformed answer proves nothing: a proof-failure, as in `verify`.
  auto answer = need(node->state(a.serial, cp.checkpoint.size));
  auto evidence = decode_state_answer(a.serial, cp.checkpoint.size, answer);
  if (!evidence) return fail(Finding::proof_failure, evidence.reason());
  auto proven = proven_state(cp.checkpoint, *evidence);
  if (!proven) return fail(Finding::proof_failure, proven.reason());
  if (!*proven) {
    std::cerr << "serial " << a.serial << " is not registered (the state map of checkpoint "
              << cp.checkpoint.size << " proves it absent)\n";
    return finding_exit_code(Finding::not_registered);
  }
  json view = serial_record_view(a.serial, **proven);
  if (a.json_out) {
    view["checkpoint"] = checkpoint_json(cp, now);
    std::cout << view.dump(2) << "\n";
    return 0;
  }
  const json& s = view;
  std::string signers;
  for (const auto& name : cp.signers) signers += (signers.empty() ? "" : ", ") + name;
  row("serial", a.serial);
  row("proven", "by the state map of checkpoint " + std::to_string(cp.checkpoint.size) +
                    ", signed by " + signers + ", " + format_duration(cp.age_ms(now)) +
                    " ago (the current state; `verify` judges its history)");
  std::string model = str(s, "model");
  if (!str(s, "eccn").empty()) model += " (" + str(s, "eccn") + ")";
  row("model", model + ", by " + str(s, "manufacturer") + " in " + str(s, "origin_country"));
  row("status", str(s, "status"));
  row("holder", str(s, "holder"));
  if (!str(s, "pending_to").empty()) {
    std::string t = "to " + str(s, "pending_to") + ", ship to " + str(s, "pending_ship_to") + " (" +
                    str(s, "pending_kind");
    if (!str(s, "pending_license").empty()) t += ", license " + str(s, "pending_license");
    t += "), since " + format_time(num(s, "transit_since_ms"));
    row("in transit", t);
  }
  row("location", str(s, "location_country"));
  bool installed = s.value("installed", false);
  row("installed", installed ? "yes, at site " + str(s, "site") : "no");
  if (!str(s, "parent").empty()) row("packed in", str(s, "parent"));
  if (s.contains("children") && s["children"].is_array() && !s["children"].empty()) {
    std::vector<std::string> kids;
    for (const auto& c : s["children"]) kids.push_back(c.get<std::string>());
    row("unit of", std::to_string(kids.size()) + " chips: " + join(kids, 8));
  }
  row("device key", s.value("has_device_key", false) ? "yes" : "no");
  uint64_t attested = num(s, "last_attest_ms");
  row("attested", attested ? format_time(attested) + " (" + ago(attested) + ")" : "never");
  row("flagged", s.value("flagged", false) ? "yes: " + str(s, "flag_reason") : "no");
  uint64_t reports = num(s, "open_reports");
  row("reports", reports ? std::to_string(reports) + " open (latest: " + str(s, "report_kind") + ")"
                         : "none open");
  row("events", std::to_string(num(s, "events")) + " (latest at log index " +
                    std::to_string(num(s, "last_index")) + ", " +
                    format_time(num(s, "last_time_ms")) + ")");
  return 0;
}

int cmd_history(const Args& a) {
  require_valid_serial(a.serial);
  auto node = connect(a);
  auto history = need(node->history(a.serial, std::nullopt));
  if (!history || !history->contains("events")) {
    std::cerr << "serial " << a.serial << " has no events\n";
    return finding_exit_code(Finding::not_registered);
  }
  if (a.json_out) {
    std::cout << history->dump(2) << "\n";
    return 0;
  }
  std::cout << "history of " << a.serial << " (unverified; use `chipledger verify` for proof)\n";
  for (const auto& e : (*history)["events"]) {
    const json& ev = e["event"];
    std::cout << std::setw(8) << num(e, "index") << "  " << std::setw(12) << std::left
              << str(ev, "type") << std::right << "  by " << std::setw(12) << std::left
              << str(ev, "author") << std::right << "  " << format_time(num(ev, "time_ms"));
    if (ev.contains("to")) std::cout << "  to " << str(ev, "to");
    if (ev.contains("unit")) std::cout << "  unit " << str(ev, "unit");
    if (ev.contains("site")) std::cout << "  site " << str(ev, "site");
    if (ev.contains("license_id")) std::cout << "  license " << str(ev, "license_id");
    if (ev.contains("license")) std::cout << "  license " << str(ev["license"], "id");
    if (ev.contains("reason") && !str(ev, "reason").empty()) {
      std::cout << "  (" << str(ev, "reason") << ")";
    }
    std::cout << "\n";
  }
  return 0;
}

int cmd_license_show(const Args& a) {
  auto node = connect(a);
  auto lic = need(node->license(a.license_id));
  if (!lic) {
    std::cerr << "license " << a.license_id << " is not on the ledger\n";
    return kExitError;
  }
  if (a.json_out) {
    std::cout << lic->dump(2) << "\n";
    return 0;
  }
  const json& l = *lic;
  std::string covers = str(l, "model").empty() ? "ECCN " + str(l, "eccn") : str(l, "model");
  row("license", str(l, "id") + " (issued by " + str(l, "issuer") + " at log index " +
                     std::to_string(num(l, "index")) + ")");
  row("authorises", str(l, "exporter") + " -> " + str(l, "recipient") + " in " +
                        str(l, "destination") + ": " + std::to_string(num(l, "quantity")) + " x " +
                        covers);
  row("used",
      std::to_string(num(l, "used")) + ", " + std::to_string(num(l, "remaining")) + " left");
  uint64_t expiry = num(l, "expiry_ms");
  row("expires", format_time(expiry) + (expiry <= now_ms() ? " (expired)" : ""));
  return 0;
}

int cmd_verify(const Args& a) {
  bool batch = !a.csv.empty() || a.serials.size() > 1;
  if (!batch && a.serials.empty()) throw CliError{"give a SERIAL, several, or --csv FILE"};
  for (const auto& s : a.serials) require_valid_serial(s);
  Consortium consortium = trust(a);  // --trust, else $CHIPLEDGER_TRUST
  auto node = connect(a);
  auto v = need(BatchVerifier::open(consortium, *node, now_ms, &memory(a)));
  if (batch) return verify_batch(a, v);
  VerifyReport report = need(v.verify(a.serials.front()));
  if (a.json_out) {
    std::cout << report.to_json().dump(2) << "\n";
  } else {
    print_report(report);
  }
  return report.exit_code();
}

}  // namespace chipledger::cli
