// The KvStore contract, run against MemoryStore and RocksStore, plus
// RocksStore-only tests: reopen, double open, and a SIGKILL crash test.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/kv_store.h"
#include "ledger/memory_store.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/forwarding_store.h"

using namespace chipledger;
using namespace std::string_literals;

namespace {

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chipledger-kv-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed: "s + std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string db() const { return (path_ / "db").string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<RocksStore> open_or_throw(const std::string& path) {
  auto r = RocksStore::open(path);
  if (!r) throw std::runtime_error("opening " + path + ": " + r.reason());
  return std::move(r).value();
}

struct MemoryFixture {
  MemoryStore store_;
  KvStore& store() { return store_; }
};

struct RocksFixture {
  TempDir dir;  // declared first: destroyed after the database is closed
  std::unique_ptr<RocksStore> db = open_or_throw(dir.db());
  KvStore& store() { return *db; }
};

std::optional<std::string> get_ok(const KvStore& s, Column c, std::string_view key) {
  auto r = s.get(c, key);
  INFO(r.reason());
  REQUIRE(r.is_ok());
  return *r;
}

void write_ok(KvStore& s, const WriteBatch& b, bool sync = false) {
  Status st = s.write(b, sync);
  INFO(st.reason());
  REQUIRE(st.is_ok());
}

std::vector<std::pair<std::string, std::string>> scan_all(const KvStore& s, Column c,
                                                          std::string_view prefix,
                                                          size_t limit = SIZE_MAX) {
  std::vector<std::pair<std::string, std::string>> out;
  Status st = s.scan(c, prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return out.size() < limit;
  });
  INFO(st.reason());
  REQUIRE(st.is_ok());
  return out;
}

std::vector<std::string> keys_of(const std::vector<std::pair<std::string, std::string>>& kvs) {
  std::vector<std::string> keys;
  for (const auto& kv : kvs) keys.push_back(kv.first);
  return keys;
}

}  // namespace

TEST_CASE("u64 keys are 8 big-endian bytes", "[kv_store]") {
  CHECK(encode_u64_key(0) == std::string(8, '\0'));
  CHECK(encode_u64_key(0x0102030405060708ull) == "\x01\x02\x03\x04\x05\x06\x07\x08"s);
  CHECK(encode_u64_key(std::numeric_limits<uint64_t>::max()) == std::string(8, '\xff'));
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 0xdeadbeefull, 1ull << 63, ~0ull}) {
    auto d = decode_u64_key(encode_u64_key(v));
    REQUIRE(d.is_ok());
    CHECK(*d == v);
  }
  for (std::string bad : {""s, "1234567"s, "123456789"s}) {
    auto d = decode_u64_key(bad);
    CHECK_FALSE(d.is_ok());
    CHECK_THAT(d.reason(), Catch::Contains("8 bytes"));
  }
}

