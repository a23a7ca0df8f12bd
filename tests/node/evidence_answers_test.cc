// The evidence answers (node/evidence_answers.h), assembled as text: each is
// valid JSON and the reference rendering (tests/node/reference_answers.h), a batch gives every
// serial's events exactly as the single history gives them (leaf, txid, inclusion proof and, for an
// attestation only, its consistency proof), each event and each serial once, and a serial with no
// events null with its absence proof.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "node/evidence_answers.h"
#include "tests/client/story.h"
#include "tests/node/reference_answers.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;

TEST_CASE("evidence answers: a batch gives each event and serial once, as the single history does",
          "[api][evidence]") {
  Story s;
  s.register_chips({"GPU-1", "GPU-2"});
  s.deliver_installed_attested("GPU-1");
  s.hand_over("maker", "GPU-2", "dist", "NL");
  const uint64_t size = s.ledger->size();

  HttpResponse batch = histories_answer(*s.ledger, {"GPU-1", "GPU-2", "NONE-1", "GPU-1"}, size);
  REQUIRE(batch.status == 200);
  json b = json::parse(batch.body);  // throws, failing the test, if not JSON
  CHECK(b["size"] == size);
  CHECK(b["root"] == hex_encode(must(s.ledger->root_at(size))));
  CHECK(b["histories"].size() == 3);
  CHECK(b["states"].size() == 3);
  CHECK(b["histories"]["NONE-1"].is_null());
  CHECK(b["states"]["NONE-1"]["record"].is_null());
  // Named twice, answered once: the text has one key per serial.
  CHECK(batch.body.find("\"GPU-1\":[") == batch.body.rfind("\"GPU-1\":["));

  std::set<std::string> attestations;
  for (const std::string serial : {"GPU-1", "GPU-2"}) {
    HttpResponse one = history_answer(*s.ledger, serial, size);
    REQUIRE(one.status == 200);
    json h = json::parse(one.body);
    CHECK(h["state"] == b["states"][serial]);
    json indices = json::array();
    for (const auto& e : h["events"]) {
      indices.push_back(e["index"]);
      const json& same = b["events"][std::to_string(e["index"].get<uint64_t>())];
      CHECK(same["tx"] == e["tx"]);
      CHECK(same["txid"] == e["txid"]);
      CHECK(same["proof"] == e["proof"]);
      CHECK(same.contains("consistency") == e.contains("consistency"));
      if (e.contains("consistency")) {
        CHECK(same["consistency"] == e["consistency"]);
        CHECK(e["event"]["type"] == "attest");
        attestations.insert(serial);
      }
    }
    CHECK(b["histories"][serial] == indices);
  }
  CHECK(attestations == std::set<std::string>{"GPU-1"});
  // Both are the reference rendering (the single one byte for byte).
  for (const std::string serial : {"GPU-1", "GPU-2", "NONE-1"}) {
    INFO(serial);
    CHECK(history_answer(*s.ledger, serial, size).body ==
          reference::history_json(*s.ledger, serial, size).dump());
  }
  CHECK(b == reference::histories_json(*s.ledger, {"GPU-1", "GPU-2", "NONE-1"}, size));
  // The register both serials share is given once; no event beyond theirs.
  std::set<uint64_t> named;
  for (const auto& [serial, list] : b["histories"].items()) {
    if (list.is_array()) {
      for (const auto& i : list) named.insert(i.get<uint64_t>());
    }
  }
  CHECK(b["events"].size() == named.size());
}

TEST_CASE("evidence answers: the state answer is the history's state, also for a serial never seen",
          "[api][evidence]") {
  Story s;
  s.register_chips({"GPU-1"});
  const uint64_t size = s.ledger->size();
  json registered = json::parse(state_answer(*s.ledger, "GPU-1", size).body);
  CHECK(registered["serial"] == "GPU-1");
  CHECK(registered["size"] == size);
  CHECK(registered["state"] == json::parse(history_answer(*s.ledger, "GPU-1", size).body)["state"]);
  HttpResponse absent = state_answer(*s.ledger, "NONE-1", size);
  CHECK(absent.status == 200);
  json a = json::parse(absent.body);
  CHECK(a["state"]["record"].is_null());
  CHECK(a["state"] == json::parse(history_answer(*s.ledger, "NONE-1", size).body)["state"]);
}

TEST_CASE("evidence answers: an answer over the byte limit is refused with 413, not built",
          "[api][evidence]") {
  Story s;
  s.register_chips({"GPU-1", "GPU-2"});
  s.deliver_installed_attested("GPU-1");
  const uint64_t size = s.ledger->size();
  HttpResponse whole = histories_answer(*s.ledger, {"GPU-1", "GPU-2"}, size);
  REQUIRE(whole.status == 200);
  // Just enough for the whole answer: served; a byte less than its parts: refused.
  CHECK(histories_answer(*s.ledger, {"GPU-1", "GPU-2"}, size, whole.body.size()).status == 200);
  HttpResponse over = histories_answer(*s.ledger, {"GPU-1", "GPU-2"}, size, 1000);
  CHECK(over.status == 413);
  CHECK_THAT(json::parse(over.body)["error"].get<std::string>(),
             Catch::Contains("over 1000 bytes") && Catch::Contains("max_answer_bytes") &&
                 Catch::Contains("fewer serials"));
  HttpResponse one = history_answer(*s.ledger, "GPU-1", size);
  REQUIRE(one.status == 200);
  CHECK(history_answer(*s.ledger, "GPU-1", size, one.body.size()).status == 200);
  HttpResponse one_over = history_answer(*s.ledger, "GPU-1", size, 1000);
  CHECK(one_over.status == 413);
  CHECK_THAT(json::parse(one_over.body)["error"].get<std::string>(),
             Catch::Contains("max_answer_bytes"));
}

}  // namespace
}  // namespace chipledger
