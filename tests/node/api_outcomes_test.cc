// Each answer of the API to a submission, in the state that produces it
// (docs/api.md, "Outcomes"): leader, follower, leaderless, leadership lost
// while the block was on its way (before and after it landed), replication
// stopped, the ledger fail-stopped; and GET /v1/transactions/TXID while a
// transaction is on its way. The block sink stands in for the replicator:
// it applies the block to the ledger, or not, and returns what the test
// says replication returned.
#include <catch2/catch.hpp>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

#include "node/api.h"
#include "node/submission_answers.h"
#include "tests/node/test_consortium.h"

namespace chipledger::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class OutcomeNode {
 public:
  // What the sink does with the next blocks.
  enum class Sink {
    apply,            // applied, outcomes returned
    apply_then_lose,  // applied, then "leadership lost" (unknown)
    lose,             // not applied, leadership lost (unknown)
    not_leader,       // not proposed (unavailable)
    hold,             // waits until release() (a block on its way)
  };

  OutcomeNode() : tc_(make_consortium()), ledger_(open_memory_ledger(tc_->consortium)) {
    cps_ = std::make_unique<CheckpointPublisher>(*ledger_, tc_->node_id(), tc_->node_key());
    must_ok(cps_->refresh());
    seq_ = std::make_unique<BlockSequencer>(
        [this](std::vector<PendingTx> txs, uint64_t time_ms) {
          return BlockSequencer::ready(sink(std::move(txs), time_ms));
        },
        [] { return kT0; }, BlockSequencer::Options{1ms, 2000}, [this] { (void)cps_->refresh(); });
    seq_->start();
    api_ = std::make_unique<Api>(*ledger_, *seq_, *cps_, "node-1", [this] {
      std::lock_guard lock(mu_);
      return view_;
    });
  }
  ~OutcomeNode() {
    release();
    seq_->stop();
  }

  void set_sink(Sink s) {
    std::lock_guard lock(mu_);
    sink_ = s;
  }
  void set_view(bool leader, std::optional<std::string> leader_url, std::string role) {
    std::lock_guard lock(mu_);
    view_.leader = leader;
    view_.leader_api_url = std::move(leader_url);
    view_.role = std::move(role);
  }
  void edit_view(const std::function<void(ReplicaView&)>& edit) {
    std::lock_guard lock(mu_);
    edit(view_);
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  bool wait_held() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return held_; });
  }

  std::future<HttpResponse> send(const std::string& method, const std::string& target,
                                 const std::string& body = "") {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto answer = promise->get_future();
    api_->handle(HttpRequest{method, target, body},
                 [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    return answer;
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    auto answer = send(method, target, body);
    REQUIRE(answer.wait_for(10s) == std::future_status::ready);
    return answer.get();
  }
  static std::string body_of(const SignedTransaction& stx) {
    return json{{"tx", base64_encode(stx.wire())}}.dump();
  }
  HttpResponse submit(const SignedTransaction& stx) {
    return call("POST", "/v1/transactions", body_of(stx));
  }
  const TestConsortium& tc() const { return *tc_; }
  const Ledger& ledger() const { return *ledger_; }

 private:
  Result<std::vector<TxOutcome>> sink(std::vector<PendingTx> txs, uint64_t time_ms) {
    Sink s;
    {
      std::unique_lock lock(mu_);
      s = sink_;
      if (s == Sink::hold) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
        s = Sink::apply;
      }
    }
    using R = Result<std::vector<TxOutcome>>;
    if (s == Sink::not_leader) return R::error(StatusCode::unavailable, "not the Raft leader");
    if (s == Sink::lose) return R::error(StatusCode::unknown, "leadership lost");
    auto outcomes = ledger_->apply_block(std::move(txs), time_ms);
    if (s == Sink::apply_then_lose) return R::error(StatusCode::unknown, "leadership lost");
    return outcomes;
  }

  std::unique_ptr<TestConsortium> tc_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<CheckpointPublisher> cps_;
  std::unique_ptr<BlockSequencer> seq_;
  std::unique_ptr<Api> api_;
  std::mutex mu_;
  std::condition_variable cv_;
  Sink sink_ = Sink::apply;
  bool held_ = false, released_ = false;
  ReplicaView view_ = leader_view();
  static ReplicaView leader_view() {
    ReplicaView v;
    v.raft_id = 1;
    v.role = "leader";
    v.leader = true;
    v.leader_api_url = "https://127.0.0.1:7800";
    v.election_timeout_ms = 1000;
    return v;
  }
};

