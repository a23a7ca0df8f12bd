#include "node/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "crypto/signed_note.h"
#include "ledger/transaction_json.h"
#include "net/percent_encoding.h"
#include "node/evidence_answers.h"
#include "node/governance_answers.h"
#include "node/node_metrics.h"
#include "node/request_bodies.h"
#include "node/submission_answers.h"

namespace chipledger {
namespace {

using nlohmann::json;

// A checkpoint note is a few lines and one signature line per node: this
// bounds what is parsed before any signature is checked.
constexpr size_t kMaxCheckpointNoteBytes = 64 << 10;
// How long GET /v1/checkpoint waits, by default, for the peers' signatures
// on the log this node applied.
constexpr uint64_t kCheckpointWaitMs = 1000;

HttpResponse json_ok(const json& j, int status = 200) {
  return HttpResponse{status, "application/json", j.dump()};
}

// One submission's answer (submission_answers.h) as an HTTP response.
HttpResponse item_response(json item) {
  const int status = item["status"];
  item.erase("status");
  HttpResponse r = json_ok(item, status);
  if (status == 503 || status == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

json hashes(const std::vector<Hash>& hs) {
  json out = json::array();
  for (const auto& h : hs) out.push_back(hex_encode(h));
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string_view::npos) amp = q.size();
    auto kv = q.substr(start, amp - start);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
    start = amp + 1;
  }
  return out;
}

Result<uint64_t> query_u64(const std::map<std::string, std::string>& q, const std::string& key,
                           std::optional<uint64_t> fallback) {
  auto it = q.find(key);
  if (it == q.end()) {
    if (fallback) return *fallback;
    return Result<uint64_t>::error("query parameter '" + key + "' is missing");
  }
  uint64_t v = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return Result<uint64_t>::error("query parameter '" + key + "' must be a whole number");
  }
  return v;
}

json members_view(const std::vector<ReplicaView::Member>& members) {
  json out = json::array();
  for (const auto& m : members) {
    out.push_back({{"id", m.id}, {"address", m.address}, {"role", m.role}});
  }
  return out;
}

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

HttpResponse json_error(int status, const std::string& message) {
  return json_ok(json{{"error", message}}, status);
}

int http_status_of(StatusCode code) {
  switch (code) {
    case StatusCode::ok:
      return 200;
    case StatusCode::invalid:
      return 400;
    case StatusCode::refused:
      return 422;
    case StatusCode::not_found:
      return 404;
    case StatusCode::unavailable:
      return 503;
    case StatusCode::unknown:
      return 202;
    case StatusCode::failed:
    case StatusCode::io:
    case StatusCode::corrupt:
      return 500;
  }
  return 500;
}

HttpResponse status_error(const Status& failure) {
  const int status = http_status_of(failure.code());
  HttpResponse r = json_ok(
      json{{"error", failure.reason()}, {"code", status_code_name(failure.code())}}, status);
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

void Api::handle(HttpRequest req, Responder respond) {
  std::string_view target = req.target;
  size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  std::string query = qmark == std::string_view::npos ? "" : std::string(target.substr(qmark + 1));
  auto parts = split_path(path);
  bool get = req.method == "GET";
  auto method_not_allowed = [&] {
    respond(json_error(405, "method not allowed for " + std::string(path)));
  };

  if (parts.size() < 2 || parts[0] != "v1") {
    return respond(json_error(404, "no such endpoint: " + std::string(path)));
  }
  const std::string& what = parts[1];
  if (what == "transactions" && parts.size() == 2) {
    if (req.method != "POST") return method_not_allowed();
    return submit(req, std::move(respond));
  }
  if (what == "transactions" && parts.size() == 3 && parts[2] == "batch") {
    if (req.method != "POST") return method_not_allowed();
    return submit_batch(req, std::move(respond));
  }
  if (what == "transactions" && parts.size() == 3) {
    if (!get) return method_not_allowed();
    return respond(transaction(parts[2]));
  }
  if (what == "histories" && parts.size() == 2) {
    if (req.method != "POST") return method_not_allowed();
    return respond(histories(req.body));
  }
  if (what == "checkpoint" && parts.size() == 3 && parts[2] == "signatures") {
    if (req.method != "POST") return method_not_allowed();
    if (auto refused = refuse_non_node(req)) return respond(std::move(*refused));
    return respond(add_signatures(req));
  }
  bool known =
      (parts.size() == 2 && (what == "health" || what == "checkpoint" || what == "members")) ||
      (what == "chips" &&
       (parts.size() == 3 || (parts.size() == 4 && (parts[3] == "history" || parts[3] == "state" ||
                                                    parts[3] == "verdict")))) ||
      (what == "proofs" && parts.size() == 3 &&
       (parts[2] == "consistency" || parts[2] == "inclusion")) ||
      (what == "licenses" && parts.size() == 3) ||
      (what == "governance" &&
       (parts.size() == 2 ||
        (parts.size() == 3 && (parts[2] == "proposals" || parts[2] == "history"))));
  if (!known) return respond(json_error(404, "no such endpoint: " + std::string(path)));
  if (!get) return method_not_allowed();
  if (what == "health") return respond(health());
  if (what == "checkpoint") return checkpoint(query, std::move(respond));
  if (what == "members") return respond(members());
  if (what == "proofs") {
    return respond(parts[2] == "inclusion" ? inclusion(query) : consistency(query));
  }
  if (what == "governance") {
    if (parts.size() == 2) return respond(governance_answer(ledger_));
    // The governance transactions with proofs, as a serial's history
    // (docs/governance.md, section 5).
    if (parts[2] == "history") return respond(governance_history(query));
    const auto q = parse_query(query);
    auto all = query_u64(q, "all", 0);
    auto from = query_u64(q, "from", 0);
    auto limit = query_u64(q, "limit", kMaxProposalsPerPage);
    for (const auto* r : {&all, &from, &limit}) {
      if (!*r) return respond(json_error(400, r->reason()));
    }
    if (*limit == 0 || *limit > kMaxProposalsPerPage) {
      return respond(json_error(
          400, "query parameter 'limit' must be 1 to " + std::to_string(kMaxProposalsPerPage)));
    }
    ProposalsQuery pq{*all != 0, *from, *limit, std::nullopt};
    if (auto it = q.find("id"); it != q.end()) {
      auto id = hash_from_hex(it->second);
      if (!id) return respond(json_error(400, "query parameter 'id': " + id.reason()));
      pq.id = *id;
    }
    return respond(proposals_answer(ledger_, wall_clock_ms(), pq));
  }
  if (what == "licenses") {
    auto id = percent_decode(parts[2]);
    if (!id) return respond(json_error(400, id.reason()));
    return respond(license(*id));
  }
  auto serial = percent_decode(parts[2]);
  if (!serial) return respond(json_error(400, serial.reason()));
  if (auto st = check_serial(*serial); !st) return respond(json_error(400, st.reason()));
  if (parts.size() == 3) return respond(chip(*serial));
  if (parts[3] == "verdict") {
    return verdicts_->verdict(*serial, checkpoints_.served(), wall_clock_ms(), std::move(respond));
  }
  respond(parts[3] == "history" ? history(*serial, query) : state(*serial, query));
}

std::optional<HttpResponse> Api::not_leader() const {
  if (!replica_) return std::nullopt;
  ReplicaView v = replica_();
  if (v.leader) return std::nullopt;
  if (v.leader_api_url) {
    return json_ok(json{{"error", "this node is a Raft " + v.role + "; submit to the leader"},
                        {"leader", *v.leader_api_url}},
                   421);
  }
  return json_ok(json{{"error",
                       "no Raft leader is known yet (an election is under way?); retry "
                       "shortly"},
                      {"leader", nullptr}},
                 503);
}

void Api::count(const SubmissionLabel& label,
                std::optional<std::chrono::steady_clock::time_point> arrived) const {
  if (!metrics_) return;
  metrics_->submission(label.outcome, label.reason);
  if (arrived) {
    metrics_->submit_latency(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - *arrived));
  }
}

void Api::submit(const HttpRequest& req, Responder respond) {
  if (auto redirect = not_leader()) return respond(std::move(*redirect));
  auto stx = decode_submit_body(req.body);
  if (!stx) return respond(json_error(400, stx.reason()));
  std::string txid = hex_encode(stx->txid);
  auto door =
      admission_->admit(*stx, req.client_address, [&] { return ledger_.check_arrival(*stx); });
  if (door.verdict != Admission::Verdict::admitted) {
    count(submission_label(door));
    return respond(item_response(admission_item(door, txid)));
  }
  const Hash id = stx->txid;
  const auto arrived = std::chrono::steady_clock::now();
  sequencer_.submit(PendingTx{std::move(*stx), true}, [this, respond = std::move(respond), txid, id,
                                                       arrived](Result<TxOutcome> outcome) {
    admission_->release(id);
    count(submission_label(outcome), arrived);
    // Once admitted, leadership moving is no reason to say "nothing was
    // done": the block may have been proposed (submission_answers.h).
    respond(item_response(outcome_item(outcome, txid)));
  });
}

namespace {

// The per-transaction answers of a batch, gathered from the sequencer's
// callbacks; the last one to arrive sends the reply.
struct BatchReply {
  std::mutex mu;
  std::vector<json> results;
  size_t remaining = 0;
  Responder respond;

