// The explorer's verdicts (node/explorer_verdict.h) on a real Ledger: the
// report is the verifier's on the node's own evidence at the served
// checkpoint, and a history over [api] max_answer_bytes is answered 413
// (the history answer's own refusal), never a 500.
#include "node/explorer_verdict.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/client/story.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;
using namespace std::chrono_literals;

ServedCheckpoint served_at(const Story& s, uint64_t now_ms) {
  ServedCheckpoint served;
  served.size = s.ledger->size();
  Checkpoint cp = checkpoint_of(*s.ledger, served.size);
  served.root = cp.root;
  served.note = note_for(cp, {{s.tc->node_id(), &s.tc->node_key()}}, now_ms / 1000);
  served.quorum = true;
  return served;
}

HttpResponse ask(ExplorerVerdicts& verdicts, const std::string& serial, ServedCheckpoint served,
                 uint64_t now_ms) {
  auto promise = std::make_shared<std::promise<HttpResponse>>();
  auto answer = promise->get_future();
  verdicts.verdict(serial, std::move(served), now_ms,
                   [promise](HttpResponse r) { promise->set_value(std::move(r)); });
  REQUIRE(answer.wait_for(30s) == std::future_status::ready);
  return answer.get();
}

TEST_CASE("explorer verdicts: the verifier's report, and 413 for a history over the limit",
          "[explorer]") {
  Story s;
  s.register_chips({"GPU-1", "GPU-2"});
  s.deliver_installed_attested("GPU-1");
  const uint64_t now = s.t + kSecond;
  const ServedCheckpoint served = served_at(s, now);

  ExplorerVerdicts roomy(*s.ledger, 1 << 20);
  HttpResponse ok = ask(roomy, "GPU-1", served, now);
  INFO(ok.body);
  REQUIRE(ok.status == 200);
  json j = json::parse(ok.body);
  VerifyReport direct = s.verify("GPU-1", now);
  CHECK(j["report"]["verdict"] == direct.verdict());
  CHECK(j["report"]["verdict"] == "ok");
  CHECK(j["report"] == direct.to_json());
  CHECK(j["size"] == served.size);
  CHECK(j["checkpoint"] == served.note);
  CHECK(json::parse(ask(roomy, "GPU-2", served, now).body)["report"]["verdict"] ==
        s.verify("GPU-2", now).verdict());

  // GPU-1's history (register, 2 transfers, 2 accepts, install, attest) is
  // well over 1,000 bytes; GPU-2's fits.
  ExplorerVerdicts tight(*s.ledger, 1000);
  HttpResponse over = ask(tight, "GPU-1", served, now);
  CHECK(over.status == 413);
  CHECK_THAT(json::parse(over.body)["error"].get<std::string>(),
             Catch::Contains("max_answer_bytes"));
}

}  // namespace
}  // namespace chipledger
