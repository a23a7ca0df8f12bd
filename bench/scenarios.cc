#include "bench/scenarios.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "bench/driver.h"
#include "bench/stats.h"
#include "bench/workload.h"
#include "client/batch_verifier.h"
#include "ledger/checkpoint.h"
#include "ledger/transaction.h"
#include "verify/custody_verifier.h"

namespace chipledger::bench {
namespace {

using nlohmann::json;

Result<PrivateKey> member_key(const std::string& dir, const std::string& member) {
  auto key = PrivateKey::load_file(dir + "/keys/" + member + ".pem");
  if (!key) return key.status().context("key of " + member);
  return key;
}

// {"tx":"<base64 of the signed transaction>"}: the body POST /v1/transactions takes.
std::string submit_body(const SignedTransaction& stx) {
  return "{\"tx\":\"" + base64_encode(stx.wire()) + "\"}";
}

// Register transactions of `batch` serials each for serials [0, count) of `tag`.
struct Registrations {
  std::vector<std::string> bodies;
  std::vector<Hash> txids;  // serial i was registered by txids[i / batch]
};

Result<Registrations> prepare_registrations(const Members& m, const std::string& tag, size_t count,
                                            size_t batch, unsigned threads) {
  size_t n = (count + batch - 1) / batch;
  Registrations r;
  r.bodies.resize(n);
  r.txids.resize(n);
  uint64_t now = unix_ms();
  CL_TRY(parallel_for(n, threads, [&](size_t t) -> Status {
    auto stx = registration(m, tag, count, batch, t, now);
    if (!stx) return stx.status();
    r.bodies[t] = submit_body(*stx);
    r.txids[t] = stx->txid;
    return Status::ok();
  }));
  return r;
}

// Signs the register transactions of a long run just ahead of their use,
// on a thread of its own, at most `window` ahead of the one submitted:
// signed all at once, the last ones of 10 M serials would be older than the
// ledger's clock-skew bound by the time they are submitted.
class SignAhead {
 public:
  SignAhead(const Members& m, std::string tag, size_t count, size_t batch, size_t window)
      : m_(m),
        tag_(std::move(tag)),
        count_(count),
        batch_(batch),
        window_(window),
        bodies_((count + batch - 1) / batch),
        ready_(bodies_.size(), false),
        thread_([this] { run(); }) {}
  ~SignAhead() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  size_t size() const { return bodies_.size(); }
  // Body t (waits until it is signed), handed over once: its memory goes.
  Result<std::string> take(size_t t) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ready_[t] || !problem_.empty(); });
    if (!ready_[t]) return Result<std::string>::error(problem_);
    ++taken_;
    cv_.notify_all();
    return std::move(bodies_[t]);
  }
  double signing_seconds() const {
    std::lock_guard lock(mu_);
    return signing_s_;
  }

 private:
  void run() {
    for (size_t t = 0; t < bodies_.size(); ++t) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || t < taken_ + window_; });
        if (stop_) return;
      }
      auto start = SteadyClock::now();
      auto stx = registration(m_, tag_, count_, batch_, t, unix_ms());
      std::lock_guard lock(mu_);
      signing_s_ += seconds_since(start);
      if (!stx) {
        problem_ = stx.status().reason();
        cv_.notify_all();
        return;
      }
      bodies_[t] = submit_body(*stx);
      ready_[t] = true;
      cv_.notify_all();
    }
  }

  const Members& m_;
  std::string tag_;
  size_t count_, batch_, window_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
  std::vector<bool> ready_;
  size_t taken_ = 0;
  bool stop_ = false;
  std::string problem_;
  double signing_s_ = 0;
  std::thread thread_;
};

// One single-serial transfer (maker -> distributor) or accept (by the
// distributor) per serial, each naming the serial's latest event as prev.
struct Moves {
  std::vector<std::string> bodies;  // {"tx": ...} each
  std::vector<std::string> wire64;  // the base64 signed transactions alone
  std::vector<Hash> txids;
};
Result<Moves> prepare_moves(const Members& m, TxType type, const std::string& tag, size_t count,
                            const std::function<Hash(size_t)>& prev, unsigned threads) {
  Moves out;
  out.bodies.resize(count);
  out.wire64.resize(count);
  out.txids.resize(count);
  uint64_t now = unix_ms();
  CL_TRY(parallel_for(count, threads, [&](size_t i) -> Status {
    auto stx = single_move(m, type, tag, i, prev(i), now);
    if (!stx) return stx.status();
    out.wire64[i] = base64_encode(stx->wire());
    out.bodies[i] = "{\"tx\":\"" + out.wire64[i] + "\"}";
    out.txids[i] = stx->txid;
    return Status::ok();
  }));
  return out;
}

