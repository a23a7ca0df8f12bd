// [api] limits in node.toml (docs/node-config.md): defaults, values read
// back, out-of-range values refused with the key and its range named, and
// to_toml() writing what load_file() reads.
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "node/node_config.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;

struct ConfigFile {
  fs::path path =
      fs::temp_directory_path() / ("chipledger-config-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(reinterpret_cast<uintptr_t>(this)) + ".toml");
  ~ConfigFile() { fs::remove(path); }
  Result<NodeConfig> load(const std::string& api_lines, const std::string& node_lines = "") {
    std::ofstream out(path);
    out << "[node]\nid = \"n1\"\nkey = \"k.pem\"\ndata_dir = \"data\"\nconsortium = \"c.json\"\n"
        << node_lines << "[api]\nplain_http = true\n"
        << api_lines;
    out.close();
    return NodeConfig::load_file(path.string());
  }
};

TEST_CASE("node config: the API's limits have defaults and are read", "[config]") {
  ConfigFile f;
  auto defaults = f.load("");
  REQUIRE(defaults);
  CHECK(defaults->max_connections == 1024);
  CHECK(defaults->max_connections_per_address == 128);
  CHECK(defaults->idle_timeout_seconds == 30);
  CHECK(defaults->header_timeout_seconds == 10);
  CHECK(defaults->body_timeout_seconds == 60);
  CHECK(defaults->max_answer_bytes == 64u << 20);
  CHECK(defaults->pending_per_address() == 5000);  // a quarter of 20,000

  auto set = f.load(
      "max_connections = 50\nmax_connections_per_address = 5\nidle_timeout_seconds = 7\n"
      "header_timeout_seconds = 3\nbody_timeout_seconds = 9\nmax_answer_bytes = 2097152\n"
      "max_pending_transactions = 100\nmax_pending_per_address = 10\n");
  REQUIRE(set);
  CHECK(set->max_connections == 50);
  CHECK(set->max_connections_per_address == 5);
  CHECK(set->idle_timeout_seconds == 7);
  CHECK(set->header_timeout_seconds == 3);
  CHECK(set->body_timeout_seconds == 9);
  CHECK(set->max_answer_bytes == 2097152);
  CHECK(set->pending_per_address() == 10);

  // What to_toml() writes reads back the same.
  std::ofstream(f.path) << set->to_toml();
  auto again = NodeConfig::load_file(f.path.string());
  REQUIRE(again);
  CHECK(again->max_connections == 50);
  CHECK(again->max_connections_per_address == 5);
  CHECK(again->header_timeout_seconds == 3);
  CHECK(again->max_answer_bytes == 2097152);
  CHECK(again->pending_per_address() == 10);
}

TEST_CASE("node config: an API limit out of its range is refused, named", "[config]") {
  ConfigFile f;
  auto zero = f.load("max_connections = 0\n");
  REQUIRE_FALSE(zero);
  CHECK_THAT(zero.reason(),
             Catch::Contains("[api] max_connections must be an integer in 1..1000000"));
  auto per = f.load("max_connections = 10\nmax_connections_per_address = 11\n");
  REQUIRE_FALSE(per);
  CHECK_THAT(per.reason(),
             Catch::Contains("max_connections_per_address") && Catch::Contains("1..10"));
  auto text = f.load("idle_timeout_seconds = \"soon\"\n");
  REQUIRE_FALSE(text);
  CHECK_THAT(text.reason(), Catch::Contains("idle_timeout_seconds must be an integer in 1..3600"));
  auto share = f.load("max_pending_transactions = 100\nmax_pending_per_address = 101\n");
  REQUIRE_FALSE(share);
  CHECK_THAT(share.reason(),
             Catch::Contains("max_pending_per_address") && Catch::Contains("0..100"));
  auto small = f.load("max_answer_bytes = 1000\n");
  REQUIRE_FALSE(small);
  CHECK_THAT(small.reason(), Catch::Contains("max_answer_bytes"));
}

TEST_CASE("node config: blocks in flight default to 1, are read, out of 1..16 refused",
          "[config]") {
  ConfigFile f;
  auto defaults = f.load("");
  REQUIRE(defaults);
  CHECK(defaults->block_max_in_flight == 1);
  auto one = f.load("[blocks]\nmax_in_flight = 2\n");
  REQUIRE(one);
  CHECK(one->block_max_in_flight == 2);
  std::ofstream(f.path) << one->to_toml();
  auto again = NodeConfig::load_file(f.path.string());
  REQUIRE(again);
  CHECK(again->block_max_in_flight == 2);
  for (const char* bad : {"0", "17", "\"two\""}) {
    auto refused = f.load(std::string("[blocks]\nmax_in_flight = ") + bad + "\n");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.reason(),
               Catch::Contains("[blocks] max_in_flight must be an integer in 1..16"));
  }
}

TEST_CASE("node config: the HTTP threads' nice step defaults to 5, is read, out of 0..19 refused",
          "[config]") {
  ConfigFile f;
  auto defaults = f.load("");
  REQUIRE(defaults);
  CHECK(defaults->http_thread_nice == 5);
  auto zero = f.load("thread_nice = 0\n");
  REQUIRE(zero);
  CHECK(zero->http_thread_nice == 0);
  std::ofstream(f.path) << zero->to_toml();
  auto again = NodeConfig::load_file(f.path.string());
  REQUIRE(again);
  CHECK(again->http_thread_nice == 0);
  for (const char* bad : {"-1", "20", "\"low\""}) {
    auto refused = f.load(std::string("thread_nice = ") + bad + "\n");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.reason(), Catch::Contains("[api] thread_nice must be an integer in 0..19"));
  }
}

}  // namespace
TEST_CASE("node config: the disk's warning level and reserve", "[config]") {
  ConfigFile f;
  auto defaults = f.load("");
  REQUIRE(defaults);
  CHECK(defaults->min_free_bytes == 1024ull << 20);
  CHECK(defaults->reserve_bytes == 256ull << 20);
  auto set = f.load("", "min_free_mb = 24\nreserve_mb = 8\n");
  REQUIRE(set);
  CHECK(set->min_free_bytes == 24ull << 20);
  CHECK(set->reserve_bytes == 8ull << 20);
  std::ofstream(f.path) << set->to_toml();
  auto again = NodeConfig::load_file(f.path.string());
  REQUIRE(again);
  CHECK(again->reserve_bytes == 8ull << 20);
  // The warning must come before the stop.
  auto late = f.load("", "min_free_mb = 8\nreserve_mb = 24\n");
  REQUIRE_FALSE(late);
  CHECK_THAT(late.reason(), Catch::Contains("[node] reserve_mb must be 0..8"));
  REQUIRE_FALSE(f.load("", "min_free_mb = -1\n"));
}

}  // namespace chipledger
