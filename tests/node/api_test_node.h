// A whole node in one process for API tests: a consortium with fresh keys,
// a Ledger over MemoryStore, a CheckpointPublisher and a BlockSequencer on a
// clock the test controls, and the Api over them; plus helpers that check
// answers have the documented shapes (docs/api.md).
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "ledger/checkpoint.h"
#include "node/api.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "tests/node/test_consortium.h"

namespace chipledger::testing {

using namespace std::chrono_literals;
using json = nlohmann::json;

// One node: ledger, checkpoint publisher, sequencer and API.
class TestNode {
 public:
  explicit TestNode(std::unique_ptr<TestConsortium> tc = make_consortium())
      : tc_(std::move(tc)), ledger_(open_memory_ledger(tc_->consortium)) {
    cps_ = std::make_unique<CheckpointPublisher>(*ledger_, tc_->node_id(), tc_->node_key());
    must_ok(cps_->refresh());
    seq_ = std::make_unique<BlockSequencer>(
        *ledger_, [this] { return now_ms.load(); }, BlockSequencer::Options{1ms, 2000},
        [this] {
          // No Catch2 macros here: this runs on the sequencer thread.
          if (!cps_->refresh().is_ok()) refresh_failures.fetch_add(1);
          blocks.fetch_add(1);
        });
    seq_->start();
    api_ = std::make_unique<Api>(*ledger_, *seq_, *cps_, "node-1");
  }
  ~TestNode() { seq_->stop(); }

  const TestConsortium& tc() const { return *tc_; }
  const Consortium& consortium() const { return tc_->consortium; }
  const Ledger& ledger() const { return *ledger_; }

  // Hands one request to the API; the future gets its answer. Safe from any
  // thread (no Catch2 macros). A second answer to one request is counted.
  std::future<HttpResponse> send(const std::string& method, const std::string& target,
                                 const std::string& body = "") {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto answer = promise->get_future();
    api_->handle(HttpRequest{method, target, body}, [this, promise, answered](HttpResponse r) {
      if (answered->exchange(true)) {
        extra_answers.fetch_add(1);
        return;
      }
      promise->set_value(std::move(r));
    });
    return answer;
  }

  // Sends one request and waits (with a deadline) for its single answer.
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    auto answer = send(method, target, body);
    INFO(method << " " << target);
    REQUIRE(answer.wait_for(10s) == std::future_status::ready);
    REQUIRE(extra_answers.load() == 0);
    REQUIRE(refresh_failures.load() == 0);
    return answer.get();
  }
  HttpResponse get(const std::string& target) { return call("GET", target); }

  HttpResponse submit_wire(const Bytes& wire) {
    return call("POST", "/v1/transactions", json{{"tx", base64_encode(wire)}}.dump());
  }
  HttpResponse submit(const SignedTransaction& stx) { return submit_wire(stx.wire()); }
  std::future<HttpResponse> send_submit(const SignedTransaction& stx) {
    return send("POST", "/v1/transactions", json{{"tx", base64_encode(stx.wire())}}.dump());
  }

  // Submits a transaction that must be accepted; returns its log index.
  uint64_t submit_ok(const SignedTransaction& stx) {
    HttpResponse r = submit(stx);
    INFO(r.body);
    REQUIRE(r.status == 200);
    json j = json::parse(r.body);
    REQUIRE(j["accepted"] == true);
    REQUIRE(j["txid"] == hex_encode(stx.txid));
    REQUIRE(j["index"].is_number_unsigned());
    return j["index"].get<uint64_t>();
  }

  // The latest checkpoint, verified with the consortium.
  VerifiedCheckpoint checkpoint() {
    HttpResponse r = get("/v1/checkpoint");
    REQUIRE(r.status == 200);
    auto cp = verify_checkpoint(consortium(), r.body);
    INFO(cp.reason());
    REQUIRE(cp.is_ok());
    return std::move(cp).value();
  }

  std::atomic<uint64_t> now_ms{kT0};
  std::atomic<int> blocks{0};
  std::atomic<int> refresh_failures{0};
  std::atomic<int> extra_answers{0};

 private:
  std::unique_ptr<TestConsortium> tc_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<CheckpointPublisher> cps_;
  std::unique_ptr<BlockSequencer> seq_;
  std::unique_ptr<Api> api_;
};

inline json body_of(const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  INFO(r.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// A 4xx/5xx in the documented shape: JSON {"error": "<non-empty text>"}.
inline std::string error_of(const HttpResponse& r, int status) {
  INFO(r.body);
  REQUIRE(r.status == status);
  REQUIRE(r.content_type == "application/json");
  json j = body_of(r);
  REQUIRE(j.contains("error"));
  REQUIRE(j["error"].is_string());
  REQUIRE_FALSE(j["error"].get<std::string>().empty());
  return j["error"].get<std::string>();
}

// A 422 refusal: {"accepted":false,"txid":H,"error":R}; returns R.
inline std::string refusal_of(const HttpResponse& r, const SignedTransaction& stx) {
  std::string reason = error_of(r, 422);
  json j = body_of(r);
  REQUIRE(j["accepted"] == false);
  REQUIRE(j["txid"] == hex_encode(stx.txid));
  return reason;
}

inline std::vector<Hash> proof_of(const json& j) {
  std::vector<Hash> out;
  REQUIRE(j.is_array());
  for (const auto& h : j) out.push_back(must(hash_from_hex(h.get<std::string>())));
  return out;
}

// Checks every event of a history answer against a verified checkpoint.
inline void check_history_proofs(const json& h, const Checkpoint& cp) {
  REQUIRE(h["size"] == cp.size);
  REQUIRE(h["root"] == hex_encode(cp.root));
  for (const auto& e : h["events"]) {
    Bytes wire = must(base64_decode(e["tx"].get<std::string>()));
    auto stx = must(SignedTransaction::decode(wire));
    REQUIRE(e["txid"] == hex_encode(stx.txid));
    REQUIRE(e["event"]["type"] == std::string(tx_type_name(stx.tx.type)));
    REQUIRE(e["event"]["author"] == stx.tx.author);
    Status st = merkle::verify_inclusion(e["index"].get<uint64_t>(), cp.size,
                                         merkle::leaf_hash(wire), proof_of(e["proof"]), cp.root);
    INFO(st.reason());
    REQUIRE(st.is_ok());
  }
}

}  // namespace chipledger::testing