// Request bodies of `per` transactions each: {"tx": ...} for POST
// /v1/transactions when per is 1, else {"txs": [...]} for /batch.
std::vector<std::string> group_bodies(const Moves& moves, size_t per) {
  if (per <= 1) return moves.bodies;
  std::vector<std::string> out;
  for (size_t i = 0; i < moves.wire64.size(); i += per) {
    std::string body = "{\"txs\":[";
    for (size_t k = i; k < std::min(moves.wire64.size(), i + per); ++k) {
      body += (k == i ? "\"" : ",\"") + moves.wire64[k] + "\"";
    }
    out.push_back(body + "]}");
  }
  return out;
}

RequestResult post_moves(HttpClient& http, const std::string& body, size_t per) {
  return per <= 1 ? post_transaction(http, body) : post_batch(http, body);
}

// Submits prepared bodies (setup, not measured); fails unless every one is accepted.
Result<DriveResult> submit_all(const Target& target, const std::vector<std::string>& bodies,
                               unsigned concurrency, const std::string& what,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  DriveOptions o{target.url, concurrency, std::nullopt, timeout, target.tls};
  DriveResult r = drive(bodies.size(), o, [&](size_t i, HttpClient& http) {
    return post_transaction(http, bodies[i]);
  });
  if (r.ok != bodies.size()) {
    return Result<DriveResult>::error(what + ": " + std::to_string(r.ok) + " of " +
                                      std::to_string(bodies.size()) +
                                      " accepted; first problem: " + r.first_problem);
  }
  return r;
}

json node_memory(const Target& target) {
  if (target.pid <= 0) return nullptr;
  auto mem = process_memory(target.pid);
  if (!mem) return nullptr;
  return {{"rss_kib", mem->rss_kib}, {"peak_rss_kib", mem->peak_rss_kib}};
}

json drive_json(const DriveResult& r) {
  json j{{"ok", r.ok},
         {"refused", r.refused},
         {"failed", r.failed},
         {"seconds", r.seconds},
         {"latency_ms", summarize(r.latencies_us).to_json()}};
  if (!r.first_problem.empty()) j["first_problem"] = r.first_problem;
  return j;
}

// The fields every scenario reports.
json figures(const std::string& name, const ScenarioOptions& o, const DriveResult& r, double value,
             const std::string& unit, double signatures_per_s, const SignatureLimit& limit) {
  json j = drive_json(r);
  j["scenario"] = name;
  j["count"] = o.count;
  j["concurrency"] = o.concurrency;
  j["result"] = {{"value", value}, {"unit", unit}};
  j["signatures_per_s"] = signatures_per_s;
  j["limit_per_core"] = limit.per_core;
  j["cores"] = limit.cores;
  j["ratio"] = limit.ratio(signatures_per_s);
  return j;
}

double per_s(size_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

// One rack's reports: through POST /v1/histories, or with `one_get` the
// single serial's history by GET, as `chipledger verify SERIAL` does it.
Result<std::vector<VerifyReport>> verify_rack(BatchVerifier& v,
                                              const std::vector<std::string>& serials,
                                              bool one_get) {
  if (!one_get) return v.verify_all(serials);
  auto report = v.verify(serials.front());
  if (!report) return report.status();
  return std::vector<VerifyReport>{std::move(*report)};
}

}  // namespace

Result<Members> load_members(const std::string& dir) {
  auto consortium = Consortium::load_file(dir + "/consortium.json");
  if (!consortium) return consortium.status();
  auto maker = member_key(dir, "maker");
  if (!maker) return maker.status();
  auto distributor = member_key(dir, "distributor");
  if (!distributor) return distributor.status();
  return Members{std::move(*consortium), std::move(*maker), std::move(*distributor)};
}