  void answer() {
    size_t accepted = 0, unknown = 0;
    for (const auto& r : results) {
      const std::string outcome = r.value("outcome", "");
      accepted += outcome == "accepted" ? 1 : 0;
      unknown += outcome == "unknown" ? 1 : 0;
    }
    json all = json::array();
    for (auto& r : results) all.push_back(std::move(r));
    respond(json_ok(json{{"accepted", accepted},
                         {"refused", all.size() - accepted - unknown},
                         {"unknown", unknown},
                         {"results", all}}));
  }
};

}  // namespace

void Api::submit_batch(const HttpRequest& req, Responder respond) {
  if (auto redirect = not_leader()) return respond(std::move(*redirect));
  // Every entry must decode before any is submitted: a malformed batch
  // changes nothing.
  auto batch = decode_batch_body(req.body);
  if (!batch) return respond(json_error(400, batch.reason()));
  std::vector<SignedTransaction>& decoded = *batch;
  auto reply = std::make_shared<BatchReply>();
  reply->results.resize(decoded.size());
  reply->respond = std::move(respond);
  std::vector<PendingTx> pending;
  std::vector<size_t> slot;  // pending[k] answers results[slot[k]]
  for (size_t i = 0; i < decoded.size(); ++i) {
    const SignedTransaction& tx = decoded[i];
    auto door =
        admission_->admit(tx, req.client_address, [&] { return ledger_.check_arrival(tx); });
    if (door.verdict != Admission::Verdict::admitted) {
      count(submission_label(door));
      reply->results[i] = admission_item(door, hex_encode(tx.txid));
      continue;
    }
    slot.push_back(i);
    pending.push_back(PendingTx{std::move(decoded[i]), true});
  }
  if (pending.empty()) return reply->answer();
  std::vector<std::string> txids;
  std::vector<Hash> ids;
  txids.reserve(pending.size());
  ids.reserve(pending.size());
  for (const auto& p : pending) {
    txids.push_back(hex_encode(p.tx.txid));
    ids.push_back(p.tx.txid);
  }
  reply->remaining = pending.size();
  const auto arrived = std::chrono::steady_clock::now();
  sequencer_.submit_many(std::move(pending),
                         [this, reply, slot = std::move(slot), txids = std::move(txids),
                          ids = std::move(ids), arrived](size_t k, Result<TxOutcome> outcome) {
                           admission_->release(ids[k]);
                           count(submission_label(outcome), arrived);
                           json item = outcome_item(outcome, txids[k]);
                           bool last = false;
                           {
                             std::lock_guard lock(reply->mu);
                             reply->results[slot[k]] = std::move(item);
                             last = --reply->remaining == 0;
                           }
                           if (last) reply->answer();
                         });
}

HttpResponse Api::transaction(const std::string& txid_hex) const {
  auto id = hash_from_hex(txid_hex);
  if (!id) return json_error(400, "a txid is 64 hex digits: " + id.reason());
  // Ledger, then the waiting books, then the ledger again: a transaction
  // applied and released between the first two looks is still found.
  auto in_ledger = [&]() -> std::optional<HttpResponse> {
    auto index = ledger_.transaction_index(*id);
    if (!index) return status_error(index.status());
    if (!*index) return std::nullopt;
    auto wire = ledger_.event(**index);
    if (!wire) return status_error(wire.status());
    return json_ok(json{{"txid", txid_hex},
                        {"outcome", "accepted"},
                        {"index", **index},
                        {"tx", base64_encode(*wire)},
                        {"size", ledger_.size()}});
  };
  if (auto found = in_ledger()) return std::move(*found);
  const bool waiting = admission_->is_waiting(*id);
  if (auto found = in_ledger()) return std::move(*found);
  if (waiting) {
    return json_ok(json{
        {"txid", txid_hex}, {"outcome", "unknown"}, {"waiting", true}, {"size", ledger_.size()}});
  }
  json j{{"error", "transaction " + txid_hex + " is not in this node's ledger (size " +
                       std::to_string(ledger_.size()) + ") and not on its way through this node"},
         {"txid", txid_hex},
         {"outcome", "not-found"},
         {"size", ledger_.size()}};
  if (replica_) j["role"] = replica_().role;
  return json_ok(j, 404);
}

HttpResponse Api::chip(const std::string& serial) const {
  auto rec = ledger_.serial(serial);
  if (!rec) return status_error(rec.status());
  if (!rec->has_value()) return json_error(404, "serial " + serial + " is not registered");
  return json_ok(serial_record_view(serial, **rec));
}

HttpResponse Api::license(const std::string& id) const {
  if (id.empty() || id.size() > kMaxFieldBytes) return json_error(400, "bad license id");
  auto lic = ledger_.license(id);
  if (!lic) return status_error(lic.status());
  if (!lic->has_value()) return json_error(404, "license " + id + " is not on the ledger");
  return json_ok(license_view(**lic));
}

// The answer that refuses an evidence query's `size`, if any: 400 beyond
// the log; 410 when the state map no longer keeps `size` (the ledger
// decides by oldest_state_size(), not by a message): the client fetches a
// newer checkpoint and asks again.
std::optional<HttpResponse> Api::refuse_size(uint64_t size) const {
  if (size > ledger_.size()) {
    return json_error(400, "size " + std::to_string(size) + " is beyond the log's " +
                               std::to_string(ledger_.size()) + " entries");
  }
  uint64_t oldest = ledger_.oldest_state_size();
  if (size >= oldest) return std::nullopt;
  return json_error(410, "this node no longer keeps the state at log size " + std::to_string(size) +
                             " (the oldest it keeps is " + std::to_string(oldest) +
                             "); ask again at a newer checkpoint");
}

HttpResponse Api::history(const std::string& serial, const std::string& query) const {
  auto size = query_u64(parse_query(query), "size", checkpoints_.latest_size());
  if (!size) return json_error(400, size.reason());
  if (auto refused = refuse_size(*size)) return *refused;
  return history_answer(ledger_, serial, *size, max_answer_bytes_);
}

// Pages of kGovernancePageEvents events (?after=I: those after index I), so
// the governance history never outgrows [api] max_answer_bytes.
HttpResponse Api::governance_history(const std::string& query) const {
  auto q = parse_query(query);
  auto size = query_u64(q, "size", checkpoints_.latest_size());
  if (!size) return json_error(400, size.reason());
  if (auto refused = refuse_size(*size)) return *refused;
  auto after = query_u64(q, "after", UINT64_MAX);
  if (!after) return json_error(400, after.reason());
  HistoryPage page;
  page.max_events = kGovernancePageEvents;
  if (*after != UINT64_MAX) page.after = *after;
  return history_answer(ledger_, std::string(kGovernanceHistory), *size, max_answer_bytes_, page);
}

HttpResponse Api::state(const std::string& serial, const std::string& query) const {
  auto size = query_u64(parse_query(query), "size", checkpoints_.latest_size());
  if (!size) return json_error(400, size.reason());
  if (auto refused = refuse_size(*size)) return *refused;
  return state_answer(ledger_, serial, *size);
}
// Many serials' histories at one size, each event (signed transaction and
// inclusion proof) once however many of the serials it names: what a batch
// verifier needs, without the readable views.
HttpResponse Api::histories(const std::string& body) const {
  auto req = decode_histories_body(body);
  if (!req) return json_error(400, req.reason());
  uint64_t size = req->size.value_or(checkpoints_.latest_size());
  if (auto refused = refuse_size(size)) return *refused;
  return histories_answer(ledger_, req->serials, size, max_answer_bytes_);
}

// A receipt's proof: the entry at `index` in the log of `size` entries.
HttpResponse Api::inclusion(const std::string& query) const {
  auto q = parse_query(query);
  auto index = query_u64(q, "index", std::nullopt);
  if (!index) return json_error(400, index.reason());
  auto size = query_u64(q, "size", std::nullopt);
  if (!size) return json_error(400, size.reason());
  if (*index >= *size || *size > ledger_.size()) {
    return json_error(400, "need 0 <= index < size <= " + std::to_string(ledger_.size()));
  }
  auto proof = ledger_.inclusion_proof(*index, *size);
  if (!proof) return status_error(proof.status());
  return json_ok(json{{"index", *index}, {"size", *size}, {"proof", hashes(*proof)}});
}

HttpResponse Api::consistency(const std::string& query) const {
  auto q = parse_query(query);
  auto from = query_u64(q, "from", std::nullopt);
  if (!from) return json_error(400, from.reason());
  auto to = query_u64(q, "to", std::nullopt);
  if (!to) return json_error(400, to.reason());
  if (*from > *to || *to > ledger_.size()) {
    return json_error(400, "need 0 <= from <= to <= " + std::to_string(ledger_.size()));
  }
  auto proof = ledger_.consistency_proof(*from, *to);
  if (!proof) return json_error(400, proof.reason());
  return json_ok(json{{"from", *from}, {"to", *to}, {"proof", hashes(*proof)}});
}

HttpResponse Api::health() const {
  json j{{"status", "ok"},
         {"ledger_id", ledger_.genesis().ledger_id()},
         {"node_id", node_id_},
         {"size", ledger_.size()}};
  std::optional<ReplicaView> replica;
  if (replica_) replica = replica_();
  if (replica) {
    const ReplicaView& v = *replica;
    j["raft"] = json{
        {"id", v.raft_id},
        {"role", v.role},
        {"term", v.term},
        {"last_applied", v.last_applied},
        {"commit_index", v.commit_index},
        {"ms_without_leader", v.ms_without_leader},
        {"snapshots", json{{"taken", v.snapshots_taken}, {"restored", v.snapshots_restored}}},
        {"clock",
         json{{"skewed_blocks", v.skewed_blocks}, {"last_block_skew_ms", v.last_block_skew_ms}}},
        {"apply", json{{"blocks", v.apply.blocks},
                       {"transactions", v.apply.transactions},
                       {"us", v.apply.us}}},
        {"members", members_view(v.members)},
        {"transport", json{{"tls", v.transport.tls},
                           {"accepted", v.transport.accepted},
                           {"refused", v.transport.refused},
                           {"connected", v.transport.connected},
                           {"guard_closed", v.transport.guard_closed}}},
        {"leader", v.leader_api_url ? json(*v.leader_api_url) : json(nullptr)}};
  }
  // What GET /v1/checkpoint serves, and the newest checkpoint this node signed.
  auto view = [](const ServedCheckpoint& cp) {
    return json{{"size", cp.size},       {"root", hex_encode(cp.root)},
                {"signers", cp.signers}, {"signed_at", cp.times},
                {"quorum", cp.quorum},   {"fresh_as_of", cp.fresh_as_of}};
  };
  ServedCheckpoint served = checkpoints_.served();
  if (!served.note.empty()) {
    j["checkpoint"] = view(served);
    j["newest_checkpoint"] = view(checkpoints_.newest());
  }
  if (connection_stats_) {
    const ConnectionStats c = connection_stats_();
    j["http"] = json{{"open", c.open},
                     {"waiting", c.waiting},
                     {"max_connections", c.max_connections},
                     {"max_connections_per_address", c.max_per_address},
                     {"admitted", c.admitted},
                     {"refused", c.refused},
                     {"evicted", c.evicted},
                     {"timed_out", c.timed_out}};
  }
  json warnings = json::array();
  if (replica) {
    const ReplicaView& v = *replica;
    if (v.skewed_blocks > 0) {
      warnings.push_back(std::to_string(v.skewed_blocks) +
                         " blocks from the leader had a time beyond the policy's clock skew from "
                         "this node's clock (last: " +
                         std::to_string(v.last_block_skew_ms / 1000) + " s)");
    }
  }
  if (auto tls = certificate_health_ ? certificate_health_() : std::nullopt) {
    j["tls"] = json{{"subject", tls->subject},
                    {"not_after", tls->not_after},
                    {"seconds_left", tls->seconds_left},
                    {"warning", tls->warning}};
    if (tls->warning) warnings.push_back(tls->message);
  }
  std::string disk_full;
  if (disk_health_) {
    const DiskHealth d = disk_health_();
    j["disk"] = json{{"free_bytes", d.free_bytes},
                     {"min_free_bytes", d.min_free_bytes},
                     {"reserve_bytes", d.reserve_bytes}};
    if (d.low) warnings.push_back(d.message);
    if (d.full) disk_full = d.message;
  }
  if (!warnings.empty()) j["warnings"] = std::move(warnings);
  NodeCondition condition = condition_of(replica);
  if (condition.status == "ok" && !disk_full.empty()) condition = {"disk-full", disk_full};
  j["status"] = condition.status;
  if (!condition.error.empty()) j["error"] = condition.error;
  return json_ok(j, condition.status == "ok" ? 200 : 503);
}

Api::NodeCondition Api::condition_of(const std::optional<ReplicaView>& replica) const {
  if (checkpoints_.failed()) return {"stopped", checkpoints_.failure()};
  if (replica && !replica->failure.empty()) return {"stopped", replica->failure};
  if (sequencer_.failed()) return {"stopped", "the node stopped writing after a storage failure"};
  if (!replica) return {"ok", ""};
  const ReplicaView& v = *replica;
  // Longer than two election timeouts without a leader: not an election
  // running its course, a node that cannot reach a quorum.
  if (v.ms_without_leader > 2ull * std::max(v.election_timeout_ms, 1u)) {
    return {"no-leader", "no Raft leader known for " + std::to_string(v.ms_without_leader) +
                             " ms: this node cannot reach a quorum of the cluster"};
  }
  if (v.commit_index > v.last_applied + kBehindEntries) {
    return {"behind", "this node has applied " + std::to_string(v.last_applied) + " of " +
                          std::to_string(v.commit_index) + " committed Raft entries"};
  }
  return {"ok", ""};
}

HttpResponse Api::members() const {
  std::shared_ptr<const Consortium> in_force = ledger_.consortium();
  const Consortium& c = *in_force;
  json members = json::array();
  for (const auto& [id, m] : c.members()) {
    json roles = json::array();
    for (Role r : m.roles) roles.push_back(role_name(r));
    json keys = json::array();
    for (const auto& k : m.keys) keys.push_back(hex_encode(k.key_id()));
    members.push_back({{"id", id},
                       {"name", m.name},
                       {"roles", roles},
                       {"country", m.country},
                       {"key_ids", keys}});
  }
  json nodes = json::array();
  for (const auto& n : c.nodes()) {
    nodes.push_back({{"id", n.id}, {"member", n.member}, {"key_id", hex_encode(n.key.key_id())}});
  }
  return json_ok(json{{"ledger_id", c.ledger_id()},
                      {"quorum", c.quorum()},
                      {"members", members},
                      {"nodes", nodes}});
}

void Api::checkpoint(const std::string& query, Responder respond) const {
  auto q = parse_query(query);
  if (q.count("size")) {
    auto size = query_u64(q, "size", std::nullopt);
    if (!size) return respond(json_error(400, size.reason()));
    auto stored = ledger_.checkpoint_at(*size);
    if (!stored) return respond(status_error(stored.status()));
    if (!stored->has_value()) {
      return respond(
          json_error(404, "this node kept no checkpoint at size " + std::to_string(*size)));
    }
    return respond(HttpResponse{200, "text/plain; charset=utf-8", **stored});
  }
  auto wait_ms = query_u64(q, "wait_ms", kCheckpointWaitMs);
  if (!wait_ms) return respond(json_error(400, wait_ms.reason()));
  // The newest checkpoint a quorum signed. When the log this node applied
  // is ahead of it, the answer waits (at most wait_ms) for the peers'
  // signatures on it, so a client gets a checkpoint covering what it just
  // wrote; then, or while no checkpoint has a quorum, the newest one that
  // has, else the newest one, flagged (a client refuses it: too few
  // signatures). The callback holds only the publisher, never the Api.
  CheckpointPublisher* cps = &checkpoints_;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::min<uint64_t>(*wait_ms, 10000));
  cps->when_cosigned(ledger_.size(), deadline, [cps, respond = std::move(respond)] {
    ServedCheckpoint cp = cps->served();
    if (cp.note.empty()) return respond(json_error(503, "no checkpoint signed yet"));
    HttpResponse r{200, "text/plain; charset=utf-8", cp.note};
    r.headers = {{"Chipledger-Checkpoint-Quorum", cp.quorum ? "met" : "not-met"},
                 {"Chipledger-Checkpoint-Signers", std::to_string(cp.signers.size())}};
    respond(std::move(r));
  });
}

