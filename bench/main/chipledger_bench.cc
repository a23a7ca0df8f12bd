// chipledger-bench: measures a chipledger node over its real HTTP API and
// prints the machine's own limit beside each result (docs/performance.md).
//   chipledger-bench [--scenario transfers|register|verify|all] [--count N]
//                    [--concurrency C] [--batch B] [--pool P] [--rack R]
//                    [--per-request K] [--nodes N] [--node URL --dir DIR]
//                    [--out FILE] [--smoke]
// Without --node it starts a chipledger-node (the binary beside this one) on
// a fresh dev consortium per scenario, or with --nodes N a local cluster of
// N nodes on loopback, and drives its leader. Exit code: 0 when every scenario ran
// and every request it made was answered as expected, 1 otherwise, 2 on bad
// arguments. Targets met or not do not change the exit code.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>

#include "bench/limit.h"
#include "bench/node_runner.h"
#include "bench/scenarios.h"
#include "bench/stats.h"

namespace {

using namespace chipledger;
using namespace chipledger::bench;
using nlohmann::json;

struct Args {
  std::string scenario = "all";
  size_t count = 0;
  unsigned concurrency = 0;
  size_t batch = 0;
  size_t pool = 0;
  size_t per_request = 0;
  unsigned nodes = 1;
  size_t rack = 0;
  std::string node_url;
  std::string node_dir;
  int node_pid = -1;
  std::string node_bin;
  std::string out;
  bool smoke = false;
  bool keep = false;
  bool tls = false;
  double limit_seconds = 0;
};

// Per-scenario defaults: {count, concurrency, batch, pool}; smoke sizes are tiny.
ScenarioOptions defaults(const std::string& scenario, bool smoke) {
  ScenarioOptions o;
  if (scenario == "transfers") {
    o.count = smoke ? 200 : 50000;
    o.concurrency = smoke ? 4 : 64;
    o.per_request = smoke ? 10 : 20;
  } else if (scenario == "register") {
    o.count = smoke ? 2000 : 1000000;
    o.batch = smoke ? 500 : 10000;
    o.concurrency = 2;
  } else {
    o.count = smoke ? 100 : 20000;
    o.pool = smoke ? 50 : 5000;
    o.batch = 100;
    o.rack = 200;
    o.concurrency = smoke ? 4 : 8;
  }
  return o;
}

std::string random_tag(char scenario) {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "B%c%06x", scenario, rd() & 0xffffffu);
  return buf;
}

std::string fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print_latency(const json& l) {
  std::cout << "latency p50 " << fixed(l["p50"].get<double>(), 2) << " ms, p99 "
            << fixed(l["p99"].get<double>(), 2) << " ms, max " << fixed(l["max"].get<double>(), 2)
            << " ms";
}

void print_scenario(const json& s) {
  const json& limit = s["limit"];
  double per_core = limit["limit_per_core"].get<double>();
  unsigned cores = limit["cores"].get<unsigned>();
  const json& r = s["result"];
  std::cout << "\n== " << s["scenario"].get<std::string>() << ": " << s["what"].get<std::string>()
            << "\n";
  if (s.contains("setup")) {
    std::cout << "  setup (not measured): " << s["setup"]["what"].get<std::string>() << " in "
              << fixed(s["setup"]["seconds"].get<double>()) << " s\n";
  }
  if (s.contains("signing")) {
    std::cout << "  signing (during the run): " << s["signing"]["what"].get<std::string>() << ": "
              << fixed(s["signing"]["seconds"].get<double>()) << " s\n";
  }
  std::cout << "  result: " << fixed(r["value"].get<double>()) << " "
            << r["unit"].get<std::string>() << "  (" << s["ok"] << " ok, " << s["refused"]
            << " refused, " << s["failed"] << " failed in " << fixed(s["seconds"].get<double>(), 2)
            << " s, " << s["concurrency"] << " connections)\n  ";
  print_latency(s["latency_ms"]);
  std::cout << "\n  limit: Ed25519 verify " << fixed(per_core, 0) << "/s per core (best of "
            << limit["readings"] << " readings around the run) x " << cores
            << " cores = " << fixed(per_core * cores, 0) << "/s; signatures "
            << fixed(s["signatures_per_s"].get<double>(), 0) << "/s; ratio "
            << fixed(s["ratio"].get<double>(), 3) << " (OpenSSL's "
            << fixed(limit.value("openssl_verify_per_s_1_thread", 0.0), 0) << "/s per core: ratio "
            << fixed(s.value("ratio_to_openssl", 0.0), 3) << ")\n";
  if (s.contains("rack")) {
    std::cout << "  " << s["racks"] << " requests of up to " << s["rack"]
              << " serials (latency is per request); " << s["signatures_verified"]
              << " signatures verified, " << fixed(s["signatures_per_serial"].get<double>(), 2)
              << " per serial\n";
  }
  if (s.contains("cpu")) {
    std::cout << "  cpu during the run:";
    for (const auto& [k, v] : s["cpu"].items())
      std::cout << " " << k << " " << fixed(v.get<double>(), 2);
    std::cout << "\n";
  }
  if (s.contains("half_rate")) {
    const json& h = s["half_rate"];
    std::cout << "  at half that rate (" << fixed(h["rate_target"].get<double>(), 0)
              << " tx/s target, " << fixed(h["rate_achieved"].get<double>(), 0)
              << " achieved, accepts, " << s.value("per_request", 1) << " per request): ";
    print_latency(h["latency_ms"]);
    std::cout << "\n";
  }
  for (const auto& t : s["targets"]) {
    std::cout << "  target: " << t["what"].get<std::string>() << ": "
              << (t["met"].get<bool>() ? "met" : "NOT met") << " ("
              << fixed(t["value"].get<double>(), 3) << ")\n";
  }
  if (s.contains("node_memory") && !s["node_memory"].is_null()) {
    std::cout << "  node memory: RSS " << s["node_memory"]["rss_kib"].get<uint64_t>() / 1024
              << " MiB, peak " << s["node_memory"]["peak_rss_kib"].get<uint64_t>() / 1024
              << " MiB\n";
  }
  if (s.contains("first_problem")) {
    std::cout << "  first problem: " << s["first_problem"].get<std::string>() << "\n";
  }
}

