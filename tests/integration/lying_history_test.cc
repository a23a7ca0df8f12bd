// Issue 10's attacks on histories, played by a test proxy between the real
// CLI and a real node (lying_node.h): an event withheld from a single or a
// batch history, and "not registered" for a registered serial. The state
// map's proofs must turn each into a proof-failure.
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

}  // namespace
}  // namespace chipledger::integ
