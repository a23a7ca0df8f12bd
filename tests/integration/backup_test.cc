// Backups (docs/backup.md), with the real binaries: `chipledger-node backup`
// while the node takes registrations, the node stopped and its data folder
// wiped, `chipledger-node restore --new-cluster`, the node started again:
// the chips verify as before and the ledger takes new transactions. Bad
// inputs (a flipped byte, a manifest that lies, another ledger's backup, a
// data folder that holds a ledger, an existing --to folder) and a backup
// request not signed by the node's key are refused and change nothing. In a
// cluster, a lost node's backup seeds a new member that a vote adds: it
// starts from the backup, fetches only what came after, and signs.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/keys.h"
#include "node/backup_request.h"
#include "tests/integration/cluster_process.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

ProcessResult node_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kNodeBin};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, std::chrono::seconds(120 * kSanitizerSlowdown));
}

// Every file under `dir` with its size: what "changes nothing" compares.
// Not the folder's lock file, which names whoever held the folder last (a
// refused restore too: it held the lock while it checked).
std::map<std::string, uintmax_t> listing(const std::string& dir) {
  std::map<std::string, uintmax_t> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename() == "node.lock") continue;
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = e.file_size();
  }
  return out;
}

void copy_backup(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

// The largest file of the backup's ledger folder (an SST or the WAL).
std::string largest_file(const std::string& backup) {
  std::string best;
  uintmax_t size = 0;
  for (const auto& e : fs::directory_iterator(backup + "/ledger")) {
    if (e.file_size() > size) {
      size = e.file_size();
      best = e.path().string();
    }
  }
  return best;
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x01));
  REQUIRE(f.good());
}

// The CLI against `node` with its own client state file.
ProcessResult cli_with_state(NodeProcess& node, const std::string& state,
                             std::vector<std::string> args) {
  std::vector<std::string> argv = {kCliBin,           "--node",  node.url(), "--trust",
                                   node.trust_file(), "--state", state};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, std::chrono::seconds(120));
}

std::string register_serial(NodeProcess& node, const std::string& serial) {
  auto r = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                     serial, "--model", "H1", "--fab-site", "f1", "--country", "TW"});
  return r.exit_code == 0 ? "" : r.describe();
}

