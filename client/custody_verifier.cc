#include "client/custody_verifier.h"

#include <nlohmann/json.hpp>

#include "crypto/merkle.h"
#include "ledger/checkpoint.h"
#include "ledger/custody_rules.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

// A JSON number that is a non-negative integer (parsed or built in code).
bool is_whole(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

// The custody state the chain implies, replayed event by event.
struct Custody {
  bool registered = false;
  std::string holder;
  std::string pending_to;
  Hash last{};
};

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

// The prev this transaction names for `serial` (register names none).
std::optional<Hash> prev_of(const Transaction& tx, const std::string& serial) {
  for (const auto& r : tx.refs) {
    if (r.serial == serial) return r.prev;
  }
  return std::nullopt;
}

// Applies one event to the replayed custody; says why it breaks the rules.
Status replay(Custody& c, const Transaction& tx, const std::string& serial, const Member& author,
              const Hash& txid) {
  if (tx.type == TxType::register_chips) {
    if (c.registered) return Status::error("registered twice");
    if (!author.has_role(Role::manufacturer))
      return Status::error("registered by a non-manufacturer");
    c = Custody{true, author.id, "", txid};
    return Status::ok();
  }
  if (!c.registered) return Status::error("event before the registration");
  auto prev = prev_of(tx, serial);
  if (!prev || *prev != c.last) return Status::error("the prev chain is broken");
  if (tx.type == TxType::transfer) {
    if (!c.pending_to.empty() || author.id != c.holder)
      return Status::error("transfer not by the holder");
    c.pending_to = tx.to;
  } else {
    if (author.id != c.pending_to) return Status::error("accept/reject not by the recipient");
    if (tx.type == TxType::accept) c.holder = c.pending_to;
    c.pending_to.clear();
  }
  c.last = txid;
  return Status::ok();
}

std::string describe(const Transaction& tx) {
  switch (tx.type) {
    case TxType::transfer:
      return "transfer -> " + tx.to + " (ship to " + tx.ship_to_country + ")";
    case TxType::register_chips:
      return "register " + tx.model;
    case TxType::reject:
      return "reject";
    case TxType::accept:
      return "accept";
  }
  return "";
}

// Checks one history entry and appends its row; the reason on failure.
Status check_event(const Consortium& consortium, const VerifiedCheckpoint& cp,
                   const std::string& serial, const json& e, Custody& custody,
                   std::vector<ChainRow>& rows) {
  if (!e.is_object() || !e.contains("tx") || !e["tx"].is_string() || !e.contains("index") ||
      !is_whole(e["index"])) {
    return Status::error("a history entry lacks tx or index");
  }
  uint64_t index = e["index"].get<uint64_t>();
  std::string where = "event at index " + std::to_string(index);
  auto wire = base64_decode(e["tx"].get<std::string>());
  if (!wire) return wire.status().context(where);
  auto stx = SignedTransaction::decode(*wire);
  if (!stx) return stx.status().context(where);
  CL_TRY(check_signature(consortium, *stx).context(where));
  auto proof = parse_proof(e.value("proof", json()));
  if (!proof) return proof.status().context(where);
  CL_TRY(merkle::verify_inclusion(index, cp.checkpoint.size, merkle::leaf_hash(*wire), *proof,
                                  cp.checkpoint.root)
             .context(where + ": inclusion proof"));
  auto serials = stx->tx.serials();
  if (std::find(serials.begin(), serials.end(), serial) == serials.end()) {
    return Status::error(where + " does not name serial " + serial);
  }
  const Member& author = *consortium.member(stx->tx.author);
  CL_TRY(replay(custody, stx->tx, serial, author, stx->txid).context(where));
  rows.push_back(ChainRow{index, describe(stx->tx), author.id, first_role(author), author.country,
                          stx->tx.time_ms});
  return Status::ok();
}

}  // namespace

std::string_view finding_name(Finding f) {
  switch (f) {
    case Finding::proof_failure:
      return "proof-failure";
    case Finding::not_registered:
      return "not-registered";
    case Finding::in_transit:
      return "in-transit";
  }
  return "unknown";
}

int finding_exit_code(Finding f) {
  switch (f) {
    case Finding::proof_failure:
      return 10;
    case Finding::not_registered:
      return 11;
    case Finding::in_transit:
      return 12;
  }
  return 1;
}

std::string VerifyReport::verdict() const {
  return ok() ? "ok" : std::string(finding_name(findings.front().first));
}

int VerifyReport::exit_code() const { return ok() ? 0 : finding_exit_code(findings.front().first); }

json VerifyReport::to_json() const {
  json f = json::array();
  for (const auto& [finding, reason] : findings) {
    f.push_back({{"finding", finding_name(finding)},
                 {"reason", reason},
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
              {"findings", f},
              {"holder", holder},
              {"status", status},
              {"chain", chain_rows},
              {"checkpoint", {{"size", checkpoint_size}, {"signers", checkpoint_signers}}}};
}

VerifyReport verify_custody(const Consortium& consortium, const std::string& serial,
                            const std::string& checkpoint_note,
                            const std::optional<json>& history) {
  VerifyReport report;
  report.serial = serial;
  auto cp = verify_checkpoint(consortium, checkpoint_note);
  if (!cp) {
    report.findings.emplace_back(Finding::proof_failure, cp.reason());
    return report;
  }
  report.checkpoint_signers = cp->signers;
  report.checkpoint_size = cp->checkpoint.size;
  if (!history) {
    report.findings.emplace_back(Finding::not_registered,
                                 "serial " + serial + " has no events in the ledger");
    return report;
  }
  const json& h = *history;
  bool well_formed = h.is_object() && h.contains("size") && is_whole(h["size"]) &&
                     h.contains("events") && h["events"].is_array();
  if (!well_formed || h["size"].get<uint64_t>() != cp->checkpoint.size) {
    report.findings.emplace_back(Finding::proof_failure,
                                 "the history answer does not match the checkpoint's size");
    return report;
  }
  Custody custody;
  uint64_t last_index = 0;
  for (const auto& e : h["events"]) {
    Status st = check_event(consortium, *cp, serial, e, custody, report.chain);
    if (st && !report.chain.empty() && report.chain.size() > 1 &&
        report.chain.back().index <= last_index) {
      st = Status::error("history events are not in log order");
    }
    if (!st) {
      report.findings.emplace_back(Finding::proof_failure, st.reason());
      return report;
    }
    last_index = report.chain.back().index;
  }
  if (!custody.registered) {
    report.findings.emplace_back(Finding::not_registered, "no registration event for " + serial);
    return report;
  }
  report.holder = custody.holder;
  report.status = custody.pending_to.empty() ? "held" : "in-transit";
  if (!custody.pending_to.empty()) {
    report.findings.emplace_back(
        Finding::in_transit,
        "in transit from " + custody.holder + " to " + custody.pending_to + ", not yet accepted");
  }
  return report;
}

}  // namespace chipledger