json answer(const HttpResponse& r) { return json::parse(r.body); }

}  // namespace

TEST_CASE("outcomes: the leader answers accepted, refused and accepted-again", "[api][outcome]") {
  OutcomeNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  HttpResponse first = node.submit(reg);
  REQUIRE(first.status == 200);
  CHECK(answer(first)["outcome"] == "accepted");
  auto not_holder = transfer_tx(node.tc(), "dist", "SN1", reg.txid, "op");
  HttpResponse refused = node.submit(not_holder);
  REQUIRE(refused.status == 422);
  CHECK(answer(refused)["outcome"] == "refused");
  CHECK_THAT(answer(refused)["error"].get<std::string>(), Catch::Contains("only the holder"));
  HttpResponse resubmitted = node.submit(reg);
  REQUIRE(resubmitted.status == 200);
  CHECK(answer(resubmitted)["index"] == 0);
  CHECK(answer(resubmitted)["duplicate"] == "in-ledger");
}

TEST_CASE("outcomes: a follower and a leaderless node answer nothing done", "[api][outcome]") {
  OutcomeNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  node.set_view(false, "https://127.0.0.1:7801", "follower");
  HttpResponse follower = node.submit(reg);
  REQUIRE(follower.status == 421);
  CHECK(answer(follower)["leader"] == "https://127.0.0.1:7801");
  node.set_view(false, std::nullopt, "candidate");
  HttpResponse leaderless = node.submit(reg);
  REQUIRE(leaderless.status == 503);
  CHECK(answer(leaderless)["leader"].is_null());
  CHECK(node.ledger().size() == 0);
}

TEST_CASE("outcomes: leadership lost while the block was on its way is unknown, never 421",
          "[api][outcome]") {
  OutcomeNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  const std::string lookup = "/v1/transactions/" + hex_encode(reg.txid);
  SECTION("the block landed") {
    node.set_sink(OutcomeNode::Sink::apply_then_lose);
    // By the time the answer goes out this node is a follower: still not
    // "nothing done", since the block was proposed.
    auto answer_future = node.send("POST", "/v1/transactions", OutcomeNode::body_of(reg));
    REQUIRE(answer_future.wait_for(10s) == std::future_status::ready);
    node.set_view(false, "https://127.0.0.1:7801", "follower");
    HttpResponse r = answer_future.get();
    REQUIRE(r.status == 202);
    CHECK(answer(r)["outcome"] == "unknown");
    CHECK(answer(r)["accepted"] == false);
    // The lookup resolves it: it landed.
    HttpResponse found = node.call("GET", lookup);
    REQUIRE(found.status == 200);
    CHECK(answer(found)["outcome"] == "accepted");
    CHECK(answer(found)["index"] == 0);
  }
  SECTION("the block was lost") {
    node.set_sink(OutcomeNode::Sink::lose);
    HttpResponse r = node.submit(reg);
    REQUIRE(r.status == 202);
    CHECK(answer(r)["outcome"] == "unknown");
    HttpResponse missing = node.call("GET", lookup);
    REQUIRE(missing.status == 404);
    CHECK(answer(missing)["outcome"] == "not-found");
    // Submitting it again is safe, and lands it once.
    node.set_sink(OutcomeNode::Sink::apply);
    REQUIRE(node.submit(reg).status == 200);
    REQUIRE(node.submit(reg).status == 200);
    CHECK(node.ledger().size() == 1);
  }
  SECTION("the replicator says nothing was proposed") {
    node.set_sink(OutcomeNode::Sink::not_leader);
    HttpResponse r = node.submit(reg);
    REQUIRE(r.status == 503);
    CHECK(answer(r)["outcome"] == "refused");
    CHECK(answer(r)["retry"] == true);
  }
}