TEST_CASE("backup: taken while the node writes, restored into a new cluster, verifies",
          "[integration]") {
  NodeProcess node;
  node.start();
  const std::string config = node.dir() + "/node.toml";
  const std::string data = node.dir() + "/data";
  const std::string backup = node.dir() + "/backup-1";

  // A chip with a chain before the backup.
  REQUIRE(register_serial(node, "GPU-B-1").empty());
  for (auto args : std::vector<std::vector<std::string>>{
           {"transfer", "--as", "maker", "--key", node.key_file("maker"), "--serial", "GPU-B-1",
            "--to", "distributor", "--ship-to", "SG"},
           {"accept", "--as", "distributor", "--key", node.key_file("distributor"), "--serial",
            "GPU-B-1"}}) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  auto before = node.cli({"verify", "GPU-B-1", "--json"});
  INFO(before.describe());
  REQUIRE(before.exit_code == 17);

  // The running node holds its data folder: a second node on it, or a
  // restore into it, is refused before anything is written.
  {
    auto second = node_cli({"--config", config});
    INFO(second.describe());
    CHECK(second.exit_code == 1);
    CHECK(second.err.find("is in use by another process (chipledger-node " + node.node_id() +
                          ", pid") != std::string::npos);
    auto into_running =
        node_cli({"restore", "--config", config, "--from", node.dir() + "/none", "--new-cluster"});
    INFO(into_running.describe());
    CHECK(into_running.exit_code == 2);
    CHECK(into_running.err.find("is in use by another process") != std::string::npos);
    CHECK(node.log_size() == 3);  // still answering: register, transfer, accept
  }

  // Registrations go on while the backup is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> loaded{0};
  std::string load_problem;
  std::thread loader([&] {
    for (int i = 0; !stop && i < 1000; ++i) {
      std::string problem = register_serial(node, "GPU-L-" + std::to_string(i));
      if (!problem.empty()) {
        load_problem = problem;
        return;
      }
      ++loaded;
    }
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (loaded < 3 && load_problem.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto taken = node_cli({"backup", "--config", config, "--to", backup, "--node", node.url()});
  while (loaded < 6 && load_problem.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  loader.join();
  INFO(load_problem);
  REQUIRE(load_problem.empty());
  INFO(taken.describe());
  REQUIRE(taken.exit_code == 0);
  CHECK(taken.out.find("backup of node") != std::string::npos);
  json manifest = json::parse(read_text_file(backup + "/backup.json"));
  CHECK(manifest["format"] == "chipledger-backup/1");
  CHECK(manifest["ledger_id"] == node.ledger_id());
  const uint64_t backed_up = manifest["log_size"].get<uint64_t>();
  CHECK(backed_up >= 3 + 3);  // the chain and the registrations before it
  CHECK(!manifest["files"].empty());
  // The node's staging folder is gone once copied out.
  CHECK((!fs::exists(data + "/backups") || fs::is_empty(data + "/backups")));
  const uint64_t final_size = node.log_size();
  CHECK(final_size > backed_up);  // registrations landed after it

  SECTION("the backup restores into a new cluster and the ledger goes on") {
    // Refused while the data folder holds the ledger: nothing changes.
    REQUIRE(node.stop() == 0);
    const auto untouched = listing(data);
    auto busy = node_cli({"restore", "--config", config, "--from", backup, "--new-cluster"});
    INFO(busy.describe());
    CHECK(busy.exit_code == 2);
    CHECK(busy.err.find("holds data: a backup is restored only into an empty data folder") !=
          std::string::npos);
    CHECK(listing(data) == untouched);

    fs::remove_all(data);
    // Without --new-cluster a restore joins a cluster: that needs [raft] join.
    auto no_join = node_cli({"restore", "--config", config, "--from", backup});
    INFO(no_join.describe());
    CHECK(no_join.exit_code == 2);
    CHECK(no_join.err.find("set [raft] join = true") != std::string::npos);
    {
      // ... and never as the node the backup is of (its old term and vote).
      const std::string plain = read_text_file(config);
      std::string joining = plain;
      REQUIRE(joining.find("[raft]\n") != std::string::npos);
      joining.insert(joining.find("[raft]\n") + 7, "join = true\n");
      write_text_file(config, joining);
      auto itself = node_cli({"restore", "--config", config, "--from", backup});
      INFO(itself.describe());
      CHECK(itself.exit_code == 2);
      CHECK(itself.err.find("joins as a new member, with another node id and Raft id") !=
            std::string::npos);
      auto both = node_cli({"restore", "--config", config, "--from", backup, "--new-cluster"});
      INFO(both.describe());
      CHECK(both.exit_code == 2);
      CHECK(both.err.find("sets [raft] join = true") != std::string::npos);
      write_text_file(config, plain);
      CHECK(!fs::exists(data + "/ledger"));
    }

    auto restored = node_cli({"restore", "--config", config, "--from", backup, "--new-cluster"});
    INFO(restored.describe());
    REQUIRE(restored.exit_code == 0);
    CHECK(restored.out.find("checked against a replay of its log") != std::string::npos);
    CHECK(restored.out.find(std::to_string(backed_up) + " log entries") != std::string::npos);
    CHECK(!fs::exists(data + "/restore.partial"));

    node.start();
    CHECK(node.log_size() == backed_up);
    // A fresh client state: the old one remembers a later checkpoint of the
    // lost history and rightly refuses this one (below).
    const std::string fresh = node.dir() + "/fresh-state.json";
    auto after = cli_with_state(node, fresh, {"verify", "GPU-B-1", "--json"});
    INFO(after.describe());
    REQUIRE(after.exit_code == 17);
    json b = json::parse(before.out), a = json::parse(after.out);
    CHECK(a["verdict"] == b["verdict"]);
    CHECK(a["chain"].size() == 3);
    CHECK(a["holder"] == "distributor");

    // New transactions land after the restored log.
    auto next =
        cli_with_state(node, fresh,
                       {"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                        "GPU-B-2", "--model", "H1", "--fab-site", "f1", "--country", "TW"});
    INFO(next.describe());
    REQUIRE(next.exit_code == 0);
    CHECK(next.out.find("accepted at log index " + std::to_string(backed_up)) != std::string::npos);

    // The client that saw the lost entries does not take the new history:
    // smaller than what it verified (stale-checkpoint) or, once the new log
    // is as long, a fork of it (split-view).
    auto old_view = node.cli({"verify", "GPU-B-1"});
    INFO(old_view.describe());
    CHECK((old_view.exit_code == 21 || old_view.exit_code == 22));
  }

  SECTION("bad backups and folders are refused and change nothing") {
    // An existing --to folder.
    auto exists = node_cli({"backup", "--config", config, "--to", backup, "--node", node.url()});
    INFO(exists.describe());
    CHECK(exists.exit_code == 2);
    CHECK(exists.err.find("exists: give a new folder for the backup") != std::string::npos);

    // A request not signed by the node's own key (the maker's) writes nothing.
    {
      auto maker = PrivateKey::load_file(node.key_file("maker"));
      REQUIRE(maker);
      auto forged = BackupRequest::sign(
          *maker, node.ledger_id(), node.node_id(),
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()));
      REQUIRE(forged);
      auto reply = node.http().post("/v1/admin/backup", forged->to_json());
      REQUIRE(reply);
      CHECK(reply->status == 403);
      CHECK(reply->body.find("signed with this node's own key") != std::string::npos);
      CHECK((!fs::exists(data + "/backups") || fs::is_empty(data + "/backups")));
    }
    // A note from another history that the same node key signed: a twin
    // of the node (same keys, its own data) grown to the backup's size.
    auto twin = NodeProcess::twin_of(node);
    twin->start();
    for (int i = 0; twin->log_size() < backed_up && i < 100; ++i) {
      REQUIRE(register_serial(*twin, "TWIN-" + std::to_string(i)).empty());
    }
    REQUIRE(twin->log_size() == backed_up);
    auto twin_note = twin->http().get("/v1/checkpoint");
    REQUIRE(twin_note);
    REQUIRE(twin_note->status == 200);
    REQUIRE(twin->stop() == 0);
    REQUIRE(node.stop() == 0);
    fs::remove_all(data);

    auto refused = [&](const std::string& from, int code, const std::string& why) {
      auto r = node_cli({"restore", "--config", config, "--from", from, "--new-cluster"});
      INFO(r.describe());
      CHECK(r.exit_code == code);
      CHECK(r.err.find(why) != std::string::npos);
      // Nothing written: no ledger, no scratch folder.
      CHECK((!fs::exists(data + "/ledger") || fs::is_empty(data + "/ledger")));
      CHECK(!fs::exists(data + "/restore.partial"));
    };
    // A flipped byte in the largest file.
    const std::string flipped = node.dir() + "/backup-flipped";
    copy_backup(backup, flipped);
    const std::string victim = largest_file(flipped);
    flip_byte(victim, static_cast<std::streamoff>(fs::file_size(victim) / 2));
    refused(flipped, 1, "is not the file its backup.json lists");
    // A missing file.
    const std::string missing = node.dir() + "/backup-missing";
    copy_backup(backup, missing);
    fs::remove(largest_file(missing));
    refused(missing, 1, "which its backup.json lists");
    // A manifest whose point is not the ledger's (its digests still match).
    const std::string lying = node.dir() + "/backup-lying";
    copy_backup(backup, lying);
    json m = json::parse(read_text_file(lying + "/backup.json"));
    m["log_size"] = backed_up + 5;
    write_text_file(lying + "/backup.json", m.dump(2));
    refused(lying, 1, "is not the point its backup.json names");
    // A ledger that is not the one its quorum-signed checkpoint commits
    // to: the twin's note (same key, same size, another history).
    const std::string forked = node.dir() + "/backup-forked";
    copy_backup(backup, forked);
    m = json::parse(read_text_file(forked + "/backup.json"));
    m["checkpoint"] = twin_note->body;
    m["consistency"] = json::array();
    write_text_file(forked + "/backup.json", m.dump(2));
    refused(forked, 1, "is not the one its quorum-signed checkpoint commits to");
    // No quorum-signed checkpoint at all.
    const std::string unsigned_backup = node.dir() + "/backup-unsigned";
    copy_backup(backup, unsigned_backup);
    m = json::parse(read_text_file(unsigned_backup + "/backup.json"));
    m.erase("checkpoint");
    write_text_file(unsigned_backup + "/backup.json", m.dump(2));
    refused(unsigned_backup, 1, "holds no quorum-signed checkpoint");
    // Another ledger's backup.
    const std::string foreign = node.dir() + "/backup-foreign";
    copy_backup(backup, foreign);
    m = json::parse(read_text_file(foreign + "/backup.json"));
    m["ledger_id"] = "example.org/another-ledger";
    write_text_file(foreign + "/backup.json", m.dump(2));
    refused(foreign, 2, "the backup is of ledger example.org/another-ledger");
    // A manifest changed where nothing but its signature covers it.
    const std::string resigned = node.dir() + "/backup-resigned";
    copy_backup(backup, resigned);
    m = json::parse(read_text_file(resigned + "/backup.json"));
    m["taken_ms"] = m["taken_ms"].get<uint64_t>() + 1;
    write_text_file(resigned + "/backup.json", m.dump(2));
    refused(resigned, 1, "is not signed by node");
    // A file larger than listed is not copied at all.
    const std::string grown = node.dir() + "/backup-grown";
    copy_backup(backup, grown);
    {
      std::ofstream more(largest_file(grown), std::ios::app | std::ios::binary);
      more << std::string(4096, 'x');
    }
    refused(grown, 1, "is not the size its backup.json lists");
    // Not a backup at all.
    refused(node.dir() + "/keys", 2, "not a chipledger backup folder");

    // The untouched backup still restores.
    auto good = node_cli({"restore", "--config", config, "--from", backup, "--new-cluster"});
    INFO(good.describe());
    CHECK(good.exit_code == 0);
  }
}

// Node 3 of a 3-node cluster is backed up, then lost; its backup is restored
// into a newcomer (node 4: its own id, key and Raft id, [raft] join), which
// a vote adds while it removes node 3. Node 4 starts from the backup's
// ledger, fetches the entries after it and its checkpoint signature counts.
TEST_CASE("backup: a lost node's backup seeds a new member that a vote adds",
          "[integration][cluster]") {
  using Clock = std::chrono::steady_clock;
  LocalCluster c(4);
  nlohmann::json fourth = c.hold_back_last_node(2);
  for (size_t i = 0; i < 3; ++i) c.start(i);
  size_t leader = c.wait_leader();
  const std::string nodes = c.url(0) + "," + c.url(1) + "," + c.url(2);
  auto as = [&](const std::string& m) { return c.as(m); };
  auto ok = [&](const Argv& args, const std::string& via) {
    ProcessResult r = c.cli(args, via);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  };
  auto reg = [&](const std::string& serial, const std::string& via) {
    ok(Argv{"register"} + as("maker") +
           Argv{"--serial", serial, "--model", "L4", "--fab-site", "f1", "--country", "TW"},
       via);
  };
  auto wait_for = [&](const std::function<bool()>& what, const char* name) {
    auto deadline = Clock::now() + 60s * kSanitizerSlowdown;
    while (Clock::now() < deadline && !what()) std::this_thread::sleep_for(20ms);
    INFO(name);
    REQUIRE(what());
  };
  auto size_of = [&](size_t i) {
    auto h = c.get_json(i, "/v1/health");
    return h ? (*h)["size"].get<uint64_t>() : 0;
  };
  for (int i = 1; i <= 3; ++i) reg("JOIN-" + std::to_string(i), nodes);
  wait_for([&] { return size_of(2) == size_of(leader); }, "node 3 has every entry");

  const std::string backup = c.dir() + "/node-3-backup";
  auto taken = node_cli({"backup", "--config", c.config_file(2), "--to", backup});
  INFO(taken.describe());
  REQUIRE(taken.exit_code == 0);
  const uint64_t backed_up =
      json::parse(read_text_file(backup + "/backup.json"))["log_size"].get<uint64_t>();
  CHECK(backed_up == 3);

  // Node 3 is lost; the cluster goes on without it.
  c.kill9(2);
  fs::remove_all(c.dir() + "/node-3");
  reg("JOIN-4", c.url(0) + "," + c.url(1));

  auto restored = node_cli({"restore", "--config", c.config_file(3), "--from", backup});
  INFO(restored.describe());
  REQUIRE(restored.exit_code == 0);
  CHECK(restored.out.find("joins its cluster as " + fourth["id"].get<std::string>()) !=
        std::string::npos);
  c.start(3);  // a Raft log behind its ledger is expected after a restore
  CHECK(size_of(3) == backed_up);
  // Restarted while it waits to be added: still a fresh Raft folder, started.
  REQUIRE(c.stop(3) == 0);
  c.start(3);

  nlohmann::json changes = nlohmann::json::array(
      {{{"change", "add-node"},
        {"node", fourth["id"]},
        {"member", fourth["member"]},
        {"key", fourth["key"]},
        {"api", fourth["api"]},
        {"raft_id", fourth["raft_id"]},
        {"raft_address", fourth["raft_address"]}},
       {{"change", "remove-node"},
        {"node", (*c.get_json(0, "/v1/governance"))["consortium"]["nodes"][2]["id"]}}});
  write_text_file(c.dir() + "/replace-node.json", changes.dump());
  const std::string alive = c.url(0) + "," + c.url(1);
  ProcessResult proposed =
      ok(Argv{"propose"} + as("maker") + Argv{"--changes", c.dir() + "/replace-node.json"}, alive);
  auto at = proposed.out.find("proposal id ");
  REQUIRE(at != std::string::npos);
  const std::string id = proposed.out.substr(at + 12, 64);
  ok(Argv{"vote"} + as("regulator") + Argv{id}, alive);
  ok(Argv{"vote"} + as("datacenter") + Argv{id}, alive);

  leader = c.wait_leader();
  auto voters = [&] {
    std::vector<uint64_t> out;
    auto h = c.get_json(leader, "/v1/health");
    for (const auto& m : h ? (*h)["raft"]["members"] : nlohmann::json::array()) {
      if (m["role"] == "voter") out.push_back(m["id"]);
    }
    return out;
  };
  wait_for([&] { return voters() == std::vector<uint64_t>{1, 2, 4}; }, "node 4 in, node 3 out");
  wait_for([&] { return size_of(3) == size_of(leader); }, "node 4 caught up");
  reg("JOIN-5", alive + "," + c.url(3));
  json report;
  wait_for(
      [&] {
        ProcessResult v = c.cli(Argv{"verify", "--json", "JOIN-1"}, c.url(3));
        report = json::parse(v.out, nullptr, false);
        if (!report.is_object() || !report.contains("checkpoint")) return false;
        for (const auto& s : report["checkpoint"]["signers"]) {
          if (s == fourth["id"]) return report["verdict"] == "not-installed";
        }
        return false;
      },
      "verify through node 4 counts its signature");
  auto health = c.get_json(3, "/v1/health");
  REQUIRE(health);
  // It started from the backup: the leader sent entries, not a snapshot.
  CHECK((*health)["raft"]["snapshots"]["restored"] == 0);
  // A Raft folder lost after that start is refused, marker or not.
  c.stop(3);
  fs::remove_all(c.dir() + "/node-4/raft");
  auto lost = run_process(Argv{kNodeBin, "--config", c.config_file(3)}, 60s);
  CHECK(lost.exit_code == 1);
  CHECK(lost.err.find("the Raft folder was lost or replaced") != std::string::npos);
  std::cout << "backup: node 4 restored from node 3's backup at " << backed_up
            << " entries, caught up by Raft entries alone, its signature counted" << std::endl;
}

}  // namespace
}  // namespace chipledger::integ