Result<json> run_transfers(const Target& target, const Members& m, const SignatureLimit& limit,
                           const ScenarioOptions& o) {
  // Setup: register the serials in bulk, then sign one transfer per serial
  // and one accept per transfer (the accepts drive the half-rate phase).
  auto setup_start = SteadyClock::now();
  const size_t batch = 10000;
  auto regs = prepare_registrations(m, o.tag, o.count, batch, o.prep_threads);
  if (!regs) return regs.status();
  CL_TRY(submit_all(target, regs->bodies, 2, "registering the serials"));
  auto transfers = prepare_moves(
      m, TxType::transfer, o.tag, o.count, [&](size_t i) { return regs->txids[i / batch]; },
      o.prep_threads);
  if (!transfers) return transfers.status();
  auto accepts = prepare_moves(
      m, TxType::accept, o.tag, o.count, [&](size_t i) { return transfers->txids[i]; },
      o.prep_threads);
  if (!accepts) return accepts.status();
  double setup_s = seconds_since(setup_start);

  // 1. As fast as the node answers, `per` transactions per request.
  const size_t per = std::max<size_t>(1, o.per_request);
  std::vector<std::string> transfer_requests = group_bodies(*transfers, per);
  std::vector<std::string> accept_requests = group_bodies(*accepts, per);
  DriveOptions full{target.url, o.concurrency, std::nullopt, std::chrono::seconds(30), target.tls};
  CpuMeter cpu(target.pid, target.followers);
  DriveResult max = drive(transfer_requests.size(), full, [&](size_t i, HttpClient& http) {
    return post_moves(http, transfer_requests[i], per);
  });
  size_t max_txs = max.ok == transfer_requests.size() ? o.count : max.ok * per;
  json cpu_max = cpu.finish(max_txs, "tx");
  double tps = per_s(max_txs, max.seconds);
  // 2. Paced at half that throughput: the latency a lightly loaded node gives.
  DriveResult half;
  double half_rate = tps / 2;
  if (max.ok == transfer_requests.size() && half_rate > 0) {
    DriveOptions paced{target.url, o.concurrency, half_rate / static_cast<double>(per),
                       std::chrono::seconds(30), target.tls};
    half = drive(accept_requests.size(), paced, [&](size_t i, HttpClient& http) {
      return post_moves(http, accept_requests[i], per);
    });
  }
  size_t half_txs = half.ok == accept_requests.size() ? o.count : half.ok * per;

  // Every node verifies each signature once: a cluster of n nodes on this
  // one machine needs n verifications per transaction.
  const size_t nodes = 1 + target.followers.size();
  double signatures = tps * static_cast<double>(nodes);
  json j = figures("transfers", o, max, tps, "tx/s", signatures, limit);
  j["ok"] = max_txs;
  j["requests_ok"] = max.ok;
  j["cpu"] = cpu_max;
  j["what"] = "single-serial transfers, one Ed25519 signature each, durable (synced per block), " +
              (per == 1 ? std::string("one per request (POST /v1/transactions)")
                        : std::to_string(per) + " per request (POST /v1/transactions/batch)");
  j["per_request"] = per;
  j["transactions_ok"] = max_txs;
  j["nodes"] = nodes;
  j["setup"] = {{"seconds", setup_s},
                {"what", "registered " + std::to_string(o.count) + " serials in transactions of " +
                             std::to_string(batch) + "; signed " + std::to_string(o.count) +
                             " transfers and as many accepts"}};
  json h = drive_json(half);
  h["rate_target"] = half_rate;
  h["rate_achieved"] = per_s(half_txs, half.seconds);
  h["what"] =
      "accepts of those transfers, paced at half the measured transfer throughput, as many per "
      "request; latency from each request's scheduled send time";
  j["half_rate"] = h;
  double p99 = summarize(half.latencies_us).p99_ms;
  double goal = nodes == 1 ? 0.5 : 0.4;
  std::string goal_what =
      nodes == 1 ? "transfers >= 50% of the signature-verification limit (all cores)"
                 : "transfers on " + std::to_string(nodes) + " nodes >= 40% of the limit / " +
                       std::to_string(nodes) + " (ratio counts every node's verifications)";
  j["targets"] =
      json::array({{{"what", goal_what},
                    {"value", limit.ratio(signatures)},
                    {"ratio_goal", goal},
                    {"met", limit.ratio(signatures) >= goal}},
                   {{"what", "p99 submit latency at half the maximum throughput < 50 ms"},
                    {"value", p99},
                    {"met", half.ok == accept_requests.size() && p99 < 50}}});
  j["node_memory"] = node_memory(target);
  return j;
}

