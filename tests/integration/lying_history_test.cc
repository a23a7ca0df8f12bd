// Issue 10's attacks on histories, played by a test proxy between the real
// CLI and a real node (lying_node.h): an event withheld from a single or a
// batch history, "not registered" for a registered serial, and an
// attestation without the consistency proof of the checkpoint its chip
// signed, a made-up state for `status`, and a governance vote withheld
// (the policy in force would look kinder). The state map's and the log's
// proofs must turn each into a proof-failure.
#include <functional>

#include "tests/integration/lying_node.h"

namespace chipledger::integ {
namespace {

using namespace lying;

TEST_CASE("lying node: an event withheld from a history is a proof-failure",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  {
    auto honest = t.verify({"GPU-0001"});
    INFO(honest.describe());
    REQUIRE(honest.exit_code == kFlagged);
  }
  // Drop the newest event (the flag) from every single-serial history.
  t.proxy->after([](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
    if (!path_is(req, "/v1/chips/GPU-0001/history") || reply.status != 200) return std::nullopt;
    auto j = json::parse(reply.body);
    j["events"].erase(j["events"].end() - 1);
    return json_response(200, j.dump());
  });
  auto r = t.verify({"GPU-0001"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == kProofFailure);
  CHECK(reasons(r.out).find("state") != std::string::npos);
}

TEST_CASE("lying node: an event withheld from a batch history is a proof-failure",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  t.proxy->after([](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
    if (!path_is(req, "/v1/histories") || reply.status != 200) return std::nullopt;
    auto j = json::parse(reply.body);
    auto& list = j["histories"]["GPU-0001"];
    if (list.is_array() && !list.empty()) list.erase(list.end() - 1);
    return json_response(200, j.dump());
  });
  auto r = t.verify({"GPU-0001", "GPU-0002"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == kProofFailure);
  auto j = json::parse(r.out);
  CHECK(j["results"][0]["verdict"] == "proof-failure");
  CHECK(j["results"][1]["verdict"] != "proof-failure");  // the honest part still verifies
}

TEST_CASE("lying node: 'not registered' for a registered serial is a proof-failure",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  SECTION("single") {
    t.proxy->before([](const HttpRequest& req) -> std::optional<HttpResponse> {
      if (!path_is(req, "/v1/chips/GPU-0001")) return std::nullopt;
      return json_response(404, "{\"error\":\"serial GPU-0001 is not registered\"}");
    });
    auto r = t.verify({"GPU-0001"});
    INFO(r.describe());
    CHECK(t.proxy->lies() > 0);
    CHECK(r.exit_code == kProofFailure);
  }
  SECTION("batch") {
    t.proxy->after(
        [](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
          if (!path_is(req, "/v1/histories") || reply.status != 200) return std::nullopt;
          auto j = json::parse(reply.body);
          j["histories"]["GPU-0001"] = nullptr;
          return json_response(200, j.dump());
        });
    auto r = t.verify({"GPU-0001", "GPU-0002"});
    INFO(r.describe());
    CHECK(t.proxy->lies() > 0);
    CHECK(r.exit_code == kProofFailure);
  }
}

TEST_CASE("lying node: status shows only a state the checkpoint's state map proves",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  {
    auto honest = t.cli({"status", "GPU-0001"});
    INFO(honest.describe());
    REQUIRE(honest.exit_code == 0);
    CHECK(honest.out.find("proven       by the state map of checkpoint 2, signed by node-maker") !=
          std::string::npos);
    CHECK(honest.out.find("flagged      yes: diversion") != std::string::npos);
  }
  // GPU-0002's state (not flagged) at the same checkpoint, from the node.
  const json other = t.node.get_json("/v1/chips/GPU-0002/state");
  REQUIRE(other["size"] == 2);
  auto lie = [&](std::function<void(json&)> change) {
    t.proxy->after(
        [change](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
          if (!path_is(req, "/v1/chips/GPU-0001/state") || reply.status != 200) return std::nullopt;
          auto j = json::parse(reply.body);
          change(j);
          return json_response(200, j.dump());
        });
  };
  SECTION("another serial's record under this serial's proof") {
    lie([&](json& j) { j["state"]["record"] = other["state"]["record"]; });
  }
  SECTION("another serial's record with its own proof") {
    lie([&](json& j) { j["state"] = other["state"]; });
  }
  SECTION("'not registered' with a presence proof") {
    lie([](json& j) { j["state"]["record"] = nullptr; });
  }
  SECTION("no proof") {
    lie([](json& j) { j["state"].erase("proof"); });
  }
  auto r = t.cli({"status", "GPU-0001"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == kProofFailure);
  CHECK(r.out.find("flagged") == std::string::npos);
  CHECK(r.err.find("proof-failure") != std::string::npos);
}

// AX-0001 (with a device key) delivered to the datacenter, installed and
// attested through the proxy: its honest verdict is ok.
void attest_one(const LyingNode& t) {
  const std::string chips = t.node.dir() + "/chips";
  t.ok(Argv{"devkeys", "--count", "1", "--prefix", "AX-", "--digits", "4", "--out", chips});
  t.ok(Argv{"register"} + t.as("maker") +
       Argv{"--csv", chips + "/devices.csv", "--model", "AX-100", "--fab-site", "Fab 18",
            "--country", "TW"});
  const Argv serial{"--serial", "AX-0001"};
  t.ok(Argv{"transfer"} + t.as("maker") + serial + Argv{"--to", "distributor", "--ship-to", "SG"});
  t.ok(Argv{"accept"} + t.as("distributor") + serial);
  t.ok(Argv{"transfer"} + t.as("distributor") + serial +
       Argv{"--to", "datacenter", "--ship-to", "US"});
  t.ok(Argv{"accept"} + t.as("datacenter") + serial);
  t.ok(Argv{"install"} + t.as("datacenter") + serial + Argv{"--site", "iad-7", "--country", "US"});
  t.ok(Argv{"attest"} + t.as("datacenter") + serial +
       Argv{"--site", "iad-7", "--chip-keys", chips});
}

TEST_CASE("lying node: an attestation without its consistency proof is a proof-failure",
          "[integration][lying]") {
  LyingNode t;
  attest_one(t);
  {
    auto honest = t.verify({"AX-0001"});
    INFO(honest.describe());
    REQUIRE(honest.exit_code == 0);
  }
  auto strip = [](json& event) {
    if (!event.contains("consistency")) return false;
    event.erase("consistency");
    return true;
  };
  SECTION("single") {
    t.proxy->after(
        [&](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
          if (!path_is(req, "/v1/chips/AX-0001/history") || reply.status != 200)
            return std::nullopt;
          auto j = json::parse(reply.body);
          size_t stripped = 0;
          for (auto& e : j["events"]) stripped += strip(e) ? 1 : 0;
          if (stripped != 1)
            return json_response(500, "test proxy: expected exactly one attestation");
          return json_response(200, j.dump());
        });
    auto r = t.verify({"AX-0001"});
    INFO(r.describe());
    CHECK(t.proxy->lies() > 0);
    CHECK(r.exit_code == kProofFailure);
    CHECK(reasons(r.out).find("no consistency proof for the attested checkpoint") !=
          std::string::npos);
  }
  SECTION("batch") {
    t.proxy->after(
        [&](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
          if (!path_is(req, "/v1/histories") || reply.status != 200) return std::nullopt;
          auto j = json::parse(reply.body);
          size_t stripped = 0;
          for (auto& [index, e] : j["events"].items()) stripped += strip(e) ? 1 : 0;
          if (stripped != 1)
            return json_response(500, "test proxy: expected exactly one attestation");
          return json_response(200, j.dump());
        });
    auto r = t.verify({"AX-0001", "GPU-0404"});
    INFO(r.describe());
    CHECK(t.proxy->lies() > 0);
    CHECK(r.exit_code == kProofFailure);
    auto j = json::parse(r.out);
    CHECK(j["results"][0]["verdict"] == "proof-failure");
    CHECK(reasons(r.out).find("no consistency proof") != std::string::npos);
  }
}

TEST_CASE("lying node: a governance vote withheld from the governance history is a proof-failure",
          "[integration][lying][governance]") {
  LyingNode t;
  t.register_and_flag();
  // GPU-0002 (controlled) goes to the broker in MY, not a restricted
  // destination at genesis.
  t.ok(Argv{"transfer"} + t.as("maker") +
       Argv{"--serial", "GPU-0002", "--to", "broker", "--ship-to", "MY"});
  t.ok(Argv{"accept"} + t.as("broker") + Argv{"--serial", "GPU-0002"});
  {
    auto before = t.verify({"GPU-0002"});
    INFO(before.describe());
    REQUIRE(json::parse(before.out)["verdict"] == "not-installed");
  }
  // Two of the three admins restrict MY (the demo rule: 2 of maker,
  // regulator, datacenter).
  auto trust = json::parse(read_text_file(t.node.trust_file()));
  json policy = trust["policy"];
  policy["restricted_destinations"].push_back("MY");
  const std::string changes = t.node.dir() + "/restrict-my.json";
  write_text_file(changes, json::array({{{"change", "set-policy"}, {"policy", policy}}}).dump());
  auto proposed = t.cli(Argv{"propose"} + t.as("maker") + Argv{"--changes", changes});
  INFO(proposed.describe());
  REQUIRE(proposed.exit_code == 0);
  auto at = proposed.out.find("proposal id ");
  REQUIRE(at != std::string::npos);
  t.ok(Argv{"vote"} + t.as("regulator") + Argv{proposed.out.substr(at + 12, 64)});
  {
    // The honest answer: judged by the policy in force at the checkpoint.
    auto honest = t.verify({"GPU-0002"});
    INFO(honest.describe());
    auto j = json::parse(honest.out);
    CHECK(j["verdict"] == "restricted-destination");
    CHECK(j["governance"]["events"] == 2);
    CHECK(j["governance"]["changes"] == 1);
  }
  SECTION("the vote left out") {
    t.proxy->after(
        [](const HttpRequest& req, const HttpReply& reply) -> std::optional<HttpResponse> {
          if (!path_is(req, "/v1/governance/history") || reply.status != 200) return std::nullopt;
          auto j = json::parse(reply.body);
          j["events"].erase(j["events"].end() - 1);
          return json_response(200, j.dump());
        });
  }
  SECTION("no governance at all") {
    t.proxy->before([](const HttpRequest& req) -> std::optional<HttpResponse> {
      if (!path_is(req, "/v1/governance/history")) return std::nullopt;
      return json_response(404, "{\"error\":\"no governance transactions\"}");
    });
  }
  auto r = t.verify({"GPU-0002"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == kProofFailure);
  CHECK_THAT(reasons(r.out), Catch::Contains("the governance history does not check"));
  // The batch form too.
  auto batch = t.verify({"GPU-0001", "GPU-0002"});
  INFO(batch.describe());
  CHECK(batch.exit_code == kProofFailure);
}

}  // namespace
}  // namespace chipledger::integ