std::optional<HttpResponse> Api::refuse_non_node(const HttpRequest& req) const {
  if (!require_node_certificates_) return std::nullopt;
  if (req.client_certificate_cn.empty()) {
    return json_error(401,
                      "this endpoint is for the consortium's nodes: connect with a node's TLS "
                      "client certificate of the consortium CA (mutual TLS, docs/tls.md)");
  }
  if (!ledger_.consortium()->node(req.client_certificate_cn)) {
    return json_error(403, "the client certificate names '" + req.client_certificate_cn +
                               "', which is not a node of the consortium in force");
  }
  return std::nullopt;
}

HttpResponse Api::add_signatures(const HttpRequest& req) {
  if (req.body.size() > kMaxCheckpointNoteBytes) {
    return json_error(413, "checkpoint note over " + std::to_string(kMaxCheckpointNoteBytes) +
                               " bytes (" + std::to_string(req.body.size()) + ")");
  }
  CosignOutcome o = checkpoints_.add_signatures(req.body);
  using Kind = CosignOutcome::Kind;
  switch (o.kind) {
    case Kind::kept:
    case Kind::pending:
      return json_ok(json{{"size", o.size},
                          {"kept", o.kind == Kind::kept ? "kept" : "pending"},
                          {"signers", o.signers}});
    case Kind::conflict:
      return json_error(409, o.reason);
    case Kind::stopped:
      return json_error(503, o.reason);
    case Kind::refused:
      break;
  }
  return json_error(403, o.reason);
}

}  // namespace chipledger