Result<json> run_register(const Target& target, const Members& m, const SignatureLimit& limit,
                          const ScenarioOptions& o) {
  // A window of 2 x concurrency transactions keeps every worker fed.
  SignAhead regs(m, o.tag, o.count, o.batch, 2 * std::max(1u, o.concurrency) + 2);
  std::atomic<size_t> bytes{0};

  DriveOptions opts{target.url, o.concurrency, std::nullopt, std::chrono::seconds(300), target.tls};
  CpuMeter cpu(target.pid);
  DriveResult r = drive(regs.size(), opts, [&](size_t i, HttpClient& http) {
    auto body = regs.take(i);
    if (!body) return RequestResult{Outcome::failed, body.status().reason()};
    bytes += body->size();
    return post_transaction(http, *body);
  });
  json cpu_used = cpu.finish(std::min(o.count, r.ok * o.batch), "serial");
  size_t serials = std::min(o.count, r.ok * o.batch);
  if (r.ok != regs.size()) serials = 0;  // which ones failed is not tracked: claim none
  double sps = per_s(serials, r.seconds);
  double tps = per_s(r.ok, r.seconds);
  json j = figures("register", o, r, sps, "serials/s", tps, limit);
  j["what"] = "bulk register: " + std::to_string(o.batch) + " serials per transaction";
  j["cpu"] = cpu_used;
  j["batch"] = o.batch;
  j["transactions"] = regs.size();
  j["tx_per_s"] = tps;
  j["request_bytes"] = bytes.load();
  j["setup"] = {{"seconds", 0.0},
                {"what", "nothing: the transactions are signed during the run (see signing)"}};
  j["signing"] = {{"seconds", regs.signing_seconds()},
                  {"what",
                   "built and signed the register transactions on one client thread, "
                   "just ahead of their submission (during the run)"}};
  // Target scaled to the count: 1,000,000 serials in under 60 s.
  double seconds_per_million = serials > 0 ? r.seconds * 1e6 / static_cast<double>(serials) : 0;
  j["seconds_per_million_serials"] = seconds_per_million;
  j["targets"] = json::array({{{"what", "bulk register 1,000,000 serials < 60 s"},
                               {"value", seconds_per_million},
                               {"met", serials > 0 && seconds_per_million < 60},
                               {"measured_serials", serials}}});
  j["node_memory"] = node_memory(target);
  // The memory target applies once the node holds 10 M serials (this run's alone).
  if (serials >= 10000000 && !j["node_memory"].is_null()) {
    double peak_mib = j["node_memory"]["peak_rss_kib"].get<double>() / 1024;
    j["targets"].push_back({{"what", "node resident size < 1 GiB with 10,000,000 serials (MiB)"},
                            {"value", peak_mib},
                            {"met", peak_mib < 1024}});
  }
  return j;
}