int run(const Args& a) {
  std::vector<std::string> scenarios;
  if (a.scenario == "all") {
    scenarios = {"transfers", "register", "verify"};
  } else {
    scenarios = {a.scenario};
  }
  json out{{"tool", "chipledger-bench"},
           {"format", 1},
           {"smoke", a.smoke},
           {"started_unix_ms", unix_ms()},
           {"cores", cpu_count()},
           {"load_average_start", load_average()},
           {"nodes", a.nodes},
           {"node", !a.node_url.empty() ? a.node_url
                    : a.nodes == 1      ? "started by the benchmark, one fresh node per scenario"
                                        : "started by the benchmark, a fresh local cluster of " +
                                         std::to_string(a.nodes) +
                                         " nodes per scenario, driven at its leader"}};

  double each = a.limit_seconds > 0 ? a.limit_seconds : (a.smoke ? 0.2 : 1.0);
  auto measure = [&]() {
    return measure_signature_limit(std::chrono::milliseconds(static_cast<long>(each * 1000)),
                                   cpu_count());
  };
  std::cout << "measuring the machine's limit: Ed25519 verifications per second (" << fixed(each)
            << " s on 1 thread, then on " << cpu_count()
            << "), again after each scenario; each scenario is judged against the higher of "
               "the readings just before and just after it\n";
  auto limit = measure();
  if (!limit) {
    std::cerr << "chipledger-bench: " << limit.reason() << "\n";
    return 1;
  }
  std::cout << "  " << fixed(limit->per_core, 0) << "/s on 1 thread, " << fixed(limit->all_cores, 0)
            << "/s on " << limit->cores
            << " threads (OpenSSL 3, for reference: " << fixed(limit->openssl_per_core, 0)
            << "/s on 1 thread)\n";
  out["limit"] = limit->to_json();

  bool all_ok = true;
  out["scenarios"] = json::array();
  for (const auto& name : scenarios) {
    ScenarioOptions o = defaults(name, a.smoke);
    if (a.count) o.count = a.count;
    if (a.concurrency) o.concurrency = a.concurrency;
    if (a.batch) o.batch = a.batch;
    if (a.pool) o.pool = a.pool;
    if (a.per_request) o.per_request = a.per_request;
    if (a.rack) o.rack = a.rack;
    if (name == "verify" && !a.pool) o.pool = std::min(o.pool, o.count);
    o.tag = random_tag(name[0]);
    o.prep_threads = cpu_count();

    std::unique_ptr<NodeRunner> runner;
    Target target;
    if (a.node_url.empty()) {
      auto r = NodeRunner::init(a.node_bin.empty() ? default_node_bin() : a.node_bin, a.keep,
                                a.nodes, a.tls);
      if (!r) {
        std::cerr << "chipledger-bench: " << r.reason() << "\n";
        return 1;
      }
      runner = std::move(*r);
      if (auto st = runner->start(); !st) {
        std::cerr << "chipledger-bench: " << st.reason() << "\n";
        return 1;
      }
      target = Target{runner->url(), runner->dir(), runner->pid(), runner->follower_pids(),
                      runner->tls()};
    } else {
      auto tls = client_tls_for(a.node_url, a.node_dir);
      if (!tls) {
        std::cerr << "chipledger-bench: " << tls.reason() << "\n";
        return 1;
      }
      target = Target{a.node_url, a.node_dir, a.node_pid, {}, *tls};
    }
    auto members = load_members(target.dir);
    if (!members) {
      std::cerr << "chipledger-bench: " << members.reason() << "\n";
      return 1;
    }
    std::cout << "\nrunning " << name << " against " << target.url
              << (target.followers.empty()
                      ? ""
                      : " (the leader of " + std::to_string(target.followers.size() + 1) +
                            " nodes)")
              << " ...\n"
              << std::flush;
    Result<json> s = name == "transfers"  ? run_transfers(target, *members, *limit, o)
                     : name == "register" ? run_register(target, *members, *limit, o)
                                          : run_verify(target, *members, *limit, o);
    if (!s) {
      std::cerr << "chipledger-bench: " << name << ": " << s.reason() << "\n";
      if (runner) std::cerr << "node log:\n" << runner->log_tail() << "\n";
      json failed{{"scenario", name}, {"error", s.reason()}};
      out["scenarios"].push_back(failed);
      all_ok = false;
      continue;
    }
    (*s)["load_average_after"] = load_average();
    (*s)["api"] = target.tls ? "https" : "http";
    // The limit again, right after: the scenario counts against the better
    // reading, so a slow moment of the machine does not flatter its ratio.
    SignatureLimit before = *limit;
    if (auto again = measure()) {
      *limit = *again;
      judge_against(*s, SignatureLimit::best_of(before, *again));
    } else {
      judge_against(*s, before);
    }
    if ((*s)["refused"].get<size_t>() + (*s)["failed"].get<size_t>() > 0) all_ok = false;
    if (s->contains("half_rate")) {
      const json& h = (*s)["half_rate"];
      if (h["refused"].get<size_t>() + h["failed"].get<size_t>() > 0) all_ok = false;
    }
    print_scenario(*s);
    out["scenarios"].push_back(std::move(*s));
    if (runner) {
      int code = runner->stop();
      if (code != 0) {
        std::cerr << "chipledger-bench: the node exited with " << code << "\n"
                  << runner->log_tail() << "\n";
        all_ok = false;
      }
    }
  }
  if (a.smoke) {
    std::cout << "\n(--smoke: tiny sizes that only check the harness works; the figures and "
                 "targets above mean nothing)\n";
  }
  out["load_average_end"] = load_average();
  out["finished_unix_ms"] = unix_ms();
  out["complete"] = all_ok;
  if (!a.out.empty()) {
    std::ofstream f(a.out, std::ios::trunc);
    f << out.dump(2) << "\n";
    f.close();
    if (!f) {
      std::cerr << "chipledger-bench: cannot write " << a.out << "\n";
      return 1;
    }
    std::cout << "\nwrote " << a.out << "\n";
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "chipledger-bench: throughput and latency of a chipledger node, beside the "
      "machine's signature-verification limit"};
  Args a;
  app.add_option("--scenario", a.scenario, "transfers, register, verify or all")
      ->check(CLI::IsMember({"transfers", "register", "verify", "all"}))
      ->default_val("all");
  app.add_option("--count", a.count,
                 "transfers / serials to register / verifications (default per scenario)");
  app.add_option("--concurrency", a.concurrency, "client threads, one keep-alive connection each");
  app.add_option("--batch", a.batch, "serials per register transaction (register, verify pool)");
  app.add_option("--pool", a.pool, "verify: distinct serials to pick from at random");
  app.add_option("--per-request", a.per_request,
                 "transfers: transactions per request (1: POST /v1/transactions; more: "
                 "/v1/transactions/batch; default 20)");
  app.add_option("--nodes", a.nodes, "start a local cluster of this many nodes (default 1)")
      ->check(CLI::Range(1, 9));
  app.add_option("--rack", a.rack,
                 "verify: serials per request, verified as `chipledger verify --csv` does "
                 "(default 200; 1: GET checkpoint + GET history per serial)");
  app.add_option("--node", a.node_url, "drive this running node instead of starting one");
  app.add_option("--dir", a.node_dir,
                 "with --node: its `chipledger-node init` folder (keys/, consortium.json)");
  app.add_option("--node-pid", a.node_pid, "with --node: its process id, to report its memory");
  app.add_option("--node-bin", a.node_bin, "chipledger-node to start (default: beside this one)");
  app.add_option("--out", a.out, "write the results as JSON to this file");
  app.add_option("--limit-seconds", a.limit_seconds,
                 "seconds per signature-limit reading, each thread count (default 1, smoke 0.2)");
  app.add_flag("--smoke", a.smoke, "tiny sizes: checks the harness works, measures nothing");
  app.add_flag("--keep", a.keep, "keep the node folders (printed)");
  app.add_flag("--tls", a.tls,
               "the started nodes' API answers HTTPS (TLS 1.3, init's dev CA); default plain "
               "HTTP, to measure the ledger");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!a.node_url.empty() && a.node_dir.empty()) {
    std::cerr << "chipledger-bench: --node needs --dir (the node's init folder with keys/)\n";
    return 2;
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::cerr << "chipledger-bench: " << e.what() << "\n";
    return 1;
  }
}
