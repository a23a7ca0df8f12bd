// Fresh checkpoints against a real chipledger-node (docs/checkpoint.md,
// "Freshness"): with a 1 s re-signing interval an idle node's checkpoint
// signature time advances with no write in between, and `verify` prints the
// checkpoint's age; with re-signing far apart and a trust file allowing 1 s,
// the same checkpoint soon is a stale-checkpoint (exit 21) for `verify` and
// an error for `attest`.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

// Sets [checkpoint] resign_interval_seconds in a node's config file.
void set_resign_interval(const std::string& path, int seconds) {
  set_config_value(path, "resign_interval_seconds", std::to_string(seconds));
}
void set_resign_interval(const NodeProcess& node, int seconds) {
  set_resign_interval(node.dir() + "/node.toml", seconds);
}

// GET /v1/checkpoint, verified against the trust file.
VerifiedCheckpoint served_checkpoint(NodeProcess& node, const Consortium& trust) {
  auto reply = node.http().get("/v1/checkpoint");
  REQUIRE(reply);
  REQUIRE(reply->status == 200);
  auto cp = verify_checkpoint(trust, reply->body);
  INFO(reply->body);
  REQUIRE(cp);
  return *cp;
}

void register_serial(NodeProcess& node, const std::string& serial) {
  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                       serial, "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
}

}  // namespace

TEST_CASE("freshness: an idle node re-signs its checkpoint and verify prints its age",
          "[integration][freshness]") {
  NodeProcess node;
  set_resign_interval(node, 1);
  node.start();
  auto trust = Consortium::load_file(node.trust_file());
  REQUIRE(trust);
  register_serial(node, "AX100-FRESH-1");
  uint64_t size = node.log_size();
  VerifiedCheckpoint first = served_checkpoint(node, *trust);
  REQUIRE(first.checkpoint.size == size);

  // No write in between: the signature time advances by itself.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  VerifiedCheckpoint later = first;
  while (later.fresh_as_of <= first.fresh_as_of) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
    later = served_checkpoint(node, *trust);
  }
  CHECK(later.checkpoint.size == size);
  CHECK(later.checkpoint.root == first.checkpoint.root);
  CHECK(node.log_size() == size);
  REQUIRE(later.signed_at.size() == 1);
  CHECK(later.signed_at[0].time > first.signed_at[0].time);

  auto json_out = node.cli({"verify", "AX100-FRESH-1", "--trust", node.trust_file(), "--json"});
  INFO(json_out.describe());
  REQUIRE(json_out.exit_code == 17);  // held by its maker, not installed: the checkpoint is fresh
  auto report = nlohmann::json::parse(json_out.out);
  CHECK(report["checkpoint"]["age_ms"].get<uint64_t>() < 10'000);
  CHECK(report["checkpoint"]["signed_at"]["node-maker"].is_number_unsigned());
  auto text = node.cli({"verify", "AX100-FRESH-1", "--trust", node.trust_file()});
  INFO(text.describe());
  CHECK(text.out.find("signed by node-maker, ") != std::string::npos);
  CHECK(text.out.find(" ago") != std::string::npos);
}

TEST_CASE("freshness: a checkpoint older than the trust file allows is refused",
          "[integration][freshness]") {
  NodeProcess node;
  set_resign_interval(node, 3600);
  node.start();
  register_serial(node, "AX100-STALE-1");
  // A trust file like the node's, allowing checkpoints 1 s old.
  auto trust = nlohmann::json::parse(read_text_file(node.trust_file()));
  trust["policy"]["max_checkpoint_age_seconds"] = 1;
  std::string strict = node.dir() + "/strict-consortium.json";
  write_text_file(strict, trust.dump(2));

  // The node signed at the registration and will not again for an hour:
  // within a few seconds its checkpoint is older than 1 s.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  ProcessResult r;
  while (true) {
    r = node.cli({"verify", "AX100-STALE-1", "--trust", strict, "--json"});
    if (r.exit_code != 17) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(200ms);
  }
  INFO(r.describe());
  REQUIRE(r.exit_code == 21);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["verdict"] == "stale-checkpoint");
  REQUIRE(report["findings"].size() == 1);
  std::string reason = report["findings"][0]["reason"];
  CHECK(reason.find("stale") != std::string::npos);
  CHECK(reason.find("allows 1 s") != std::string::npos);
  CHECK(report["checkpoint"]["age_ms"].get<uint64_t>() > 1000);
  // The node's own trust file (600 s) still finds it fresh.
  auto lenient = node.cli({"verify", "AX100-STALE-1", "--trust", node.trust_file()});
  INFO(lenient.describe());
  CHECK(lenient.exit_code == 17);

  // attest signs only a fresh checkpoint.
  auto attest = node.cli({"attest", "--as", "datacenter", "--key", node.key_file("datacenter"),
                          "--serial", "AX100-STALE-1", "--site", "site-1", "--chip-keys",
                          node.dir() + "/no-chips", "--trust", strict});
  INFO(attest.describe());
  CHECK(attest.exit_code == 1);
  CHECK(attest.err.find("not fresh") != std::string::npos);
  CHECK(attest.err.find("allows 1 s") != std::string::npos);
}

TEST_CASE("freshness: in a 3-node cluster every node's re-signature reaches the others",
          "[integration][freshness][cluster]") {
  LocalCluster c(3);
  for (size_t i = 0; i < c.size(); ++i) {
    set_resign_interval(c.dir() + "/node-" + std::to_string(i + 1) + ".toml", 1);
  }
  c.start_all();
  c.wait_leader();
  auto trust = Consortium::load_file(c.trust_file());
  REQUIRE(trust);
  // What node i serves: verified, with each signer's time.
  auto served = [&](size_t i) -> std::optional<VerifiedCheckpoint> {
    auto http = c.connect(i, 10s);
    if (!http) return std::nullopt;
    auto r = (*http)->get("/v1/checkpoint?wait_ms=0");
    if (!r || r->status != 200) return std::nullopt;
    auto v = verify_checkpoint(*trust, r->body);
    if (!v) return std::nullopt;
    return *v;
  };
  std::optional<VerifiedCheckpoint> first;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!(first = served(0)) || first->signed_at.size() < 3) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  // No write: every node, at every other, signs again later than before.
  for (size_t i = 0; i < c.size(); ++i) {
    INFO("node " << i + 1);
    while (true) {
      auto v = served(i);
      bool all_newer =
          v && v->checkpoint.size == first->checkpoint.size && v->signed_at.size() == 3;
      for (size_t k = 0; all_newer && k < 3; ++k) {
        all_newer = v->signed_at[k].node_id == first->signed_at[k].node_id &&
                    v->signed_at[k].time > first->signed_at[k].time;
      }
      if (all_newer) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(100ms);
    }
  }
}

}  // namespace chipledger::integ
