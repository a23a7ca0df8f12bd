// Certificates that do not cause outages (docs/tls.md, "Renewal"): a node
// whose certificate nears its end says so in /v1/health and its log; a
// renewed certificate is installed while the node runs (SIGHUP) with no
// submission lost, new Raft and HTTPS connections show it, peers connect
// with it, and a wrong one is refused without changing anything.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/node_client.h"
#include "client/submission.h"
#include "crypto/certificates.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/raft_probe.h"
#include "tests/integration/tx_builder.h"

namespace chipledger::integ {
namespace {

using namespace std::chrono_literals;

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

// Waits until pred() holds; false at the deadline.
bool within(std::chrono::seconds limit, const std::function<bool()>& pred) {
  auto end = std::chrono::steady_clock::now() + limit * kSanitizerSlowdown;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

TEST_CASE("a renewed certificate is installed on SIGHUP with no submission lost",
          "[integration][tls]") {
  LocalCluster cluster(3);
  cluster.start_all();
  size_t leader = cluster.wait_leader();
  auto health = *cluster.get_json(leader, "/v1/health");
  std::string node_id = health["node_id"];
  uint64_t raft_id = health["raft"]["id"];
  std::string raft_address;
  for (const auto& m : health["raft"]["members"]) {
    if (m["id"] == raft_id) raft_address = m["address"];
  }
  // init's certificates last a year: no warning.
  REQUIRE(health["tls"]["subject"] == node_id);
  CHECK(health["tls"]["warning"] == false);
  CHECK_FALSE(health.contains("warnings"));
  int64_t old_not_after = health["tls"]["not_after"];

  // Submissions all along, the way the CLI makes them (client/submission.h):
  // to the leader, following 421 and moving on from 503 if leadership moves
  // while the machine is loaded. Lost: a submission refused, or whose outcome
  // stays unknown.
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0}, lost{0}, redirected{0};
  std::string first_problem;
  std::thread writer([&] {
    Author maker("maker", cluster.key_file("maker"));
    std::vector<std::string> urls;
    for (size_t i = 0; i < cluster.size(); ++i) urls.push_back(cluster.url(i));
    auto node = NodeClient::connect_to(urls, node_client_options(cluster.dir(), 10s));
    if (node) {
      if (Status st = (*node)->switch_to(cluster.url(leader)); !st) node = st;
    }
    if (!node) {  // no REQUIRE off the test's thread
      first_problem = node.reason();
      ++lost;
      return;
    }
    for (int i = 0; !stop; ++i) {
      auto stx =
          sign(register_tx(cluster.ledger_id(), maker, {"RENEW-" + std::to_string(i)}), maker);
      SubmitOutcome o =
          submit_and_resolve(**node, stx, std::chrono::steady_clock::now() + 60s, 10s);
      if (o.kind == SubmitOutcome::Kind::accepted) {
        ++accepted;
        if (o.attempts > 1) ++redirected;
      } else if (lost++ == 0) {
        first_problem = std::string(submit_outcome_name(o.kind)) + ": " + o.reason;
      }
    }
  });

  // The writer stops and is joined however the test ends.
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join{stop, writer};

  // The consortium issues a renewed certificate for the node; it ends in
  // 20 days, inside the 30-day warning.
  std::string tls = cluster.dir() + "/tls/";
  CertificateAndKey ca{read_text_file(tls + "ca.pem"), read_text_file(tls + "ca-key.pem")};
  auto renewed = issue_node_certificate(
      ca, {node_id, raft_id, {"localhost", "127.0.0.1"}, now() - 60, now() + 20 * 86400});
  REQUIRE(renewed);
  write_text_file(tls + node_id + ".pem", renewed->cert_pem);
  write_text_file(tls + node_id + "-key.pem", renewed->key_pem);
  REQUIRE(kill(cluster.pid(leader), SIGHUP) == 0);
  int64_t new_not_after = certificate_info(renewed->cert_pem)->not_after;
  REQUIRE(within(std::chrono::seconds(20), [&] {
    auto h = cluster.get_json(leader, "/v1/health");
    return h && (*h)["tls"]["not_after"] == new_not_after;
  }));
  health = *cluster.get_json(leader, "/v1/health");
  CHECK(health["tls"]["warning"] == true);
  REQUIRE(health["warnings"].size() == 1);
  CHECK_THAT(health["warnings"][0].get<std::string>(),
             Catch::Matches(".*expires in (19|20) days.*"));
  CHECK_THAT(cluster.log(leader), Catch::Contains("reloaded the TLS certificate"));
  CHECK(new_not_after != old_not_after);

  // A new Raft connection sees the renewed certificate ...
  size_t other = (leader + 1) % 3;
  std::string other_id = (*cluster.get_json(other, "/v1/health"))["node_id"];
  RaftProbe probe;
  probe.address = raft_address;
  probe.trust_ca_pem = ca.cert_pem;
  probe.client = CertificateAndKey{read_text_file(tls + other_id + ".pem"),
                                   read_text_file(tls + other_id + "-key.pem")};
  probe.hello_id = (*cluster.get_json(other, "/v1/health"))["raft"]["id"].get<uint64_t>();
  ProbeResult seen = probe_raft(probe, std::chrono::seconds(5));
  REQUIRE(seen.handshake);
  CHECK(certificate_info_der(seen.server_certificate)->not_after == new_not_after);

  // So does a new HTTPS connection to its API.
  {
    RaftProbe api;
    std::string url = cluster.url(leader);
    api.address = "127.0.0.1:" + url.substr(url.rfind(':') + 1);
    api.trust_ca_pem = ca.cert_pem;
    ProbeResult shown = probe_raft(api, std::chrono::seconds(5));
    REQUIRE(shown.handshake);
    CHECK(certificate_info_der(shown.server_certificate)->not_after == new_not_after);
  }

  // ... and a follower that restarts reconnects to the leader through it.
  cluster.kill9(other);
  cluster.start(other);
  CHECK(cluster.wait_leader() == leader);
  {  // last_seen is shown only if this part fails
    uint64_t target = 0;
    std::string last_seen;
    bool caught_up = within(std::chrono::seconds(30), [&] {
      auto l = cluster.get_json(leader, "/v1/health");
      auto f = cluster.get_json(other, "/v1/health");
      last_seen =
          (l ? l->dump() : "no leader health") + "\n" + (f ? f->dump() : "no follower health");
      if (!l || !f) return false;
      if (target == 0) target = (*l)["size"].get<uint64_t>();
      return (*f)["size"].get<uint64_t>() >= target && target > 0;
    });
    INFO(last_seen);
    REQUIRE(caught_up);
  }

  // A certificate for another node is refused; the node keeps the renewed one.
  std::string stranger_id = other_id;
  auto wrong =
      issue_node_certificate(ca, {stranger_id, raft_id, {"localhost"}, now() - 60, now() + 86400});
  REQUIRE(wrong);
  write_text_file(tls + node_id + ".pem", wrong->cert_pem);
  write_text_file(tls + node_id + "-key.pem", wrong->key_pem);
  REQUIRE(kill(cluster.pid(leader), SIGHUP) == 0);
  CHECK(within(std::chrono::seconds(20), [&] {
    return cluster.log(leader).find("the TLS certificate was not reloaded") != std::string::npos;
  }));
  CHECK((*cluster.get_json(leader, "/v1/health"))["tls"]["not_after"] == new_not_after);

  stop = true;
  writer.join();
  UNSCOPED_INFO("first problem: " << first_problem);
  UNSCOPED_INFO("accepted " << accepted << ", after more than one attempt " << redirected);
  CHECK(accepted > 100);
  CHECK(lost == 0);
}

}  // namespace chipledger::integ