TEST_CASE("column names are distinct and stable", "[kv_store]") {
  CHECK(column_name(Column::meta) == "meta");
  CHECK(column_name(Column::events) == "events");
  CHECK(column_name(Column::txids) == "txids");
  std::vector<std::string> names;
  for (int i = 0; i < kColumnCount; ++i) {
    names.emplace_back(column_name(static_cast<Column>(i)));
    CHECK(names.back() != "default");  // RocksDB's own family
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}

TEMPLATE_TEST_CASE("KvStore contract", "[kv_store]", MemoryFixture, RocksFixture) {
  TestType fixture;
  KvStore& s = fixture.store();

  SECTION("get of a missing key is nullopt") {
    CHECK(get_ok(s, Column::meta, "absent") == std::nullopt);
    WriteBatch b;
    b.put(Column::meta, "present", "v");
    write_ok(s, b);
    CHECK(get_ok(s, Column::meta, "absent") == std::nullopt);
    CHECK(get_ok(s, Column::meta, "presen") == std::nullopt);
    CHECK(get_ok(s, Column::meta, "present!") == std::nullopt);
    CHECK(get_ok(s, Column::events, "present") == std::nullopt);
  }

  SECTION("a batch's puts are visible after write") {
    WriteBatch b;
    b.put(Column::meta, "k1", "v1");
    b.put(Column::events, encode_u64_key(0), "event zero");
    b.put(Column::txids, "tx", encode_u64_key(0));
    b.put(Column::serial_index, "\0bin\xff"s, "");  // binary key, empty value
    CHECK(get_ok(s, Column::meta, "k1") == std::nullopt);
    write_ok(s, b, /*sync=*/true);
    CHECK(get_ok(s, Column::meta, "k1") == "v1");
    CHECK(get_ok(s, Column::events, encode_u64_key(0)) == "event zero");
    CHECK(get_ok(s, Column::txids, "tx") == encode_u64_key(0));
    CHECK(get_ok(s, Column::serial_index, "\0bin\xff"s) == "");
    CHECK(get_ok(s, Column::serial_index, "\0bin"s) == std::nullopt);

    // Later puts win: within one batch and across batches.
    WriteBatch b2;
    b2.put(Column::meta, "k1", "first");
    b2.put(Column::meta, "k1", "second");
    write_ok(s, b2);
    CHECK(get_ok(s, Column::meta, "k1") == "second");

    // An empty batch is a no-op that succeeds.
    write_ok(s, WriteBatch(), /*sync=*/true);
    CHECK(get_ok(s, Column::meta, "k1") == "second");
  }

  SECTION("the last put of a key in a batch wins however the batch interleaves its keys") {
    // RocksStore hands RocksDB a batch's puts sorted by column and key (the
    // memtable inserts are cheaper in order): puts of one key must keep
    // their order among themselves.
    WriteBatch b;
    std::map<std::pair<Column, std::string>, std::string> want;
    for (int round = 0; round < 8; ++round) {
      for (int k = 40; k-- > 0;) {
        Column c = k % 3 == 0 ? Column::serials : Column::state;
        std::string key = "key-" + std::to_string(k % 20);
        std::string value = "r" + std::to_string(round) + "-k" + std::to_string(k);
        b.put(c, key, value);
        want[{c, key}] = value;
      }
    }
    write_ok(s, b);
    for (const auto& [ck, value] : want) {
      INFO(column_name(ck.first) << " " << ck.second);
      CHECK(get_ok(s, ck.first, ck.second) == value);
    }
  }

  SECTION("multi_get answers each key in order, absent ones as nullopt") {
    WriteBatch b;
    for (int i = 0; i < 40; i += 2) b.put(Column::tree, encode_u64_key(i), "v" + std::to_string(i));
    b.put(Column::meta, encode_u64_key(1), "in another column");
    write_ok(s, b);
    std::vector<std::string> keys;
    for (int i : {39, 0, 1, 2, 38, 2, 7, 20}) keys.push_back(encode_u64_key(i));
    keys.push_back("");
    auto got = s.multi_get(Column::tree, keys);
    INFO(got.reason());
    REQUIRE(got.is_ok());
    REQUIRE(got->size() == keys.size());
    const std::vector<std::optional<std::string>> want = {
        std::nullopt, "v0", std::nullopt, "v2", "v38", "v2", std::nullopt, "v20", std::nullopt};
    CHECK(*got == want);
    auto none = s.multi_get(Column::tree, {});
    REQUIRE(none.is_ok());
    CHECK(none->empty());
  }

  SECTION("columns are separate") {
    WriteBatch b;
    for (int i = 0; i < kColumnCount; ++i) {
      b.put(static_cast<Column>(i), "same key", "value " + std::to_string(i));
    }
    b.put(Column::serials, "only in serials", "x");
    write_ok(s, b);
    for (int i = 0; i < kColumnCount; ++i) {
      auto c = static_cast<Column>(i);
      CHECK(get_ok(s, c, "same key") == "value " + std::to_string(i));
      auto all = scan_all(s, c, "");
      CHECK(all.size() == (c == Column::serials ? 2u : 1u));
    }
    CHECK(get_ok(s, Column::tree, "only in serials") == std::nullopt);
  }

  SECTION("scan visits the prefix in byte order and stops early") {
    std::vector<std::string> keys = {"a",         "ab",         "abc", "abd",  "ab\xff",
                                     "ac",        "ab\xff\xff", "b",   "\xff", "\xff\xff",
                                     "\xff\x00"s, "ab\0"s,      "aa"};
    std::shuffle(keys.begin(), keys.end(), std::mt19937(7));
    WriteBatch b;
    for (const auto& k : keys) b.put(Column::tree, k, "v:" + k);
    b.put(Column::checkpoints, "ab-other-column", "x");
    write_ok(s, b);

    auto ab = scan_all(s, Column::tree, "ab");
    CHECK(keys_of(ab) ==
          std::vector<std::string>{"ab", "ab\0"s, "abc", "abd", "ab\xff", "ab\xff\xff"});
    for (const auto& [k, v] : ab) CHECK(v == "v:" + k);

    CHECK(keys_of(scan_all(s, Column::tree, "ab", 2)) == std::vector<std::string>{"ab", "ab\0"s});
    CHECK(keys_of(scan_all(s, Column::tree, "ab", 1)) == std::vector<std::string>{"ab"});
    CHECK(keys_of(scan_all(s, Column::tree, "\xff")) ==
          std::vector<std::string>{"\xff", "\xff\x00"s, "\xff\xff"});
    CHECK(keys_of(scan_all(s, Column::tree, "ab\xff")) ==
          std::vector<std::string>{"ab\xff", "ab\xff\xff"});
    CHECK(scan_all(s, Column::tree, "abz").empty());
    CHECK(scan_all(s, Column::tree, "c").empty());

    auto all = keys_of(scan_all(s, Column::tree, ""));
    auto sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    CHECK(all == sorted);
  }

  SECTION("u64 key byte order equals numeric order") {
    std::vector<uint64_t> values = {0,          1,          2,         255,      256,
                                    257,        65535,      65536,     1u << 31, 0xffffffffull,
                                    1ull << 32, 1ull << 63, ~0ull - 1, ~0ull};
    std::mt19937_64 rng(42);
    for (int i = 0; i < 50; ++i) values.push_back(rng() >> (rng() % 64));
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    auto shuffled = values;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    WriteBatch b;
    for (uint64_t v : shuffled) b.put(Column::events, encode_u64_key(v), std::to_string(v));
    write_ok(s, b);

    std::vector<uint64_t> scanned;
    for (const auto& [k, v] : scan_all(s, Column::events, "")) {
      auto d = decode_u64_key(k);
      REQUIRE(d.is_ok());
      CHECK(v == std::to_string(*d));
      scanned.push_back(*d);
    }
    CHECK(scanned == values);
  }

  SECTION("a concurrent scan sees a batch entirely or not at all") {
    std::atomic<bool> done{false};
    std::atomic<int> torn{0}, scans{0}, errors{0};
    std::thread reader([&] {
      while (!done.load()) {
        std::string a, b;
        Status st = s.scan(Column::meta, "pair/", [&](std::string_view k, std::string_view v) {
          (k == "pair/a" ? a : b) = std::string(v);
          return true;
        });
        if (!st.is_ok()) ++errors;
        if (a != b) ++torn;
        ++scans;
      }
    });
    for (int n = 1; n <= 300; ++n) {
      WriteBatch b;
      b.put(Column::meta, "pair/a", std::to_string(n));
      b.put(Column::meta, "pair/b", std::to_string(n));
      write_ok(s, b);
    }
    // Let the reader see the final state at least once.
    int seen = scans.load();
    while (scans.load() < seen + 2) std::this_thread::yield();
    done = true;
    reader.join();
    CHECK(errors.load() == 0);
    CHECK(torn.load() == 0);
  }

  SECTION("a view sees the store as it was when taken, whatever is written after") {
    WriteBatch b;
    b.put(Column::meta, "k1", "old");
    b.put(Column::events, encode_u64_key(0), "e0");
    write_ok(s, b);
    auto taken = s.view();
    INFO(taken.reason());
    REQUIRE(taken.is_ok());
    std::unique_ptr<KvView> v = std::move(*taken);

    WriteBatch later;
    later.put(Column::meta, "k1", "new");
    later.put(Column::meta, "k2", "added");
    later.put(Column::events, encode_u64_key(1), "e1");
    write_ok(s, later);

    auto k1 = v->get(Column::meta, "k1");
    auto k2 = v->get(Column::meta, "k2");
    REQUIRE(k1.is_ok());
    REQUIRE(k2.is_ok());
    CHECK(*k1 == std::optional<std::string>("old"));
    CHECK(*k2 == std::nullopt);
    std::vector<std::string> keys;
    REQUIRE(v->scan(Column::events, "", [&](std::string_view k, std::string_view) {
               keys.emplace_back(k);
               return true;
             }).is_ok());
    CHECK(keys == std::vector<std::string>{encode_u64_key(0)});
    // The store itself has moved on.
    CHECK(get_ok(s, Column::meta, "k1") == std::optional<std::string>("new"));
    CHECK(scan_all(s, Column::events, "").size() == 2);
    // A second view sees the later state; the first is unchanged.
    auto second = s.view();
    REQUIRE(second.is_ok());
    auto k2_now = (*second)->get(Column::meta, "k2");
    REQUIRE(k2_now.is_ok());
    CHECK(*k2_now == std::optional<std::string>("added"));
    auto k1_again = v->get(Column::meta, "k1");
    REQUIRE(k1_again.is_ok());
    CHECK(*k1_again == std::optional<std::string>("old"));
  }

  SECTION("a view is read on another thread while the store is written") {
    WriteBatch b;
    for (int i = 0; i < 200; ++i) b.put(Column::events, encode_u64_key(i), "v" + std::to_string(i));
    write_ok(s, b);
    auto taken = s.view();
    REQUIRE(taken.is_ok());
    std::unique_ptr<KvView> v = std::move(*taken);
    std::atomic<int> seen{0};
    std::atomic<bool> ok{true};
    std::thread reader([&] {
      for (int round = 0; round < 20; ++round) {
        int n = 0;
        Status st = v->scan(Column::events, "", [&](std::string_view, std::string_view) {
          ++n;
          return true;
        });
        if (!st.is_ok() || n != 200) ok = false;
        seen = n;
      }
    });
    for (int i = 200; i < 400; ++i) {
      WriteBatch more;
      more.put(Column::events, encode_u64_key(i), "later");
      write_ok(s, more);
    }
    reader.join();
    CHECK(ok.load());
    CHECK(seen.load() == 200);
    CHECK(scan_all(s, Column::events, "").size() == 400);
  }
}

namespace {

// Only scan(): KvStore's default scan_ranges (the common prefix, filtered).
using ScanOnly = chipledger::testing::ForwardingStore;

// Every key of `ranges` in turn, as scan_ranges gives them: "range:key".
std::vector<std::string> ranges_of(const KvStore& s, const std::vector<KeyRange>& ranges,
                                   size_t limit = SIZE_MAX) {
  std::vector<std::string> out;
  Status st =
      s.scan_ranges(Column::state, ranges, [&](size_t r, std::string_view k, std::string_view) {
        out.push_back(std::to_string(r) + ":" + std::string(k));
        return out.size() < limit;
      });
  INFO(st.reason());
  REQUIRE(st.is_ok());
  return out;
}

// The same from a plain sorted list: what every implementation must give.
std::vector<std::string> expected_ranges(const std::vector<std::string>& keys,
                                         const std::vector<KeyRange>& ranges) {
  std::vector<std::string> out;
  for (size_t r = 0; r < ranges.size(); ++r) {
    for (const auto& k : keys) {
      if (k >= ranges[r].begin && (ranges[r].end.empty() || k < ranges[r].end)) {
        out.push_back(std::to_string(r) + ":" + k);
      }
    }
  }
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("KvStore scan_ranges gives each range's keys in turn", "[kv_store]",
                   MemoryFixture, RocksFixture) {
  TestType fixture;
  KvStore& s = fixture.store();
  ScanOnly by_default(s);
  std::mt19937_64 rng(7);
  std::vector<std::string> keys;
  WriteBatch b;
  for (int i = 0; i < 300; ++i) {
    std::string k(1 + rng() % 3, '\0');
    for (auto& c : k) c = static_cast<char>("ab\xff"[rng() % 3]);
    b.put(Column::state, k, "v");
    keys.push_back(k);
  }
  write_ok(s, b);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const std::vector<std::vector<KeyRange>> cases = {
      {},
      {{"", ""}},
      {{"a", "b"}, {"b", "b\xff"}, {"b\xff", ""}},                   // adjacent, ascending
      {{"a", "aa"}, {"ab", "ab\xff"}, {"b", "ba"}, {"bb", "\xff"}},  // gaps
      {{"b", ""}, {"a", "b"}, {"aa", "ab"}},                         // out of order, overlapping
      {{"zz", ""}, {"", "a"}, {"b", "b"}},                           // empty ranges
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    INFO("case " << c);
    CHECK(ranges_of(s, cases[c]) == expected_ranges(keys, cases[c]));
    CHECK(ranges_of(by_default, cases[c]) == expected_ranges(keys, cases[c]));
  }
  // fn returning false stops every range.
  CHECK(ranges_of(s, cases[2], 5).size() == 5);
  CHECK(ranges_of(by_default, cases[2], 5).size() == 5);
}

TEST_CASE("RocksStore data survives close and reopen", "[kv_store][rocks]") {
  TempDir dir;
  {
    auto db = open_or_throw(dir.db());
    WriteBatch b;
    for (int i = 0; i < kColumnCount; ++i) {
      b.put(static_cast<Column>(i), "k", std::string(column_name(static_cast<Column>(i))));
    }
    write_ok(*db, b, /*sync=*/true);
    WriteBatch unsynced;  // a clean close keeps unsynced writes too
    unsynced.put(Column::events, encode_u64_key(7), "seven");
    write_ok(*db, unsynced, /*sync=*/false);
  }
  for (int round = 0; round < 2; ++round) {
    auto db = open_or_throw(dir.db());
    for (int i = 0; i < kColumnCount; ++i) {
      CHECK(get_ok(*db, static_cast<Column>(i), "k") == column_name(static_cast<Column>(i)));
    }
    CHECK(get_ok(*db, Column::events, encode_u64_key(7)) == "seven");
    CHECK(scan_all(*db, Column::events, "").size() == 2);
  }
}

TEST_CASE("RocksStore refuses a second open of an open directory", "[kv_store][rocks]") {
  TempDir dir;
  auto first = open_or_throw(dir.db());
  auto second = RocksStore::open(dir.db());
  REQUIRE_FALSE(second.is_ok());
  INFO(second.reason());
  CHECK_THAT(second.reason(), Catch::Contains(dir.db()));
  CHECK_THAT(second.reason(), Catch::Contains("already open"));
  // The first store is unaffected, and the directory opens again once closed.
  WriteBatch b;
  b.put(Column::meta, "k", "v");
  write_ok(*first, b);
  first.reset();
  auto third = open_or_throw(dir.db());
  CHECK(get_ok(*third, Column::meta, "k") == "v");
}

TEST_CASE("RocksStore open of an unusable path fails with a reason", "[kv_store][rocks]") {
  TempDir dir;
  std::string file = (dir.path() / "a-file").string();
  FILE* f = std::fopen(file.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fclose(f);
  auto r = RocksStore::open(file);
  REQUIRE_FALSE(r.is_ok());
  CHECK_THAT(r.reason(), Catch::Contains(file));
}

// ---------------------------------------------------------------------------
// Crash test. The writer runs in a fresh process (fork + exec of this test
// binary, selecting the hidden test case below) rather than a bare fork():
// RocksDB is not fork-safe, and earlier tests leave its background thread
// pool running in this process, threads a forked child would not have.

namespace {

constexpr char kCrashDirEnv[] = "CHIPLEDGER_KV_CRASH_DIR";
constexpr char kCrashFdEnv[] = "CHIPLEDGER_KV_CRASH_FD";
constexpr char kCrashStartEnv[] = "CHIPLEDGER_KV_CRASH_START";

// Batch n writes these five keys across five columns.
struct CrashKey {
  Column column;
  std::string key;
  std::string value;
};
std::vector<CrashKey> crash_batch(uint64_t n) {
  std::string id = encode_u64_key(n);
  std::string payload = "event " + std::to_string(n) + " ";
  payload.resize(4096, static_cast<char>('a' + n % 26));  // large enough to take a while
  return {
      {Column::events, id, payload},
      {Column::serials, "serial/" + id, "record " + std::to_string(n)},
      {Column::serial_index, "serial/" + id + id, ""},
      {Column::txids, "tx/" + id, id},
      {Column::meta, "batch/" + id, std::to_string(n)},
  };
}
constexpr Column kCrashColumns[] = {Column::events, Column::serials, Column::serial_index,
                                    Column::txids, Column::meta};

[[noreturn]] void child_fail(const std::string& what) {
  std::fprintf(stderr, "crash writer: %s\n", what.c_str());
  std::_Exit(3);
}

}  // namespace

TEST_CASE("kv_store crash writer (run only by the crash test)", "[.][kv_store_crash_child]") {
  const char* dir = getenv(kCrashDirEnv);
  const char* fd_text = getenv(kCrashFdEnv);
  const char* start_text = getenv(kCrashStartEnv);
  if (dir == nullptr || fd_text == nullptr || start_text == nullptr) {
    SUCCEED("not started by the crash test");
    return;
  }
  int fd = std::atoi(fd_text);
  uint64_t n = std::strtoull(start_text, nullptr, 10);
  auto r = RocksStore::open(dir);
  if (!r) child_fail(r.reason());
  auto& db = *r.value();
  // Bounded so an orphaned writer cannot run forever; SIGPIPE ends it sooner.
  const auto stop = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  for (; std::chrono::steady_clock::now() < stop; ++n) {
    WriteBatch b;
    for (auto& k : crash_batch(n)) b.put(k.column, std::move(k.key), std::move(k.value));
    Status st = db.write(b, /*sync=*/true);
    if (!st) child_fail(st.reason());
    std::string ack = encode_u64_key(n);
    if (write(fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) {
      child_fail("ack write failed: "s + std::strerror(errno));
    }
  }
  child_fail("not killed in time");
}

namespace {

// Starts the writer at batch `start`; waits until it has acknowledged
// `want` batches (or the deadline passes), SIGKILLs it at a random point of
// its next write, and returns the acknowledged batch numbers.
std::vector<uint64_t> run_and_kill_writer(const std::string& db, uint64_t start, size_t want,
                                          std::mt19937& rng) {
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  REQUIRE(len > 0);
  exe[len] = '\0';

  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);

  // Everything the child needs is built before fork(): after it, the child
  // only makes async-signal-safe calls until exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kCrashDirEnv) + "=" + db);
  env_strings.push_back(std::string(kCrashFdEnv) + "=" + std::to_string(fds[1]));
  env_strings.push_back(std::string(kCrashStartEnv) + "=" + std::to_string(start));
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string a1 = "[kv_store_crash_child]", a2 = "--out", a3 = "/dev/null";
  std::vector<char*> argv = {exe, a1.data(), a2.data(), a3.data(), nullptr};

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    fcntl(fds[1], F_SETFD, 0);  // keep the write end across exec
    execve(exe, argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);

  std::vector<uint64_t> acked;
  std::chrono::steady_clock::time_point first_ack, last_ack;
  std::string buf;
  bool eof = false;
  auto read_acks = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return;
    char chunk[512];
    ssize_t got = read(fds[0], chunk, sizeof(chunk));
    if (got <= 0) {
      eof = got == 0;
      if (got < 0 && errno != EINTR) eof = true;
      return;
    }
    buf.append(chunk, static_cast<size_t>(got));
    while (buf.size() >= 8) {
      acked.push_back(*decode_u64_key(std::string_view(buf).substr(0, 8)));
      last_ack = std::chrono::steady_clock::now();
      if (acked.size() == 1) first_ack = last_ack;
      buf.erase(0, 8);
    }
  };

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (acked.size() < want && !eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    read_acks(static_cast<int>(left.count()));
  }
  const bool reached = acked.size() >= want;
  if (reached && acked.size() > 1) {
    // Killing right after an ack would always hit the start of a write. A
    // random delay below one measured batch interval spreads the kill over
    // the whole write (this is not a wait for anything).
    auto interval = (last_ack - first_ack) / static_cast<int>(acked.size() - 1);
    std::uniform_int_distribution<int64_t> jitter(0, interval.count());
    std::this_thread::sleep_for(std::chrono::steady_clock::duration(jitter(rng)));
  }
  kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  // Acks written before the kill are still in the pipe.
  while (!eof) read_acks(-1);
  close(fds[0]);

  INFO("writer acknowledged " << acked.size() << " of " << want << " batches");
  INFO("writer status " << status << (WIFEXITED(status) ? " (exited)" : " (signalled)"));
  REQUIRE(reached);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(buf.empty());
  return acked;
}

}  // namespace

TEST_CASE("RocksStore keeps every acknowledged batch across SIGKILL", "[kv_store][rocks][crash]") {
  TempDir dir;
  const std::string db = dir.db();
  uint64_t present = 0;  // batches 0..present-1 are in the database
  const auto seed = static_cast<uint32_t>(std::random_device()());
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    auto acked = run_and_kill_writer(db, present, 10 + rng() % 20, rng);
    for (size_t i = 0; i < acked.size(); ++i) REQUIRE(acked[i] == present + i);
    const uint64_t acked_end = present + acked.size();

    auto store = open_or_throw(db);
    // Batches are written one after another, so the database holds a prefix
    // of them: every acknowledged batch, and perhaps the one in flight.
    const auto events = scan_all(*store, Column::events, "");
    const uint64_t found = events.size();
    CHECK(found >= acked_end);
    CHECK(found <= acked_end + 1);
    for (uint64_t n = 0; n < found + 2; ++n) {
      size_t have = 0;
      for (const auto& k : crash_batch(n)) {
        auto v = get_ok(*store, k.column, k.key);
        if (v) {
          ++have;
          CHECK(*v == k.value);
        }
      }
      INFO("batch " << n << " has " << have << " of 5 keys");
      if (n < found) {
        REQUIRE(have == 5);  // fully present, never partially
      } else {
        REQUIRE(have == 0);
      }
    }
    for (Column c : kCrashColumns) CHECK(scan_all(*store, c, "").size() == found);
    present = found;
  }
}
