// Issue 10's attacks, played by a test proxy (lying_proxy.h) between the
// real `chipledger` CLI and a real chipledger-node: a node that only
// chooses which of its own validly signed answers to show, or makes one up.
// Each attack must leave the client saying neither `ok` nor `accepted`:
// `verify` exits with the documented code and names what is wrong.
#include "tests/integration/lying_node.h"

namespace chipledger::integ {
namespace {

using namespace lying;

TEST_CASE("lying node: 'accepted' without the transaction gets no receipt",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  uint64_t size = t.node.log_size();
  // The regulator's clear never reaches the node; the proxy says it was
  // accepted, at an index that holds another transaction, or past the log.
  std::string index = GENERATE(std::string("0"), std::string("99"));
  t.proxy->before([index](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.method != "POST" || !path_is(req, "/v1/transactions")) return std::nullopt;
    return json_response(200, "{\"outcome\":\"accepted\",\"accepted\":true,\"index\":" + index +
                                  ",\"txid\":\"00\"}");
  });
  auto r = t.cli(Argv{"clear"} + t.as("regulator") +
                 Argv{"--serial", "GPU-0001", "--reason", "cleared"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == 3);  // unknown: the node's word without a receipt
  CHECK(r.out.find("accepted") == std::string::npos);
  CHECK(r.err.find("gives no receipt that checks") != std::string::npos);
  CHECK(r.err.find("outcome is unknown") != std::string::npos);
  CHECK(t.node.log_size() == size);
}

TEST_CASE("lying node: a checkpoint older than one the client verified is refused",
          "[integration][lying]") {
  LyingNode t;
  t.ok(Argv{"register"} + t.as("maker") +
       Argv{"--serial", "GPU-0001", "--model", "H100-SXM5", "--eccn", "3A090", "--fab-site",
            "Fab 18", "--country", "TW"});
  std::string old_note = t.node.http().get("/v1/checkpoint")->body;
  t.ok(Argv{"flag"} + t.as("regulator") + Argv{"--serial", "GPU-0001", "--reason", "diversion"});
  {
    auto honest = t.verify({"GPU-0001"});  // remembers the newest checkpoint
    INFO(honest.describe());
    REQUIRE(honest.exit_code == kFlagged);
  }
  t.proxy->before([old_note](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (!path_is(req, "/v1/checkpoint")) return std::nullopt;
    return HttpResponse{200, "text/plain; charset=utf-8", old_note};
  });
  auto r = t.verify({"GPU-0001"});
  INFO(r.describe());
  CHECK(t.proxy->lies() > 0);
  CHECK(r.exit_code == 21);
  CHECK(json::parse(r.out)["verdict"] == "stale-checkpoint");
  CHECK(reasons(r.out).find("older than the checkpoint of size 2") != std::string::npos);
}

TEST_CASE("lying node: two quorum-signed checkpoints of a fork are a split view, with evidence",
          "[integration][lying]") {
  LyingNode t;
  // The same node key signs a second log (its twin's), shown to the client
  // after it verified the first.
  auto twin = NodeProcess::twin_of(t.node);
  twin->start();
  t.ok(Argv{"register"} + t.as("maker") +
       Argv{"--serial", "GPU-0001", "--model", "H100-SXM5", "--eccn", "3A090", "--fab-site",
            "Fab 18", "--country", "TW"});
  auto in_twin = twin->cli(Argv{"register"} + t.as("maker") +
                           Argv{"--serial", "GPU-0001", "--serial", "GPU-0002", "--model",
                                "H100-SXM5", "--fab-site", "Fab 18", "--country", "TW"});
  INFO(in_twin.describe());
  REQUIRE(in_twin.exit_code == 0);
  auto in_twin2 = twin->cli(Argv{"register"} + t.as("maker") +
                            Argv{"--serial", "GPU-0003", "--model", "H100-SXM5", "--fab-site",
                                 "Fab 18", "--country", "TW"});
  REQUIRE(in_twin2.exit_code == 0);
  REQUIRE(t.verify({"GPU-0001"}).exit_code != kProofFailure);
  t.proxy->set_upstream(twin->url());
  auto r = t.verify({"GPU-0001"});
  INFO(r.describe());
  CHECK(r.exit_code == 22);
  auto j = json::parse(r.out);
  CHECK(j["verdict"] == "split-view");
  std::string why = reasons(r.out);
  CHECK(why.find("split view") != std::string::npos);
  CHECK(why.find("node-maker / node-maker") != std::string::npos);
  auto at = why.find("evidence in ");
  REQUIRE(at != std::string::npos);
  std::string path = why.substr(at + 12);
  path = path.substr(0, path.find('\n'));
  std::ifstream evidence(path);
  std::string text((std::istreambuf_iterator<char>(evidence)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"remembered\"") != std::string::npos);
  CHECK(text.find("\"served\"") != std::string::npos);
}

TEST_CASE("lying node: a derived trust file anchors a client with no memory, no old view or fork",
          "[integration][lying]") {
  LyingNode t;
  // The same node key signs a second log (a fork in which GPU-0001 was
  // never flagged), as a past quorum could.
  auto twin = NodeProcess::twin_of(t.node);
  twin->start();
  const Argv gpu1{"--serial", "GPU-0001",   "--model", "H100-SXM5", "--eccn",
                  "3A090",    "--fab-site", "Fab 18",  "--country", "TW"};
  t.ok(Argv{"register"} + t.as("maker") + gpu1);
  std::string old_note = t.node.http().get("/v1/checkpoint")->body;
  t.ok(Argv{"flag"} + t.as("regulator") + Argv{"--serial", "GPU-0001", "--reason", "diversion"});
  for (const std::string serial : {"GPU-0001", "GPU-0003"}) {
    auto r = twin->cli(Argv{"register"} + t.as("maker") +
                       Argv{"--serial", serial, "--model", "H100-SXM5", "--eccn", "3A090",
                            "--fab-site", "Fab 18", "--country", "TW"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  const std::string derived = t.node.dir() + "/consortium-now.json";
  t.ok(Argv{"trust", "--out", derived});

  int fresh_states = 0;
  auto verify_as_new = [&](const std::string& trust_file) {  // a client with no memory
    return run_process(
        Argv{kCliBin, "--node", t.proxy->url(), "--state",
             t.node.dir() + "/new-client-" + std::to_string(++fresh_states) + ".json", "--trust",
             trust_file, "verify", "--json", "GPU-0001"});
  };
  auto not_flagged = [](const ProcessResult& r) {
    auto j = json::parse(r.out, nullptr, false);
    return r.exit_code != kFlagged && j.is_object() && j.value("verdict", "") != "flagged" &&
           j.value("verdict", "") != "stale-checkpoint" && j.value("verdict", "") != "split-view";
  };

  SECTION("an older checkpoint, from before the flag") {
    t.proxy->before([old_note](const HttpRequest& req) -> std::optional<HttpResponse> {
      if (!path_is(req, "/v1/checkpoint")) return std::nullopt;
      return HttpResponse{200, "text/plain; charset=utf-8", old_note};
    });
    auto with_genesis = verify_as_new(t.node.trust_file());
    INFO(with_genesis.describe());
    CHECK(not_flagged(with_genesis));  // what the anchor is for
    auto r = verify_as_new(derived);
    INFO(r.describe());
    CHECK(t.proxy->lies() > 0);
    CHECK(r.exit_code == 21);
    CHECK(json::parse(r.out)["verdict"] == "stale-checkpoint");
    CHECK(reasons(r.out).find("older than the checkpoint of size 2 of the derived trust file") !=
          std::string::npos);
    // attest: the chips are never asked to sign it (refused before any chip key is read).
    const uint64_t size = t.node.log_size();
    auto attest =
        run_process(Argv{kCliBin, "--node", t.proxy->url(), "--state",
                         t.node.dir() + "/new-client-attest.json", "--trust", derived, "attest"} +
                    t.as("datacenter") +
                    Argv{"--serial", "GPU-0001", "--site", "iad-7", "--chip-keys",
                         t.node.dir() + "/no-such-chips"});
    INFO(attest.describe());
    CHECK(attest.exit_code == 21);
    CHECK(attest.err.find("of the derived trust file") != std::string::npos);
    CHECK(t.node.log_size() == size);
  }
  SECTION("a fork signed by the same node key") {
    t.proxy->set_upstream(twin->url());
    auto with_genesis = verify_as_new(t.node.trust_file());
    INFO(with_genesis.describe());
    CHECK(not_flagged(with_genesis));
    auto r = verify_as_new(derived);
    INFO(r.describe());
    CHECK(r.exit_code == 22);
    CHECK(json::parse(r.out)["verdict"] == "split-view");
    CHECK(reasons(r.out).find("of the derived trust file") != std::string::npos);
    CHECK(reasons(r.out).find("signed by node-maker / node-maker") != std::string::npos);
    // A submission the fork takes gets no receipt from it: outcome unknown.
    auto reg = run_process(Argv{kCliBin, "--node", t.proxy->url(), "--state",
                                t.node.dir() + "/new-client-fork-submit.json", "--trust", derived,
                                "--receipt-timeout", "3", "register"} +
                           t.as("maker") +
                           Argv{"--serial", "GPU-0010", "--model", "H100-SXM5", "--eccn", "3A090",
                                "--fab-site", "Fab 18", "--country", "TW"});
    INFO(reg.describe());
    CHECK(reg.exit_code == 3);
    CHECK(reg.err.find("of the derived trust file") != std::string::npos);
  }
  SECTION("the honest node: the derived file verifies and submits like the genesis") {
    auto r = verify_as_new(derived);
    INFO(r.describe());
    CHECK(r.exit_code == kFlagged);
    auto reg =
        run_process(Argv{kCliBin, "--node", t.proxy->url(), "--state",
                         t.node.dir() + "/new-client-submit.json", "--trust", derived, "register"} +
                    t.as("maker") +
                    Argv{"--serial", "GPU-0009", "--model", "H100-SXM5", "--eccn", "3A090",
                         "--fab-site", "Fab 18", "--country", "TW"});
    INFO(reg.describe());
    CHECK(reg.exit_code == 0);
    CHECK(reg.out.find("accepted") != std::string::npos);
    // A derived file that does not check is an error naming why.
    auto forged = json::parse(read_text_file(derived));
    forged["members"][0]["country"] = "SG";
    write_text_file(t.node.dir() + "/forged.json", forged.dump());
    auto bad = verify_as_new(t.node.dir() + "/forged.json");
    INFO(bad.describe());
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("is a derived trust file that does not check") != std::string::npos);
    CHECK(bad.err.find("is not the one the governance history gives") != std::string::npos);
  }
}

TEST_CASE("lying node: a follower naming itself the leader gets not submitted, no tight loop",
          "[integration][lying]") {
  LyingNode t;
  t.register_and_flag();
  const uint64_t size = t.node.log_size();
  std::atomic<int> posts{0};
  const std::string self = t.proxy->url();
  t.proxy->before([&posts, self](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.method != "POST" || !path_is(req, "/v1/transactions")) return std::nullopt;
    posts.fetch_add(1);
    return json_response(421, "{\"error\":\"a follower\",\"leader\":\"" + self + "\"}");
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = t.cli(Argv{"--timeout", "3", "clear"} + t.as("regulator") +
                 Argv{"--serial", "GPU-0001", "--reason", "cleared"});
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.describe());
  CHECK(r.exit_code == 1);  // nothing was done, and the CLI says so
  CHECK_THAT(r.err, Catch::Contains("not submitted"));
  CHECK(posts.load() > 1);
  CHECK(posts.load() <= 3000 / 50 + 1);  // a pause between attempts
  CHECK(took < 3s + 10s * kSanitizerSlowdown);
  CHECK(t.node.log_size() == size);
}

}  // namespace
}  // namespace chipledger::integ
