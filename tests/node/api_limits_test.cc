// The API's bounds on request bodies (docs/api.md, "Limits") through
// Api::handle over a real in-memory node: hostile JSON bodies on every JSON
// endpoint get 400 naming the bound and change nothing; the largest
// legitimate requests (a batch of 1,000 transactions, /v1/histories of
// 1,000 serials, a megabytes-long transaction) still pass; a checkpoint
// note over its size or with more signature lines than the consortium has
// nodes is refused before any signature is checked.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/signed_note.h"
#include "tests/node/api_test_node.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;

const char* const kJsonEndpoints[] = {"/v1/transactions", "/v1/transactions/batch",
                                      "/v1/histories"};

TEST_CASE("api limits: deep, wide and long JSON bodies get 400 naming the bound", "[api][limits]") {
  TestNode node;
  for (const char* target : kJsonEndpoints) {
    INFO(target);
    CHECK(error_of(node.call("POST", target, std::string(16u << 20, '[')), 400) ==
          "JSON nesting deeper than 32");
    std::string wide = "[";
    for (int i = 0; i < 10000; ++i) wide += "0,";
    CHECK(error_of(node.call("POST", target, wide + "0]"), 400) ==
          "JSON with more than 10000 elements");
  }
  // A serial is at most 256 bytes: a histories string over 4096 is refused
  // by the scan; a transaction may be as long as the body limit allows.
  std::string long_serial(4097, 'S');
  CHECK(error_of(node.call("POST", "/v1/histories", json{{"serials", {long_serial}}}.dump()),
                 400) == "JSON string longer than 4096 bytes");
  std::string big_tx = base64_encode(Bytes(3u << 20, 0));
  CHECK_THAT(error_of(node.call("POST", "/v1/transactions", json{{"tx", big_tx}}.dump()), 400),
             Catch::StartsWith("malformed transaction"));
  CHECK(node.ledger().size() == 0);
  CHECK(node.blocks.load() == 0);
}

TEST_CASE("api limits: a batch of 1,000 transactions and histories of 1,000 serials pass",
          "[api][limits]") {
  TestNode node;
  const auto& tc = node.tc();
  json txs = json::array();
  std::vector<std::string> serials;
  for (int i = 0; i < 1000; ++i) {
    serials.push_back("GPU-" + std::to_string(100000 + i));
    txs.push_back(base64_encode(register_tx(tc, {serials.back()}).wire()));
  }
  HttpResponse r = node.call("POST", "/v1/transactions/batch", json{{"txs", txs}}.dump());
  INFO(r.body.substr(0, 300));
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["accepted"] == 1000);
  REQUIRE(node.ledger().size() == 1000);
  node.checkpoint();
  r = node.call("POST", "/v1/histories", json{{"serials", serials}, {"size", 1000}}.dump(2));
  INFO(r.body.substr(0, 300));
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["histories"].size() == 1000);
}

TEST_CASE("api limits: checkpoint notes are bounded before any signature is checked",
          "[api][limits]") {
  TestNode node;  // one node in the consortium
  node.checkpoint();
  std::string served = node.get("/v1/checkpoint").body;
  auto note = must(parse_note(served));
  REQUIRE(note.signatures.size() == 1);

  // As many signature lines as the consortium has nodes: checked as before.
  auto again = node.call("POST", "/v1/checkpoint/signatures", served);
  INFO(again.body);
  CHECK(again.status == 200);
  // One more: refused unparsed.
  note.signatures.push_back(note.signatures[0]);
  CHECK_THAT(error_of(node.call("POST", "/v1/checkpoint/signatures", format_note(note)), 403),
             Catch::Contains("more than 1 signature lines"));
  // Over 64 KiB: 413 before anything is parsed.
  std::string big = std::string(64u << 10, 'a') + "\n\n" + served.substr(served.find("\n\n") + 2);
  CHECK(error_of(node.call("POST", "/v1/checkpoint/signatures", big), 413)
            .rfind("checkpoint note over 65536 bytes", 0) == 0);
  std::string at_bound = served + std::string((64u << 10) - served.size(), 'x');
  CHECK(node.call("POST", "/v1/checkpoint/signatures", at_bound).status == 403);  // parsed
}

}  // namespace
}  // namespace chipledger
