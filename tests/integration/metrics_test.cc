// GET /metrics of a real node, parsed by the Prometheus project's own text
// parser (python3-prometheus-client): the families docs/metrics.md lists,
// with values that follow what the node did, and labels a stranger cannot
// choose.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using nlohmann::json;

struct Sample {
  std::string name;
  json labels;
  double value = 0;
};

// The node's /metrics, parsed; fails the test if it does not parse.
std::vector<Sample> scrape(NodeProcess& node) {
  auto got = node.http().get("/metrics");
  INFO(got.reason());
  REQUIRE(got.is_ok());
  HttpReply reply = *got;
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "text/plain; version=0.0.4; charset=utf-8");
  const std::string file = node.dir() + "/metrics.txt";
  std::ofstream(file) << reply.body;
  auto parsed = run_process(
      {"/usr/bin/python3", CHIPLEDGER_SOURCE_DIR "/tests/integration/tools/parse_metrics.py", file},
      std::chrono::seconds(60));
  INFO(parsed.describe());
  REQUIRE(parsed.exit_code == 0);
  std::vector<Sample> out;
  std::istringstream lines(parsed.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    out.push_back({j["name"], j["labels"], j["value"]});
  }
  return out;
}

int status_of(const Result<HttpReply>& r) { return r ? r->status : -1; }

// The value of the sample with this name and these labels (among others).
std::optional<double> value(const std::vector<Sample>& all, const std::string& name,
                            const json& labels = json::object()) {
  for (const auto& s : all) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels.items()) match = match && s.labels.value(k, "") == v;
    if (match) return s.value;
  }
  return std::nullopt;
}

TEST_CASE("metrics: a node's /metrics parses and follows what it did", "[integration]") {
  NodeProcess node;
  node.start();
  auto cli_ok = [&](const std::vector<std::string>& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  };
  const std::vector<std::string> maker = {"--as", "maker", "--key", node.key_file("maker")};
  cli_ok(Argv{"register"} + maker +
         Argv{"--serial", "GPU-M-1", "--serial", "GPU-M-2", "--serial", "GPU-M-3", "--model", "H1",
              "--fab-site", "f1", "--country", "TW"});
  cli_ok(Argv{"transfer"} + maker +
         Argv{"--serial", "GPU-M-1", "--to", "distributor", "--ship-to", "SG"});
  // Refused by the rules: the distributor holds nothing yet to send.
  auto refused = node.cli({"transfer", "--as", "distributor", "--key", node.key_file("distributor"),
                           "--serial", "GPU-M-2", "--to", "datacenter", "--ship-to", "US"});
  CHECK(refused.exit_code == 2);
  // A stranger's paths: counted, but under fixed route labels only.
  CHECK(status_of(node.http().get("/v1/chips/NO-SUCH-CHIP-XYZ")) == 404);
  CHECK(status_of(node.http().get("/nonsense-path-qwerty")) == 404);

  auto m = scrape(node);
  CHECK(value(m, "chipledger_raft_role", {{"role", "leader"}}) == 1);
  CHECK(value(m, "chipledger_raft_role", {{"role", "follower"}}) == 0);
  CHECK(value(m, "chipledger_raft_term") >= 1);
  REQUIRE(value(m, "chipledger_raft_applied_index").has_value());
  CHECK(value(m, "chipledger_raft_applied_index") == value(m, "chipledger_raft_commit_index"));
  CHECK(value(m, "chipledger_raft_leader_changes_total") == 1);
  CHECK(value(m, "chipledger_log_size") == 2);
  CHECK(value(m, "chipledger_checkpoint_size") == 2);
  CHECK(value(m, "chipledger_checkpoint_cosigners") == 1);
  CHECK(value(m, "chipledger_checkpoint_quorum") == 1);
  // Freshly signed by its quorum (this one node): seconds, not decades.
  CHECK(value(m, "chipledger_checkpoint_age_seconds").value_or(1e18) < 600);
  CHECK(value(m, "chipledger_data_bytes") > 0);
  CHECK(value(m, "chipledger_disk_free_bytes") > 0);
  CHECK(value(m, "chipledger_http_open_connections") >= 1);
  CHECK(value(m, "chipledger_submissions_total", {{"outcome", "accepted"}, {"reason", "new"}}) ==
        2);
  CHECK(value(m, "chipledger_submissions_total", {{"outcome", "refused"}, {"reason", "rules"}}) ==
        1);
  CHECK(value(m, "chipledger_submit_latency_seconds_count") == 3);
  CHECK(value(m, "chipledger_submit_latency_seconds_sum") > 0);
  // Three blocks applied, of one transaction each (the refused one was
  // refused in its block); four serials' records changed.
  CHECK(value(m, "chipledger_block_transactions_count") == 3);
  CHECK(value(m, "chipledger_block_transactions_sum") == 3);
  CHECK(value(m, "chipledger_block_serials_sum") == 4);
  CHECK(value(m, "chipledger_block_apply_seconds_count") == 3);
  CHECK(value(m, "chipledger_block_apply_seconds_bucket", {{"le", "+Inf"}}) == 3);
  CHECK(value(m, "chipledger_raft_snapshots_total", {{"kind", "taken"}}) == 0);
  CHECK(value(m, "chipledger_http_requests_total",
              {{"route", "/v1/chips/{serial}"}, {"method", "GET"}, {"status", "404"}}) >= 1);
  CHECK(value(m, "chipledger_http_requests_total",
              {{"route", "other"}, {"method", "GET"}, {"status", "404"}}) == 1);
  CHECK(value(m, "chipledger_http_requests_total",
              {{"route", "/v1/transactions"}, {"method", "POST"}, {"status", "200"}}) == 2);
  CHECK(value(m, "chipledger_http_requests_total",
              {{"route", "/v1/transactions"}, {"method", "POST"}, {"status", "422"}}) == 1);
  for (const auto& s : m) {
    INFO(s.name << " " << s.labels.dump());
    CHECK(s.labels.dump().find("NO-SUCH-CHIP") == std::string::npos);
    CHECK(s.labels.dump().find("qwerty") == std::string::npos);
  }

  // The next scrape counts the first one.
  auto again = scrape(node);
  CHECK(value(again, "chipledger_http_requests_total",
              {{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}) == 1);
  CHECK(status_of(node.http().post("/metrics", "{}", "application/json")) == 405);

  // Every series the sample Grafana dashboard queries is one the node
  // exposes (a histogram by its _bucket, _sum and _count series).
  std::ifstream in(CHIPLEDGER_SOURCE_DIR "/config/grafana-dashboard.json");
  REQUIRE(in);
  json dashboard = json::parse(in);
  std::set<std::string> exposed;
  for (const auto& s : again) exposed.insert(s.name);
  size_t queried = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      const std::string expr = target["expr"];
      static const std::regex series("chipledger_[a-z_]+");
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), series);
           it != std::sregex_iterator(); ++it) {
        INFO(panel["title"] << ": " << it->str());
        CHECK(exposed.count(it->str()) == 1);
        ++queried;
      }
    }
  }
  CHECK(queried >= 20);
}

}  // namespace
}  // namespace chipledger::integ
