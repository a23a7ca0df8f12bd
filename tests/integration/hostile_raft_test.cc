// A 3-node cluster of real processes (init's dev CA and certificates)
// against strangers and hostile peers at its Raft ports (docs/tls.md): plain
// TCP, TLS without a certificate, a certificate of another CA, an expired
// one, one for a Raft id outside the configuration, a certificate that
// claims another node's id, a real member sending frames beyond the limits,
// and a removed node coming back. Each is refused at the door (counted in
// /v1/health and named in the node's log), and the cluster keeps its leader.
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <sstream>

#include "crypto/certificates.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/raft_probe.h"

namespace chipledger::integ {
namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

void put64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t counter(const LocalCluster& c, size_t i, const std::string& name) {
  auto h = c.get_json(i, "/v1/health");
  REQUIRE(h);
  return (*h)["raft"]["transport"][name].get<uint64_t>();
}

// Waits until node i's transport counter `name` exceeds `before`.
bool counted(const LocalCluster& c, size_t i, const std::string& name, uint64_t before) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20 * kSanitizerSlowdown);
  while (std::chrono::steady_clock::now() < end) {
    if (counter(c, i, name) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("hostile raft peers are refused at the door and the cluster keeps its leader",
          "[integration][raft][tls]") {
  LocalCluster cluster(3);
  cluster.start_all();
  size_t leader = cluster.wait_leader();
  size_t target = (leader + 1) % 3;  // a follower takes the probes
  size_t victim = (leader + 2) % 3;  // the follower that is removed at the end
  auto health = *cluster.get_json(target, "/v1/health");
  REQUIRE(health["raft"]["transport"]["tls"] == true);
  std::map<uint64_t, std::string> address;
  for (const auto& m : health["raft"]["members"]) address[m["id"]] = m["address"];
  auto node_id = [&](size_t i) {
    return (*cluster.get_json(i, "/v1/health"))["node_id"].get<std::string>();
  };
  uint64_t target_raft = health["raft"]["id"];
  uint64_t victim_raft = (*cluster.get_json(victim, "/v1/health"))["raft"]["id"];
  uint64_t leader_raft = (*cluster.get_json(leader, "/v1/health"))["raft"]["id"];
  uint64_t term0 = health["raft"]["term"];

  std::string tls = cluster.dir() + "/tls/";
  CertificateAndKey ca{read_text_file(tls + "ca.pem"), read_text_file(tls + "ca-key.pem")};
  std::string leader_id = node_id(leader);
  CertificateAndKey leader_cert{read_text_file(tls + leader_id + ".pem"),
                                read_text_file(tls + leader_id + "-key.pem")};
  auto other_ca = *make_ca("someone else's CA", now() - 60, now() + 3600);

  // A RequestVote of a huge term: what a stranger would send to depose the leader.
  Bytes vote;
  put64(vote, 1000000);      // term
  put64(vote, leader_raft);  // candidate id
  put64(vote, 1u << 30);     // last log index
  put64(vote, 1000000);      // last log term
  put64(vote, 0);            // flags
  Bytes request_vote = raft_message(3, vote);

  struct Attack {
    std::string what;
    RaftProbe probe;
    std::string log_says;
  };
  auto with = [&](std::optional<std::string> ca_pem, std::optional<CertificateAndKey> cert,
                  std::optional<uint64_t> id) {
    RaftProbe p;
    p.address = address.at(target_raft);
    p.trust_ca_pem = std::move(ca_pem);
    p.client = std::move(cert);
    p.hello_id = id;
    p.after_hello = request_vote;
    return p;
  };
  std::vector<Attack> attacks = {
      {"plain TCP, libraft's own handshake", with(std::nullopt, std::nullopt, leader_raft),
       "TLS handshake failed"},
      {"TLS without a client certificate", with(ca.cert_pem, std::nullopt, leader_raft),
       "TLS handshake failed"},
      {"a certificate of another CA naming a node",
       with(
           ca.cert_pem,
           *issue_node_certificate(other_ca, {leader_id, leader_raft, {}, now() - 60, now() + 600}),
           leader_raft),
       "TLS handshake failed"},
      {"an expired certificate of the consortium CA",
       with(ca.cert_pem,
            *issue_node_certificate(ca, {leader_id, leader_raft, {}, now() - 7200, now() - 3600}),
            leader_raft),
       "TLS handshake failed"},
      {"a consortium certificate for a Raft id outside the configuration",
       with(ca.cert_pem, *issue_node_certificate(ca, {"intruder", 9, {}, now() - 60, now() + 600}),
            9),
       "not in the current configuration"},
      {"the leader's certificate claiming another node's id",
       with(ca.cert_pem, leader_cert, victim_raft), "claims Raft id"},
      {"a consortium certificate without a Raft id",
       with(ca.cert_pem, *issue_node_certificate(ca, {"api-only", 0, {}, now() - 60, now() + 600}),
            leader_raft),
       "names no node and Raft id"},
  };
  for (const auto& a : attacks) {
    INFO(a.what);
    uint64_t before = counter(cluster, target, "refused");
    ProbeResult r = probe_raft(a.probe, std::chrono::seconds(10 * kSanitizerSlowdown));
    INFO(r.detail);
    CHECK(r.connected);
    CHECK(r.closed);
    CHECK(counted(cluster, target, "refused", before));
    CHECK_THAT(cluster.log(target), Catch::Contains(a.log_says));
  }

  // A real member (the leader's own credentials) whose frames break the
  // limits: accepted, then closed at the bad header; nothing allocated.
  Bytes short_vote = raft_message(3, Bytes(8, 0));  // libraft would read 32 bytes of it
  Bytes huge_snapshot;
  {
    Bytes h;
    for (int i = 0; i < 4; ++i) put64(h, 1);
    Bytes conf{1};
    put64(conf, 1);
    put64(conf, leader_raft);
    for (char ch : address.at(leader_raft)) conf.push_back(static_cast<uint8_t>(ch));
    conf.push_back(0);
    conf.push_back(1);
    while (conf.size() % 8) conf.push_back(0);
    put64(h, conf.size());
    h.insert(h.end(), conf.begin(), conf.end());
    put64(h, uint64_t{1} << 40);  // a 1 TiB snapshot
    huge_snapshot = raft_message(5, h);
  }
  for (const Bytes& bad : {short_vote, huge_snapshot}) {
    uint64_t before = counter(cluster, target, "guard_closed");
    RaftProbe p = with(ca.cert_pem, leader_cert, leader_raft);
    p.hello_address = address.at(leader_raft);
    p.after_hello = bad;
    ProbeResult r = probe_raft(p, std::chrono::seconds(10 * kSanitizerSlowdown));
    INFO(r.detail);
    CHECK(r.handshake);
    CHECK(r.closed);
    CHECK(counted(cluster, target, "guard_closed", before));
  }
  CHECK_THAT(cluster.log(target), Catch::Contains("InstallSnapshot of 1099511627776 bytes"));

  // Nobody deposed the leader: every node names the same one, below the forged term.
  CHECK(cluster.wait_leader() == leader);
  CHECK((*cluster.get_json(target, "/v1/health"))["raft"]["term"].get<uint64_t>() < 1000000);
  CHECK((*cluster.get_json(target, "/v1/health"))["raft"]["term"].get<uint64_t>() >= term0);

  // A removed node is refused at its next handshake.
  std::string victim_id = node_id(victim);
  // By a governance vote (docs/governance.md, section 6): three of the five
  // admins approve; the leader then removes it from the Raft configuration.
  // The victim is asked first: the vote that removes it must still get its
  // receipt, from the nodes in force (the victim's own checkpoints never
  // again get their signatures).
  std::string nodes = cluster.url(victim) + "," + cluster.url(leader) + "," + cluster.url(target);
  auto cli = [&](const std::string& member, const std::vector<std::string>& args) {
    std::vector<std::string> argv{kCliBin,
                                  "--node",
                                  nodes,
                                  "--trust",
                                  cluster.trust_file(),
                                  "--state",
                                  cluster.dir() + "/client-state.json"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a :
         {std::string("--as"), member, std::string("--key"), cluster.key_file(member)}) {
      argv.push_back(a);
    }
    return run_process(argv, std::chrono::seconds(120));
  };
  auto proposed = cli("maker", {"propose", "--remove-node", victim_id});
  INFO(proposed.describe());
  REQUIRE(proposed.exit_code == 0);
  const auto at = proposed.out.find("proposal id ");
  REQUIRE(at != std::string::npos);
  const std::string proposal = proposed.out.substr(at + 12, 64);
  for (const std::string admin : {"regulator", "datacenter"}) {
    auto voted = cli(admin, {"vote", proposal});
    INFO(voted.describe());
    REQUIRE(voted.exit_code == 0);
  }
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20 * kSanitizerSlowdown);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < end) {
    gone = true;
    auto h = cluster.get_json(target, "/v1/health");  // kept: the loop reads into it
    if (!h) gone = false;
    for (const auto& m : h ? (*h)["raft"]["members"] : nlohmann::json::array()) {
      if (m["id"] == victim_raft) gone = false;
    }
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(gone);
  CertificateAndKey victim_cert{read_text_file(tls + victim_id + ".pem"),
                                read_text_file(tls + victim_id + "-key.pem")};
  uint64_t before = counter(cluster, target, "refused");
  RaftProbe back = with(ca.cert_pem, victim_cert, victim_raft);
  back.hello_address = address.at(victim_raft);
  ProbeResult r = probe_raft(back, std::chrono::seconds(10 * kSanitizerSlowdown));
  INFO(r.detail);
  CHECK(r.closed);
  CHECK(counted(cluster, target, "refused", before));
  CHECK_THAT(cluster.log(target), Catch::Contains("(Raft id " + std::to_string(victim_raft) +
                                                  "): not in the current configuration"));
}

}  // namespace chipledger::integ