Result<json> run_verify(const Target& target, const Members& m, const SignatureLimit& limit,
                        const ScenarioOptions& o) {
  // Setup: a pool of serials registered in transactions of `batch`, each
  // then transferred to the distributor and accepted: 3 events per serial.
  auto setup_start = SteadyClock::now();
  size_t pool = std::max<size_t>(1, o.pool);
  auto regs = prepare_registrations(m, o.tag, pool, o.batch, o.prep_threads);
  if (!regs) return regs.status();
  CL_TRY(submit_all(target, regs->bodies, 2, "registering the pool"));
  auto transfers = prepare_moves(
      m, TxType::transfer, o.tag, pool, [&](size_t i) { return regs->txids[i / o.batch]; },
      o.prep_threads);
  if (!transfers) return transfers.status();
  CL_TRY(submit_all(target, transfers->bodies, 16, "transferring the pool"));
  auto accepts = prepare_moves(
      m, TxType::accept, o.tag, pool, [&](size_t i) { return transfers->txids[i]; },
      o.prep_threads);
  if (!accepts) return accepts.status();
  CL_TRY(submit_all(target, accepts->bodies, 16, "accepting the pool"));
  // Random picks, fixed before the clock starts (splitmix64: reproducible).
  std::vector<std::string> picks(o.count);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (auto& p : picks) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    p = serial_name(o.tag, (z ^ (z >> 31)) % pool);
  }
  double setup_s = seconds_since(setup_start);

  // Each request verifies one rack of serials as `chipledger verify` does:
  // the latest checkpoint (its quorum checked once), then with --rack 1 the
  // serial's history (GET), otherwise the rack's histories (POST
  // /v1/histories) through one BatchVerifier; every event's signature,
  // inclusion proof and prev link and the custody rules, every serial
  // judged on its own. A fresh verifier per rack: nothing is remembered
  // from one rack to the next.
  size_t rack = std::max<size_t>(1, o.rack);
  size_t racks = (picks.size() + rack - 1) / rack;
  std::atomic<uint64_t> signatures{0}, serials_ok{0};
  DriveOptions opts{target.url, o.concurrency, std::nullopt, std::chrono::seconds(30), target.tls};
  CpuMeter cpu(target.pid);
  DriveResult r = drive(racks, opts, [&](size_t i, HttpClient& http) -> RequestResult {
    std::vector<std::string> serials(
        picks.begin() + static_cast<long>(i * rack),
        picks.begin() + static_cast<long>(std::min(picks.size(), (i + 1) * rack)));
    auto node = NodeClient::over(http, target.url);
    auto verifier = BatchVerifier::open(m.consortium, *node, unix_ms);
    if (!verifier) return {Outcome::failed, "GET /v1/checkpoint: " + verifier.reason()};
    auto reports = verify_rack(*verifier, serials, rack == 1);
    if (!reports) return {Outcome::failed, reports.reason().substr(0, 300)};
    signatures += verifier->stats().signatures;
    // The chips were only registered and handed over, never installed: the
    // evidence must check (every signature, proof and rule), and the verdict
    // is then not-installed, not ok.
    for (const auto& report : *reports) {
      bool evidence_checks =
          !report.findings.empty() && report.findings.front().first == Finding::not_installed;
      if (!evidence_checks || report.chain.size() != 3) {
        return {Outcome::refused,
                report.serial + ": verdict " + report.verdict() +
                    (report.findings.empty() ? "" : " " + report.findings[0].second)};
      }
    }
    serials_ok += reports->size();
    return {Outcome::ok, {}};
  });
  json cpu_used = cpu.finish(serials_ok.load(), "serial");
  double sps = per_s(serials_ok.load(), r.seconds);
  double sig_ps = per_s(signatures.load(), r.seconds);
  json j = figures("verify", o, r, sps, "serials/s", sig_ps, limit);
  j["what"] = rack == 1 ? "verify random serials one per request: GET checkpoint + history, "
                          "client-side verification (checkpoint quorum, every event's signature, "
                          "inclusion proof, prev chain, rules)"
                        : "verify random serials in racks of " + std::to_string(rack) +
                              " as `chipledger verify --csv` does: GET checkpoint, POST "
                              "/v1/histories, one verifier per rack (checkpoint quorum once, each "
                              "event's signature and inclusion proof once, every serial's prev "
                              "chain and rules on its own)";
  j["cpu"] = cpu_used;
  j["pool"] = pool;
  j["batch"] = o.batch;
  j["rack"] = rack;
  j["racks"] = racks;
  j["serials_ok"] = serials_ok.load();
  j["rack_latency_ms"] = j["latency_ms"];
  j["signatures_verified"] = signatures.load();
  j["signatures_per_serial"] =
      serials_ok > 0 ? static_cast<double>(signatures.load()) / static_cast<double>(serials_ok) : 0;
  j["events_per_serial"] = 3;
  j["setup"] = {{"seconds", setup_s},
                {"what", "registered " + std::to_string(pool) + " serials in transactions of " +
                             std::to_string(o.batch) + ", then a transfer and an accept of each"}};
  j["targets"] = json::array({{{"what", "verify >= 5,000 serials/s, proofs checked by the client"},
                               {"value", sps},
                               {"met", serials_ok == o.count && sps >= 5000}}});
  j["node_memory"] = node_memory(target);
  return j;
}

}  // namespace chipledger::bench
