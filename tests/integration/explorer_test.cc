// The web explorer's node side (docs/explorer.md) on a real node: its pages
// are served with headers that keep them to their own origin, it is
// read-only, and GET /v1/chips/SERIAL/verdict is the report `chipledger
// verify --json` gives for the same serial (one verifier, run by the node
// on its own evidence). The page itself runs in Chromium in
// tests/explorer/explorer_test.py.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using nlohmann::json;

TEST_CASE("explorer: the node serves its pages read-only and the verifier's verdict",
          "[integration]") {
  NodeProcess node;
  node.start();
  auto ok = [&](const std::vector<std::string>& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  };
  ok({"register", "--as", "maker", "--key", node.key_file("maker"), "--serial", "GPU-E-1",
      "--model", "H1", "--fab-site", "f1", "--country", "TW"});
  ok({"transfer", "--as", "maker", "--key", node.key_file("maker"), "--serial", "GPU-E-1", "--to",
      "distributor", "--ship-to", "SG"});

  HttpClient& http = node.http();
  auto page = http.get("/explorer/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->content_type == "text/html; charset=utf-8");
  CHECK(page->body.find("<script src=\"app.js\"></script>") != std::string::npos);
  auto script = http.get("/explorer/verify.js");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->content_type == "text/javascript; charset=utf-8");
  CHECK(script->body.find("verifyInclusion") != std::string::npos);
  auto root = http.get("/");
  REQUIRE(root);
  CHECK(root->status == 302);
  auto missing = http.get("/explorer/../consortium.json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto post = http.post("/explorer/index.html", "x");
  REQUIRE(post);
  CHECK(post->status == 405);

  auto verdict = node.get_json("/v1/chips/GPU-E-1/verdict");
  auto cli = node.cli({"verify", "GPU-E-1", "--json"});
  INFO(cli.describe());
  REQUIRE(cli.exit_code == 17);  // shipped, not installed
  json mine = verdict["report"], theirs = json::parse(cli.out);
  CHECK(mine["verdict"] == theirs["verdict"]);
  CHECK(mine["exit_code"] == cli.exit_code);
  CHECK(mine["chain"] == theirs["chain"]);
  CHECK(mine["holder"] == theirs["holder"]);
  CHECK(mine["findings"].size() == theirs["findings"].size());
  CHECK(verdict["size"] == node.log_size());
  CHECK(verdict["checkpoint"].get<std::string>().find("\n\n\u2014 ") != std::string::npos);
  CHECK(verdict["judged_by"].get<std::string>().find("this node") != std::string::npos);

  auto unknown = node.get_json("/v1/chips/GPU-E-404/verdict");
  CHECK(unknown["report"]["verdict"] == "not-registered");
}

}  // namespace
}  // namespace chipledger::integ
