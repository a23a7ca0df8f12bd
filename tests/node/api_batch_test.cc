// POST /v1/transactions/batch (docs/api.md): many signed transactions in one
// request, each checked, sequenced and answered on its own, in order; a
// malformed batch is refused whole and changes nothing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/node/api_test_node.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;

std::string batch_body(const std::vector<Bytes>& wires) {
  json txs = json::array();
  for (const auto& w : wires) txs.push_back(base64_encode(w));
  return json{{"txs", txs}}.dump();
}

std::string batch_of(const std::vector<SignedTransaction>& txs) {
  std::vector<Bytes> wires;
  for (const auto& t : txs) wires.push_back(t.wire());
  return batch_body(wires);
}

// A 200 batch answer: {"accepted":A,"refused":R,"results":[...]}, one result
// per transaction, in order, each naming that transaction's id.
json results_of(const HttpResponse& r, const std::vector<SignedTransaction>& txs) {
  INFO(r.body);
  REQUIRE(r.status == 200);
  json j = body_of(r);
  REQUIRE(j["results"].is_array());
  REQUIRE(j["results"].size() == txs.size());
  size_t accepted = 0, unknown = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    const json& item = j["results"][i];
    REQUIRE(item["txid"] == hex_encode(txs[i].txid));
    bool ok = item["accepted"].get<bool>();
    int status = item["status"].get<int>();
    REQUIRE((ok ? status == 200 : (status == 422 || status == 503 || status == 202)));
    unknown += item["outcome"] == "unknown" ? 1 : 0;
    if (ok) {
      REQUIRE(item["index"].is_number_unsigned());
      ++accepted;
    } else {
      REQUIRE(item["error"].is_string());
      REQUIRE_FALSE(item["error"].get<std::string>().empty());
    }
  }
  REQUIRE(j["accepted"] == accepted);
  REQUIRE(j["unknown"] == unknown);
  REQUIRE(j["refused"] == txs.size() - accepted - unknown);
  return j["results"];
}

TEST_CASE("batch: every transaction accepted in order, dependent ones too", "[api][batch]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2", "SN3"});
  // The transfers name the registration in the same batch as their prev:
  // the batch is sequenced in its order.
  std::vector<SignedTransaction> txs{reg};
  for (const char* sn : {"SN1", "SN2", "SN3"})
    txs.push_back(transfer_tx(tc, "maker", sn, reg.txid, "dist"));
  json results = results_of(node.call("POST", "/v1/transactions/batch", batch_of(txs)), txs);
  for (size_t i = 0; i < txs.size(); ++i) {
    REQUIRE(results[i]["accepted"] == true);
    REQUIRE(results[i]["index"] == i);
  }
  REQUIRE(node.ledger().size() == 4);
  // Acknowledged means covered by the latest checkpoint, as for one.
  REQUIRE(node.checkpoint().checkpoint.size == 4);
  REQUIRE(body_of(node.get("/v1/chips/SN2"))["pending_to"] == "dist");
}

TEST_CASE("batch: refusals are per transaction, the rest go in", "[api][batch]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2"});
  node.submit_ok(reg);
  auto good = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  SignedTransaction bad_sig = transfer_tx(tc, "maker", "SN2", reg.txid, "dist");
  bad_sig.signature.back() ^= 0x01;
  auto not_holder = transfer_tx(tc, "dist", "SN2", reg.txid, "op");
  auto accept = accept_tx(tc, "dist", "SN1", good.txid);
  std::vector<SignedTransaction> txs{good, bad_sig, not_holder, accept, good};
  json results = results_of(node.call("POST", "/v1/transactions/batch", batch_of(txs)), txs);

  REQUIRE(results[0]["accepted"] == true);
  REQUIRE(results[0]["index"] == 1);
  REQUIRE(results[1]["status"] == 422);  // checked before sequencing
  REQUIRE_THAT(results[1]["error"].get<std::string>(), Catch::Contains("signature"));
  REQUIRE(results[2]["status"] == 422);  // a custody rule
  REQUIRE(results[3]["accepted"] == true);
  REQUIRE(results[3]["index"] == 2);
  // The same transfer again, while the first is on its way: not applied
  // twice, and its outcome is the first one's (unknown at the door).
  REQUIRE(results[4]["status"] == 202);
  REQUIRE(results[4]["outcome"] == "unknown");
  REQUIRE_THAT(results[4]["error"].get<std::string>(), Catch::Contains("already on its way"));
  REQUIRE(results[4]["duplicate"] == "waiting");
  REQUIRE(node.ledger().size() == 3);
  REQUIRE(body_of(node.get("/v1/chips/SN2"))["holder"] == "maker");
}

TEST_CASE("batch: a malformed batch gets 400 and changes nothing", "[api][batch]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1"});
  auto other = register_tx(tc, {"SN2"});
  auto post = [&](const std::string& body) {
    return node.call("POST", "/v1/transactions/batch", body);
  };

  SECTION("not JSON") { error_of(post("{\"txs\": ["), 400); }
  SECTION("no txs") { error_of(post(R"({"tx": "AAAA"})"), 400); }
  SECTION("txs not a list") { error_of(post(R"({"txs": "AAAA"})"), 400); }
  SECTION("an empty list") {
    REQUIRE_THAT(error_of(post(R"({"txs": []})"), 400), Catch::Contains("1 to 1000"));
  }
  SECTION("over 1000") {
    std::vector<Bytes> many(1001, reg.wire());
    REQUIRE_THAT(error_of(post(batch_body(many)), 400), Catch::Contains("not 1001"));
  }
  SECTION("an entry that is not a string") {
    json j{{"txs", json::array({base64_encode(reg.wire()), 7})}};
    REQUIRE_THAT(error_of(post(j.dump()), 400), Catch::Contains("txs[1]"));
  }
  SECTION("bad base64 in the middle") {
    json j{{"txs", json::array({base64_encode(reg.wire()), "!!", base64_encode(other.wire())})}};
    REQUIRE_THAT(error_of(post(j.dump()), 400), Catch::Contains("txs[1]"));
  }
  SECTION("a truncated transaction last") {
    Bytes cut = other.wire();
    cut.resize(cut.size() - 5);
    std::string reason = error_of(post(batch_body({reg.wire(), cut})), 400);
    REQUIRE_THAT(reason, Catch::Contains("txs[1]") && Catch::Contains("malformed transaction"));
  }
  REQUIRE(node.ledger().size() == 0);
  REQUIRE(node.blocks.load() == 0);
  // The well-formed ones still go in afterwards.
  std::vector<SignedTransaction> both{reg, other};
  results_of(post(batch_of(both)), both);
  REQUIRE(node.ledger().size() == 2);
}

TEST_CASE("batch: only POST, and only refused transactions give no block", "[api][batch]") {
  TestNode node;
  error_of(node.get("/v1/transactions/batch"), 405);
  SignedTransaction bad = register_tx(node.tc(), {"SN1"});
  bad.signature.front() ^= 0x80;
  std::vector<SignedTransaction> txs{bad};
  json results = results_of(node.call("POST", "/v1/transactions/batch", batch_of(txs)), txs);
  REQUIRE(results[0]["status"] == 422);
  REQUIRE(node.blocks.load() == 0);
  REQUIRE(node.ledger().size() == 0);
}

}  // namespace
}  // namespace chipledger