TEST_CASE("outcomes: a transaction on its way is unknown to a second submission and to a lookup",
          "[api][outcome]") {
  OutcomeNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  node.set_sink(OutcomeNode::Sink::hold);
  auto first = node.send("POST", "/v1/transactions", OutcomeNode::body_of(reg));
  REQUIRE(node.wait_held());
  HttpResponse second = node.submit(reg);
  REQUIRE(second.status == 202);
  CHECK(answer(second)["duplicate"] == "waiting");
  HttpResponse lookup = node.call("GET", "/v1/transactions/" + hex_encode(reg.txid));
  REQUIRE(lookup.status == 200);
  CHECK(answer(lookup)["outcome"] == "unknown");
  CHECK(answer(lookup)["waiting"] == true);
  node.release();
  REQUIRE(first.wait_for(10s) == std::future_status::ready);
  HttpResponse r = first.get();
  REQUIRE(r.status == 200);
  CHECK(answer(r)["index"] == 0);
}

TEST_CASE("health: 503 with the reason whenever the node cannot do its job", "[api][health]") {
  OutcomeNode node;
  auto status_of = [&](int want) {
    HttpResponse r = node.call("GET", "/v1/health");
    INFO(r.body);
    CHECK(r.status == want);
    return answer(r);
  };
  CHECK(status_of(200)["status"] == "ok");
  SECTION("an election running its course is still ok") {
    node.edit_view([](ReplicaView& v) { v.ms_without_leader = 1500; });
    CHECK(status_of(200)["status"] == "ok");
  }
  SECTION("no leader for longer than two election timeouts") {
    node.edit_view([](ReplicaView& v) { v.ms_without_leader = 2500; });
    json j = status_of(503);
    CHECK(j["status"] == "no-leader");
    CHECK_THAT(j["error"].get<std::string>(), Catch::Contains("2500 ms"));
  }
  SECTION("far behind the committed log") {
    node.edit_view([](ReplicaView& v) {
      v.commit_index = 5000;
      v.last_applied = 5000 - Api::kBehindEntries - 1;
    });
    CHECK(status_of(503)["status"] == "behind");
    node.edit_view([](ReplicaView& v) { v.last_applied = 5000 - Api::kBehindEntries; });
    CHECK(status_of(200)["status"] == "ok");
  }
  SECTION("replication stopped after a failure: stopped, reads still served") {
    node.edit_view([](ReplicaView& v) { v.failure = "applying entry 7: No space left on device"; });
    json j = status_of(503);
    CHECK(j["status"] == "stopped");
    CHECK_THAT(j["error"].get<std::string>(), Catch::Contains("No space left"));
    CHECK(node.call("GET", "/v1/chips/SN1").status == 404);
  }
}

TEST_CASE("outcomes: every failure code maps to the answer it means", "[api][outcome]") {
  const std::string txid(64, 'a');
  struct Case {
    Status failure;
    int status;
    const char* outcome;
  };
  const std::vector<Case> cases{
      {Status::unavailable("stopped"), 503, "refused"},
      {Status::invalid("bad"), 422, "refused"},
      {Status::refused("no"), 422, "refused"},
      {Status::unknown("lost"), 202, "unknown"},
      {Status::io("disk"), 202, "unknown"},
      {Status::corrupt("bits"), 202, "unknown"},
      {Status::error("other"), 202, "unknown"},
  };
  for (const auto& c : cases) {
    INFO(c.failure.reason());
    json item = outcome_item(Result<TxOutcome>(c.failure), txid);
    CHECK(item["status"] == c.status);
    CHECK(item["outcome"] == c.outcome);
    CHECK(item["accepted"] == false);
  }
  TxOutcome replay;
  replay.already_in_ledger = true;
  replay.index = 7;
  replay.reason = "replay";
  json item = outcome_item(replay, txid);
  CHECK(item["status"] == 200);
  CHECK(item["index"] == 7);
  CHECK(item["duplicate"] == "in-ledger");
}

}  // namespace chipledger::testing
