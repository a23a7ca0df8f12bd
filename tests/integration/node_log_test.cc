// The node's log as [log] in node.toml sets it: JSON lines (one object per
// line with time, level and msg) at the configured level, never a key;
// text lines by default; a bad level refused at start with what is wrong.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using nlohmann::json;

void append(const std::string& file, const std::string& text) {
  std::ofstream(file, std::ios::app) << text;
}

std::string read_all(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The base64 lines of a PEM file's body (what a leaked key would show).
std::vector<std::string> pem_body_lines(const std::string& file) {
  std::vector<std::string> out;
  std::istringstream in(read_all(file));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.rfind("-----", 0) != 0) out.push_back(line);
  }
  return out;
}

TEST_CASE("node log: JSON lines at the configured level and no key in them", "[integration]") {
  NodeProcess node;
  append(node.dir() + "/node.toml", "\n[log]\nlevel = \"debug\"\nformat = \"json\"\n");
  node.start();
  auto reg = node.cli({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial",
                       "GPU-L-1", "--model", "H1", "--fab-site", "f1", "--country", "TW"});
  INFO(reg.describe());
  REQUIRE(reg.exit_code == 0);
  node.stop();

  const std::string out = node.output();
  INFO(out);
  size_t json_lines = 0;
  bool serving = false, stopping = false;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("===", 0) == 0 || line.find(" listening on ") != std::string::npos) continue;
    INFO(line);
    json j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_object());
    CHECK(j.size() == 3);
    CHECK(j["time"].get<std::string>().size() == 24);  // 2026-12-06T01:02:03.456Z
    CHECK(j["time"].get<std::string>().back() == 'Z');
    const std::string level = j["level"];
    CHECK((level == "debug" || level == "info" || level == "warn" || level == "error"));
    const std::string msg = j["msg"];
    serving = serving || msg.find("serving the API at " + node.url()) != std::string::npos;
    stopping = stopping || msg.find("stopping on signal 15") != std::string::npos;
    ++json_lines;
  }
  CHECK(json_lines >= 2);
  CHECK(serving);
  CHECK(stopping);
  // No line of any key file's body: the node's own, the TLS key, a member's.
  for (const std::string& key :
       {node.dir() + "/keys/node-maker.pem", node.dir() + "/keys/maker.pem",
        node.dir() + "/tls/node-maker-key.pem"}) {
    auto body = pem_body_lines(key);
    REQUIRE_FALSE(body.empty());
    for (const auto& b : body) CHECK(out.find(b) == std::string::npos);
  }
}

TEST_CASE("node log: text lines by default and a bad log level refused at start", "[integration]") {
  NodeProcess node;
  node.start();
  node.stop();
  const std::string out = node.output();
  INFO(out);
  size_t at = out.find(" info chipledger-node: stopping on signal 15");
  REQUIRE(at != std::string::npos);
  // The line starts with its UTC time.
  size_t line_start = out.rfind('\n', at) + 1;
  CHECK(at - line_start == 24);
  CHECK(out[at - 1] == 'Z');

  append(node.dir() + "/node.toml", "\n[log]\nlevel = \"loud\"\n");
  auto r = run_process({kNodeBin, "--config", node.dir() + "/node.toml"}, std::chrono::seconds(30));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("[log] level must be debug, info, warn or error, not \"loud\"") !=
        std::string::npos);
}

}  // namespace
}  // namespace chipledger::integ
