// A node whose data folder fills up (a real chipledger-node on a small
// tmpfs, driven by the real CLI): below [node] min_free_mb it warns; at the
// reserve it writes nothing more and fail-stops cleanly (never a RocksDB
// abort): the node keeps running and serving reads, /v1/health answers 503
// naming the full disk, the CLI reports the submission as not submitted or
// unknown, never as accepted or refused; with the disk still full a
// restart refuses with a clear error and writes nothing; once space is
// freed it starts, nothing acknowledged is lost, the unknown submission is
// resolved to what really happened, and writes go on.
// Mounting a tmpfs needs root (CAP_SYS_ADMIN): without it the test says so
// and checks nothing.
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

namespace fs = std::filesystem;

// A tmpfs of `mib` MiB at `path`, lazily unmounted by the destructor.
class Tmpfs {
 public:
  Tmpfs(std::string path, int mib) : path_(std::move(path)) {
    fs::create_directories(path_);
    const std::string opts = "size=" + std::to_string(mib) + "m";
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  uint64_t available() const { return fs::space(path_).available; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Leaves about `leave` bytes free on the tmpfs (a file of zeros).
void fill_leaving(const Tmpfs& t, const std::string& file, uint64_t leave) {
  const uint64_t avail = t.available();
  if (avail <= leave) return;
  std::ofstream out(file, std::ios::binary | std::ios::app);
  const std::string chunk(1 << 16, '\0');
  for (uint64_t left = avail - leave; left > 0;) {
    const uint64_t n = std::min<uint64_t>(left, chunk.size());
    out.write(chunk.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

// Waits (at most 20 s) until the free space has not changed for 1 s: the
// node's files are preallocated in the background (Raft segments, the WAL).
void wait_space_settles(const Tmpfs& t) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + 20s;
  uint64_t seen = t.available();
  auto since = Clock::now();
  while (Clock::now() < deadline && Clock::now() - since < 1s) {
    std::this_thread::sleep_for(50ms);
    if (const uint64_t now = t.available(); now != seen) {
      seen = now;
      since = Clock::now();
    }
  }
}

std::string serials_csv(const std::string& dir, int batch) {
  const std::string path = dir + "/serials-" + std::to_string(batch) + ".csv";
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += "FD-" + std::to_string(batch) + "-" + std::to_string(i) + "\n";
  }
  write_text_file(path, text);
  return path;
}

// The txid the CLI names in its error ("(txid HEX)").
std::string txid_in(const std::string& text) {
  const auto at = text.find("txid ");
  return at == std::string::npos ? "" : text.substr(at + 5, 64);
}

}  // namespace

TEST_CASE(
    "full disk: a clean fail-stop, health says so, restart after space is freed, nothing lost",
    "[integration][disk]") {
  NodeProcess node;
  Tmpfs disk(node.dir() + "/disk", 96);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (" << disk.error()
                                  << "): needs root; the full-disk test checks "
                                     "nothing here");
    return;
  }
  const std::string config = node.dir() + "/node.toml";
  set_config_value(config, "data_dir", "'" + node.dir() + "/disk/data'");
  set_config_value(config, "min_free_mb", "24");
  set_config_value(config, "reserve_mb", "8");
  node.start();
  wait_space_settles(disk);
  const std::string filler = node.dir() + "/disk/filler";
  fill_leaving(disk, filler, 10u << 20);

  // Below min_free_mb: a warning in health (still 200) and in the log.
  nlohmann::json h = node.get_json("/v1/health");
  CHECK(h["status"] == "ok");
  REQUIRE(h["warnings"].is_array());
  CHECK_THAT(h["warnings"][0].get<std::string>(), Catch::Contains("below [node] min_free_mb"));

  const auto maker = Argv{"--as", "maker", "--key", node.key_file("maker")};
  auto do_register = [&](int batch) {
    return node.cli(Argv{"--timeout", "5", "register"} + maker +
                    Argv{"--csv", serials_csv(node.dir(), batch), "--model", "H100", "--fab-site",
                         "fab-1", "--country", "TW"});
  };
  std::vector<int> acknowledged;
  ProcessResult last;
  int batch = 0;
  for (; batch < 200; ++batch) {
    last = do_register(batch);
    if (last.exit_code != 0) break;
    acknowledged.push_back(batch);
  }
  INFO(last.describe());
  REQUIRE(batch < 200);
  // Not submitted (the leader saw the full disk before proposing) or
  // unknown (the block was in the Raft log when applying it stopped):
  // never "refused", never a crash.
  REQUIRE((last.exit_code == 1 || last.exit_code == 3));
  CHECK_THAT(last.err, Catch::Contains("disk full") || Catch::Contains("stopped applying"));
  const std::string pending_txid = txid_in(last.err);
  REQUIRE(pending_txid.size() == 64);
  REQUIRE(node.running());
  std::cout << "full disk: " << acknowledged.size() << " registers of 1,000 serials acknowledged, "
            << "then exit " << last.exit_code << " ("
            << (last.exit_code == 1 ? "not submitted" : "unknown") << ")" << std::endl;

  // Health: 503, naming the full disk; reads still served.
  h = node.health();
  CHECK((h["status"] == "stopped" || h["status"] == "disk-full"));
  CHECK_THAT(h["error"].get<std::string>(), Catch::Contains("disk full"));
  REQUIRE(node.new_http()->get("/v1/health")->status == 503);
  REQUIRE_FALSE(acknowledged.empty());
  CHECK(node.new_http()->get("/v1/chips/FD-0-0")->status == 200);

  // A restart with the disk still full refuses, clearly, and writes nothing.
  // Exit status 3: the node stopped after a failure (0 when it only
  // refused submissions at the reserve).
  const int stopped = node.stop();
  CHECK((stopped == 0 || stopped == 3));
  fill_leaving(disk, filler + "2", 4u << 20);
  ProcessResult refused = run_process({kNodeBin, "--config", config}, 60s);
  INFO(refused.describe());
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("disk full") && Catch::Contains("cannot start"));

  // Space freed: it starts, every acknowledged register is there, the last
  // submission is resolved, and writes go on.
  fs::remove(filler);
  fs::remove(filler + "2");
  node.start();
  REQUIRE(node.health()["status"] == "ok");
  for (int b : acknowledged) {
    INFO("batch " << b);
    CHECK(node.new_http()->get("/v1/chips/FD-" + std::to_string(b) + "-999")->status == 200);
  }
  auto lookup = node.new_http()->get("/v1/transactions/" + pending_txid);
  REQUIRE(lookup);
  // Not submitted: nothing was done. Unknown: either (the block reached
  // the Raft log and the restart applied it, or its append met the full
  // disk); the ledger says which, and a resubmission agrees with it.
  if (last.exit_code == 1) CHECK(lookup->status == 404);
  CHECK((lookup->status == 200 || lookup->status == 404));
  const bool landed = lookup->status == 200;
  // The CLI resolves it the same way, with a receipt when it landed.
  ProcessResult resolved = node.cli(Argv{"tx", pending_txid});
  INFO(resolved.describe());
  CHECK(resolved.exit_code == (landed ? 0 : 3));
  if (landed) CHECK_THAT(resolved.out, Catch::Contains("receipt checked"));
  ProcessResult again = do_register(batch + 1);
  INFO(again.describe());
  CHECK(again.exit_code == 0);
  std::cout << "full disk: the last submission "
            << (lookup->status == 200 ? "had landed (applied at restart)" : "was not in the ledger")
            << "; chipledger tx: exit " << resolved.exit_code << std::endl;
}

}  // namespace chipledger::integ
