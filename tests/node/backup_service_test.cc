// POST /v1/admin/backup and its request (docs/backup.md): only a request
// signed with the node's own key, for its ledger and node, within 60 s and
// never replayed, makes the node write a checkpoint; the manifest format
// round-trips and refuses what chipledger-node restore must not believe.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ledger/rocks_store.h"
#include "node/backup_manifest.h"
#include "node/backup_request.h"
#include "node/backup_service.h"
#include "tests/ledger/temp_dir.h"
#include "tests/node/test_consortium.h"

using namespace chipledger;
using namespace chipledger::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

HttpRequest post(const BackupRequest& r) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/v1/admin/backup";
  req.body = r.to_json();
  return req;
}

bool has_staging(const std::string& data_dir) {
  const std::string dir = BackupService::backups_dir(data_dir);
  return fs::exists(dir) && !fs::is_empty(dir);
}

}  // namespace

TEST_CASE("a backup request round-trips and its signature covers every field", "[node][backup]") {
  auto key = fresh_key();
  auto r = must(BackupRequest::sign(key, "ledger-1", "node-1", 1234));
  CHECK(r.nonce.size() == 32);
  auto parsed = must(BackupRequest::parse(r.to_json()));
  CHECK(parsed.verify(key.public_key()));
  CHECK_FALSE(parsed.verify(fresh_key().public_key()));
  for (int field = 0; field < 4; ++field) {
    BackupRequest changed = parsed;
    if (field == 0) changed.ledger_id = "ledger-2";
    if (field == 1) changed.node_id = "node-2";
    if (field == 2) changed.time_ms += 1;
    if (field == 3) changed.nonce[0] = changed.nonce[0] == 'a' ? 'b' : 'a';
    CHECK_FALSE(changed.verify(key.public_key()));
  }
  json j = json::parse(r.to_json());
  auto refused = [](const json& body, const std::string& why) {
    auto p = BackupRequest::parse(body.dump());
    REQUIRE_FALSE(p);
    CHECK(p.status().is_invalid());
    CHECK(p.reason().find(why) != std::string::npos);
  };
  json extra = j;
  extra["to"] = "/etc";
  refused(extra, "has no field 'to'");
  json short_nonce = j;
  short_nonce["nonce"] = "abc";
  refused(short_nonce, "nonce is 32 lowercase hex digits");
  json line = j;
  line["node_id"] = "node-1\nnode-2";
  refused(line, "needs its node_id");
  json negative = j;
  negative["time_ms"] = -5;
  refused(negative, "needs time_ms");
  CHECK_FALSE(BackupRequest::parse("[1]"));
}

TEST_CASE("the node writes a backup checkpoint only for its own signed, fresh, unused request",
          "[node][backup]") {
  auto tc = make_consortium();
  ScratchDir dir("chipledger-backup-svc-");
  const std::string data = dir.path().string();
  auto ledger = must(Ledger::open(must(RocksStore::open(data + "/ledger")), tc->consortium));
  apply_all(*ledger, {register_tx(*tc, {"SN-1", "SN-2"})});
  const PrivateKey& node_key = tc->nodes[0].second;
  uint64_t now = kT0;
  BackupService service(*ledger, node_key.public_key(),
                        BackupService::Options{data, tc->nodes[0].first, 1, [&] { return now; }});
  auto request = [&](const PrivateKey& key, uint64_t time) {
    return must(BackupRequest::sign(key, tc->ledger_id, tc->nodes[0].first, time));
  };

  SECTION("refused requests write nothing") {
    auto forged = service.handle(post(request(tc->maker, now)));
    CHECK(forged.status == 403);
    CHECK(forged.body.find("signed with this node's own key") != std::string::npos);
    auto other_node =
        service.handle(post(must(BackupRequest::sign(node_key, tc->ledger_id, "node-9", now))));
    CHECK(other_node.status == 403);
    auto old = service.handle(post(request(node_key, now - 61'000)));
    CHECK(old.status == 403);
    CHECK(old.body.find("more than 60 s") != std::string::npos);
    HttpRequest get = post(request(node_key, now));
    get.method = "GET";
    CHECK(service.handle(get).status == 405);
    HttpRequest junk = post(request(node_key, now));
    junk.body = "{";
    CHECK(service.handle(junk).status == 400);
    CHECK_FALSE(has_staging(data));
  }

  SECTION("a good request gives one staging checkpoint; its replay is refused") {
    BackupRequest r = request(node_key, now + 30'000);  // within the skew
    auto answer = service.handle(post(r));
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    json j = json::parse(answer.body);
    CHECK(j["log_size"] == 1);
    CHECK(j["root"] == hex_encode(*ledger->root_at(1)));
    CHECK(j["ledger_id"] == tc->ledger_id);
    const std::string staging = j["staging"];
    CHECK(fs::path(staging).parent_path() == fs::absolute(BackupService::backups_dir(data)));
    REQUIRE(fs::exists(staging + "/ledger"));
    // The copy opens as the same ledger.
    {
      auto copy = must(Ledger::open(must(RocksStore::open(staging + "/ledger")), tc->consortium));
      CHECK(copy->size() == 1);
      CHECK(*copy->root_at(1) == *ledger->root_at(1));
    }
    auto replay = service.handle(post(r));
    CHECK(replay.status == 403);
    CHECK(replay.body.find("already used") != std::string::npos);
    // No second backup while the first is being copied out; once its copy
    // removed it, the next one is taken.
    now += 1;
    auto busy = service.handle(post(request(node_key, now)));
    CHECK(busy.status == 409);
    CHECK(busy.body.find("being copied out") != std::string::npos);
    fs::remove_all(staging);
    auto second = service.handle(post(request(node_key, now)));
    REQUIRE(second.status == 200);
    size_t folders = 0;
    for (const auto& e : fs::directory_iterator(BackupService::backups_dir(data))) {
      (void)e;
      ++folders;
    }
    CHECK(folders == 1);
    must_ok(BackupService::remove_staging(data));
    CHECK_FALSE(has_staging(data));
  }
}

TEST_CASE("a backup manifest round-trips and refuses names outside its ledger folder",
          "[node][backup]") {
  BackupManifest m;
  m.ledger_id = "l";
  m.node_id = "n";
  m.raft_id = 2;
  m.applied_entry = 9;
  m.log_size = 4;
  m.root[0] = 1;
  m.state_root[1] = 2;
  m.taken_ms = 5;
  m.files.push_back({"ledger/000012.sst", 10, Hash{}});
  auto back = must(BackupManifest::parse(m.to_json()));
  CHECK(back.to_json() == m.to_json());
  for (const std::string bad :
       {"../etc/passwd", "ledger/../x", "ledger/a/b", "raft/x", "ledger/"}) {
    json j = json::parse(m.to_json());
    j["files"][0]["name"] = bad;
    auto p = BackupManifest::parse(j.dump());
    INFO(bad);
    CHECK_FALSE(p);
  }
  json twice = json::parse(m.to_json());
  twice["files"].push_back(twice["files"][0]);
  CHECK_FALSE(BackupManifest::parse(twice.dump()));
  json other = json::parse(m.to_json());
  other["format"] = "chipledger-backup/2";
  CHECK_FALSE(BackupManifest::parse(other.dump()));
  json missing = json::parse(m.to_json());
  missing.erase("root");
  CHECK_FALSE(BackupManifest::parse(missing.dump()));
}
