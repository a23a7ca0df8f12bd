// The HTTP/JSON API (docs/api.md) driven through Api::handle over a real
// in-memory node: consortium with fresh keys, Ledger over MemoryStore, a
// CheckpointPublisher and a BlockSequencer on a clock the test controls.
// Proofs the API hands out are checked with crypto/merkle.h against the root
// of a checkpoint verified with the consortium, as a client would.
#include "node/api.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "crypto/merkle.h"
#include "ledger/checkpoint.h"
#include "ledger/transaction_json.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "tests/client/evidence.h"
#include "tests/node/api_test_node.h"
#include "tests/node/reference_answers.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using namespace chipledger::testing;

TEST_CASE("health reports status, ledger id, node id and size", "[api]") {
  TestNode node;
  HttpResponse r = node.get("/v1/health");
  REQUIRE(r.status == 200);
  REQUIRE(r.content_type == "application/json");
  json j = body_of(r);
  REQUIRE(j["status"] == "ok");
  REQUIRE(j["ledger_id"] == "test-ledger");
  REQUIRE(j["node_id"] == "node-1");
  REQUIRE(j["size"] == 0);

  node.submit_ok(register_tx(node.tc(), {"SN1"}));
  REQUIRE(body_of(node.get("/v1/health"))["size"] == 1);
}

TEST_CASE("submit register, transfer, accept: 200 with increasing index and txid", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2"});
  auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  auto acc = accept_tx(tc, "dist", "SN1", xfer.txid);

  REQUIRE(node.submit_ok(reg) == 0);
  REQUIRE(node.submit_ok(xfer) == 1);
  REQUIRE(node.submit_ok(acc) == 2);
  REQUIRE(node.ledger().size() == 3);

  // An acknowledged transaction is covered by the latest checkpoint.
  REQUIRE(node.checkpoint().checkpoint.size == 3);

  // The distributor, now holder, moves it on to the operator (ECDSA author).
  auto xfer2 = transfer_tx(tc, "dist", "SN1", acc.txid, "op", kT0, "US");
  REQUIRE(node.submit_ok(xfer2) == 3);
  REQUIRE(node.submit_ok(reject_tx(tc, "op", "SN1", xfer2.txid)) == 4);
}

TEST_CASE("chip state JSON follows custody", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1"}, kT0 + 5);
  node.submit_ok(reg);

  json j = body_of(node.get("/v1/chips/SN1"));
  REQUIRE(j["serial"] == "SN1");
  REQUIRE(j["status"] == "held");
  REQUIRE(j["holder"] == "maker");
  REQUIRE(j["pending_to"].is_null());
  REQUIRE(j["manufacturer"] == "maker");
  REQUIRE(j["model"] == "H100");
  REQUIRE(j["eccn"] == "3A090");
  REQUIRE(j["last_event"] == hex_encode(reg.txid));
  REQUIRE(j["last_index"] == 0);
  REQUIRE(j["last_time_ms"] == kT0 + 5);
  REQUIRE(j["events"] == 1);

  auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist", kT0 + 7);
  node.submit_ok(xfer);
  j = body_of(node.get("/v1/chips/SN1"));
  REQUIRE(j["status"] == "in-transit");
  REQUIRE(j["holder"] == "maker");
  REQUIRE(j["pending_to"] == "dist");
  REQUIRE(j["last_event"] == hex_encode(xfer.txid));
  REQUIRE(j["last_index"] == 1);
  REQUIRE(j["last_time_ms"] == kT0 + 7);
  REQUIRE(j["events"] == 2);

  auto acc = accept_tx(tc, "dist", "SN1", xfer.txid, kT0 + 9);
  node.submit_ok(acc);
  j = body_of(node.get("/v1/chips/SN1"));
  REQUIRE(j["status"] == "held");
  REQUIRE(j["holder"] == "dist");
  REQUIRE(j["pending_to"].is_null());
  REQUIRE(j["manufacturer"] == "maker");
  REQUIRE(j["last_event"] == hex_encode(acc.txid));
  REQUIRE(j["last_index"] == 2);
  REQUIRE(j["events"] == 3);
}

TEST_CASE("history: every event with a proof against a verified checkpoint", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2"});
  node.submit_ok(reg);
  node.submit_ok(register_tx(tc, {"OTHER"}));
  auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  node.submit_ok(xfer);
  node.submit_ok(transfer_tx(tc, "maker", "SN2", reg.txid, "op", kT0, "US"));
  auto acc = accept_tx(tc, "dist", "SN1", xfer.txid);
  node.submit_ok(acc);

  VerifiedCheckpoint cp = node.checkpoint();
  REQUIRE(cp.checkpoint.size == 5);
  REQUIRE(cp.signers == std::vector<std::string>{"node-1"});

  HttpResponse r = node.get("/v1/chips/SN1/history");
  REQUIRE(r.status == 200);
  json h = body_of(r);
  REQUIRE(h["serial"] == "SN1");
  REQUIRE(h["events"].size() == 3);
  // Only SN1's events, oldest first.
  REQUIRE(h["events"][0]["index"] == 0);
  REQUIRE(h["events"][1]["index"] == 2);
  REQUIRE(h["events"][2]["index"] == 4);
  REQUIRE(h["events"][0]["txid"] == hex_encode(reg.txid));
  REQUIRE(h["events"][1]["txid"] == hex_encode(xfer.txid));
  REQUIRE(h["events"][2]["txid"] == hex_encode(acc.txid));
  check_history_proofs(h, cp.checkpoint);

  // The readable view.
  const json& ev_reg = h["events"][0]["event"];
  REQUIRE(ev_reg["type"] == "register");
  REQUIRE(ev_reg["model"] == "H100");
  REQUIRE(ev_reg["fab_site"] == "Fab 18");
  REQUIRE(ev_reg["country"] == "TW");
  REQUIRE(ev_reg["serials"] == json::array({"SN1", "SN2"}));
  const json& ev_x = h["events"][1]["event"];
  REQUIRE(ev_x["type"] == "transfer");
  REQUIRE(ev_x["to"] == "dist");
  REQUIRE(ev_x["ship_to_country"] == "NL");
  REQUIRE(ev_x["refs"][0]["serial"] == "SN1");
  REQUIRE(ev_x["refs"][0]["prev"] == hex_encode(reg.txid));

  // A proof does not verify for another index or against another root.
  const json& e1 = h["events"][1];
  Bytes wire = must(base64_decode(e1["tx"].get<std::string>()));
  REQUIRE_FALSE(merkle::verify_inclusion(1, 5, merkle::leaf_hash(wire), proof_of(e1["proof"]),
                                         cp.checkpoint.root)
                    .is_ok());
  REQUIRE_FALSE(merkle::verify_inclusion(2, 5, merkle::leaf_hash(wire), proof_of(e1["proof"]),
                                         must(node.ledger().root_at(4)))
                    .is_ok());

  // Explicit ?size= equal to the checkpoint gives the same answer.
  REQUIRE(body_of(node.get("/v1/chips/SN1/history?size=5")) == h);
}

TEST_CASE("history answers are byte for byte the reference rendering, histories the same JSON",
          "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2", "SN3"});
  node.submit_ok(reg);
  node.submit_ok(register_tx(tc, {"OTHER"}));
  auto x1 = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  node.submit_ok(x1);
  auto x2 = transfer_tx(tc, "maker", "SN2", reg.txid, "op", kT0, "US");
  node.submit_ok(x2);
  node.submit_ok(accept_tx(tc, "dist", "SN1", x1.txid));
  node.submit_ok(accept_tx(tc, "op", "SN2", x2.txid));
  REQUIRE(node.checkpoint().checkpoint.size == 6);
  const std::vector<std::string> serials = {"SN1", "SN2", "SN3", "OTHER"};
  for (int round = 0; round < 2; ++round) {  // the second from the caches
    for (uint64_t size = 1; size <= 6; ++size) {
      for (const auto& serial : serials) {
        INFO(serial << " at size " << size);
        HttpResponse r = node.get("/v1/chips/" + serial + "/history?size=" + std::to_string(size));
        if (must(node.ledger().history(serial, size)).empty()) {
          // The 404 carries the state map's absence proof.
          REQUIRE(r.status == 404);
          REQUIRE(r.body == reference::history_json(node.ledger(), serial, size).dump());
          continue;
        }
        REQUIRE(r.status == 200);
        // The reference rendering (tests/node/reference_answers.h): every
        // event read, decoded and proved one at a time, the JSON built
        // directly.
        REQUIRE(r.body == reference::history_json(node.ledger(), serial, size).dump());
      }
      HttpResponse r =
          node.call("POST", "/v1/histories", json{{"serials", serials}, {"size", size}}.dump());
      REQUIRE(r.status == 200);
      // The same document (the text keeps events and serials in the order
      // first met; json::dump() sorts them).
      REQUIRE(json::parse(r.body) == reference::histories_json(node.ledger(), serials, size));
    }
  }
}

TEST_CASE("history?size=N at an older size proves against that size", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1"});
  node.submit_ok(reg);
  node.submit_ok(register_tx(tc, {"SN2"}));
  VerifiedCheckpoint cp2 = node.checkpoint();
  REQUIRE(cp2.checkpoint.size == 2);
  auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  node.submit_ok(xfer);
  VerifiedCheckpoint cp3 = node.checkpoint();
  node.submit_ok(accept_tx(tc, "dist", "SN1", xfer.txid));
  node.submit_ok(register_tx(tc, {"SN3"}));
  REQUIRE(node.checkpoint().checkpoint.size == 5);

  json h2 = body_of(node.get("/v1/chips/SN1/history?size=2"));
  REQUIRE(h2["size"] == 2);
  REQUIRE(h2["events"].size() == 1);
  check_history_proofs(h2, cp2.checkpoint);

  json h3 = body_of(node.get("/v1/chips/SN1/history?size=3"));
  REQUIRE(h3["events"].size() == 2);
  check_history_proofs(h3, cp3.checkpoint);

  // SN3 did not exist at size 3: 404, though it exists now.
  error_of(node.get("/v1/chips/SN3/history?size=3"), 404);
  REQUIRE(node.get("/v1/chips/SN3/history").status == 200);
  // size=0 holds nothing.
  error_of(node.get("/v1/chips/SN1/history?size=0"), 404);
  // Other query parameters are ignored.
  REQUIRE(body_of(node.get("/v1/chips/SN1/history?x=1&size=2")) == h2);
}

TEST_CASE("consistency proofs verify between two checkpoint sizes", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  std::vector<VerifiedCheckpoint> cps;
  for (int i = 0; i < 7; ++i) {
    node.submit_ok(register_tx(tc, {"SN" + std::to_string(i)}));
    cps.push_back(node.checkpoint());
    REQUIRE(cps.back().checkpoint.size == static_cast<uint64_t>(i + 1));
  }
  for (uint64_t from = 1; from <= 7; ++from) {
    for (uint64_t to = from; to <= 7; ++to) {
      HttpResponse r = node.get("/v1/proofs/consistency?from=" + std::to_string(from) +
                                "&to=" + std::to_string(to));
      REQUIRE(r.status == 200);
      json j = body_of(r);
      REQUIRE(j["from"] == from);
      REQUIRE(j["to"] == to);
      const Checkpoint& a = cps[from - 1].checkpoint;
      const Checkpoint& b = cps[to - 1].checkpoint;
      Status st = merkle::verify_consistency(a.size, b.size, a.root, b.root, proof_of(j["proof"]));
      INFO(from << " -> " << to << ": " << st.reason());
      REQUIRE(st.is_ok());
      if (from < to) {
        // It does not prove a different old root.
        REQUIRE_FALSE(
            merkle::verify_consistency(a.size, b.size, b.root, b.root, proof_of(j["proof"]))
                .is_ok());
      }
    }
  }
  // Parameter order does not matter.
  REQUIRE(node.get("/v1/proofs/consistency?to=5&from=2").status == 200);
  error_of(node.get("/v1/proofs/consistency?from=5&to=2"), 400);
  error_of(node.get("/v1/proofs/consistency?from=1&to=8"), 400);
  error_of(node.get("/v1/proofs/consistency?from=1"), 400);
  error_of(node.get("/v1/proofs/consistency?to=3"), 400);
  error_of(node.get("/v1/proofs/consistency"), 400);
  error_of(node.get("/v1/proofs/consistency?from=x&to=3"), 400);
  error_of(node.get("/v1/proofs/consistency?from=1&to=3x"), 400);
}

TEST_CASE("inclusion proofs (receipts) prove each entry at every later size", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  std::vector<Bytes> wires;
  std::vector<VerifiedCheckpoint> cps;
  for (int i = 0; i < 6; ++i) {
    auto stx = register_tx(tc, {"SN" + std::to_string(i)});
    wires.push_back(stx.wire());
    node.submit_ok(stx);
    cps.push_back(node.checkpoint());
  }
  for (uint64_t size = 1; size <= 6; ++size) {
    const Checkpoint& cp = cps[size - 1].checkpoint;
    for (uint64_t index = 0; index < size; ++index) {
      HttpResponse r = node.get("/v1/proofs/inclusion?index=" + std::to_string(index) +
                                "&size=" + std::to_string(size));
      REQUIRE(r.status == 200);
      json j = body_of(r);
      REQUIRE(j["index"] == index);
      REQUIRE(j["size"] == size);
      auto proof = proof_of(j["proof"]);
      INFO(index << " in " << size);
      REQUIRE(merkle::verify_inclusion(index, size, merkle::leaf_hash(wires[index]), proof, cp.root)
                  .is_ok());
      // Not the proof of another entry.
      uint64_t other = (index + 1) % size;
      if (other != index) {
        REQUIRE_FALSE(
            merkle::verify_inclusion(index, size, merkle::leaf_hash(wires[other]), proof, cp.root)
                .is_ok());
      }
    }
  }
  error_of(node.get("/v1/proofs/inclusion?index=6&size=6"), 400);
  error_of(node.get("/v1/proofs/inclusion?index=0&size=7"), 400);
  error_of(node.get("/v1/proofs/inclusion?index=0"), 400);
  error_of(node.get("/v1/proofs/inclusion?size=3"), 400);
  error_of(node.get("/v1/proofs/inclusion?index=x&size=3"), 400);
}

TEST_CASE("members lists the consortium's members and nodes", "[api]") {
  TestNode node;
  HttpResponse r = node.get("/v1/members");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  REQUIRE(j["ledger_id"] == "test-ledger");
  REQUIRE(j["quorum"] == 1);
  REQUIRE(j["members"].size() == 4);
  bool saw_dist = false;
  for (const auto& m : j["members"]) {
    const Member* member = node.consortium().member(m["id"].get<std::string>());
    REQUIRE(member != nullptr);
    REQUIRE(m["name"] == member->name);
    REQUIRE(m["country"] == member->country);
    REQUIRE(m["key_ids"] == json::array({hex_encode(member->keys[0].key_id())}));
    if (m["id"] == "dist") {
      saw_dist = true;
      REQUIRE(m["roles"] == json::array({"distributor"}));
      REQUIRE(m["country"] == "NL");
    }
  }
  REQUIRE(saw_dist);
  REQUIRE(j["nodes"].size() == 1);
  REQUIRE(j["nodes"][0]["id"] == "node-1");
  REQUIRE(j["nodes"][0]["member"] == "maker");
  REQUIRE(j["nodes"][0]["key_id"] == hex_encode(node.tc().node_key().public_key().key_id()));
}

TEST_CASE("checkpoint is a text/plain signed note that verifies", "[api]") {
  TestNode node;
  // Before any block: the genesis checkpoint of the empty log.
  HttpResponse r0 = node.get("/v1/checkpoint");
  REQUIRE(r0.status == 200);
  REQUIRE(r0.content_type == "text/plain; charset=utf-8");
  auto cp0 = verify_checkpoint(node.consortium(), r0.body);
  INFO(cp0.reason());
  REQUIRE(cp0.is_ok());
  REQUIRE(cp0->checkpoint.size == 0);
  REQUIRE(cp0->checkpoint.root == merkle::empty_root());

  node.submit_ok(register_tx(node.tc(), {"SN1"}));
  HttpResponse r = node.get("/v1/checkpoint");
  REQUIRE(r.content_type == "text/plain; charset=utf-8");
  auto cp = verify_checkpoint(node.consortium(), r.body);
  INFO(cp.reason());
  REQUIRE(cp.is_ok());
  REQUIRE(cp->checkpoint.origin == "test-ledger");
  REQUIRE(cp->checkpoint.size == 1);
  REQUIRE(cp->checkpoint.root == must(node.ledger().root_at(1)));
  REQUIRE(cp->signers == std::vector<std::string>{"node-1"});

  // The same note does not verify for another consortium (other node key).
  auto other = make_consortium();
  REQUIRE_FALSE(verify_checkpoint(other->consortium, r.body).is_ok());
}

TEST_CASE("submit: malformed requests get 400 and change nothing", "[api]") {
  TestNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  Bytes wire = reg.wire();
  auto post = [&](const std::string& body) { return node.call("POST", "/v1/transactions", body); };

  SECTION("not JSON") { error_of(post("{\"tx\": "), 400); }
  SECTION("empty body") { error_of(post(""), 400); }
  SECTION("missing tx") { error_of(post(R"({"transaction": "AAAA"})"), 400); }
  SECTION("tx not a string") { error_of(post(R"({"tx": 12})"), 400); }
  SECTION("not an object") { error_of(post(R"(["AAAA"])"), 400); }
  SECTION("bad base64") { error_of(post(R"({"tx": "!!not base64!!"})"), 400); }
  SECTION("truncated tx") {
    Bytes cut(wire.begin(), wire.end() - 10);
    std::string reason = error_of(node.submit_wire(cut), 400);
    REQUIRE_THAT(reason, Catch::Contains("malformed transaction"));
  }
  SECTION("trailing bytes") {
    Bytes longer = wire;
    longer.push_back(0);
    error_of(node.submit_wire(longer), 400);
  }
  SECTION("empty tx") { error_of(node.submit_wire(Bytes{}), 400); }
  REQUIRE(node.ledger().size() == 0);
  REQUIRE(node.blocks.load() == 0);
  // The well-formed one still goes in afterwards.
  REQUIRE(node.submit_ok(reg) == 0);
}

TEST_CASE("submit: bad signatures are refused with 422 before sequencing", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1"});

  SECTION("a flipped signature byte") {
    SignedTransaction bad = reg;
    bad.signature.back() ^= 0x01;
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("signature"));
  }
  SECTION("a body altered after signing") {
    Transaction tx = reg.tx;
    tx.model = "H200";
    SignedTransaction bad{tx, must(encode_body(tx)), reg.signature, {}};
    bad.txid = transaction_id(bad.body);
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("signature"));
  }
  SECTION("signed by a key the member does not have") {
    Transaction tx = reg.tx;
    SignedTransaction bad = must(sign_transaction(tx, fresh_key()));
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("signature"));
  }
  SECTION("another member's key id") {
    Transaction tx = reg.tx;
    tx.key_id = tc.dist.public_key().key_id();
    SignedTransaction bad = must(sign_transaction(tx, tc.dist));
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("not a key of member maker"));
  }
  SECTION("unknown member") {
    Transaction tx = reg.tx;
    tx.author = "mallory";
    SignedTransaction bad = must(sign_transaction(tx, tc.maker));
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("unknown member"));
  }
  SECTION("another ledger") {
    Transaction tx = reg.tx;
    tx.ledger_id = "other-ledger";
    SignedTransaction bad = must(sign_transaction(tx, tc.maker));
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("other-ledger"));
  }
  REQUIRE(node.ledger().size() == 0);
  REQUIRE(node.blocks.load() == 0);
  error_of(node.get("/v1/chips/SN1"), 404);
}

TEST_CASE("submit: a resubmission of a transaction that landed is accepted at its index", "[api]") {
  TestNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  REQUIRE(node.submit_ok(reg) == 0);
  const int blocks = node.blocks.load();
  HttpResponse again = node.submit(reg);
  REQUIRE(again.status == 200);
  // Answered at the door: the index it landed at, no block made for it.
  json j = json::parse(again.body);
  CHECK(j["outcome"] == "accepted");
  CHECK(j["accepted"] == true);
  CHECK(j["duplicate"] == "in-ledger");
  CHECK(j["index"] == 0);
  CHECK(j["txid"] == hex_encode(reg.txid));
  CHECK(node.blocks.load() == blocks);
  REQUIRE(node.ledger().size() == 1);

  // An older event that no longer matches the state is still the same
  // transaction, at the index it landed at.
  auto xfer = transfer_tx(node.tc(), "maker", "SN1", reg.txid, "dist");
  const uint64_t xfer_index = node.submit_ok(xfer);
  node.submit_ok(accept_tx(node.tc(), "dist", "SN1", xfer.txid));
  json k = json::parse(node.submit(xfer).body);
  CHECK(k["outcome"] == "accepted");
  CHECK(k["index"] == xfer_index);
  REQUIRE(node.ledger().size() == 3);
}

TEST_CASE("submit: GET /v1/transactions/TXID says where a transaction is", "[api]") {
  TestNode node;
  auto reg = register_tx(node.tc(), {"SN1"});
  const std::string path = "/v1/transactions/" + hex_encode(reg.txid);
  HttpResponse before = node.get(path);
  REQUIRE(before.status == 404);
  CHECK(json::parse(before.body)["outcome"] == "not-found");
  const uint64_t index = node.submit_ok(register_tx(node.tc(), {"SN0"}));
  REQUIRE(node.submit_ok(reg) == index + 1);
  HttpResponse after = node.get(path);
  REQUIRE(after.status == 200);
  json j = json::parse(after.body);
  CHECK(j["outcome"] == "accepted");
  CHECK(j["index"] == index + 1);
  CHECK(j["size"] == 2);
  CHECK(node.get("/v1/transactions/xyz").status == 400);
  CHECK(node.call("DELETE", path, "").status == 405);
}

TEST_CASE("submit: rule refusals are 422 and change nothing", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1"});
  node.submit_ok(reg);
  Hash zero{};

  SECTION("stale prev") {
    auto bad = transfer_tx(tc, "maker", "SN1", zero, "dist");
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("stale prev"));
    // After a move the old prev is stale too.
    auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
    node.submit_ok(xfer);
    auto stale = accept_tx(tc, "dist", "SN1", reg.txid);
    REQUIRE_THAT(refusal_of(node.submit(stale), stale), Catch::Contains("stale prev"));
    REQUIRE(node.ledger().size() == 2);
  }
  SECTION("not the holder") {
    auto bad = transfer_tx(tc, "dist", "SN1", reg.txid, "op");
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("only the holder"));
    REQUIRE(node.ledger().size() == 1);
  }
  SECTION("register by a non-manufacturer") {
    auto bad = register_tx(tc, {"SN9"}, kT0, "dist");
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("manufacturer"));
    REQUIRE(node.ledger().size() == 1);
  }
  SECTION("registered twice") {
    auto again = register_tx(tc, {"SN1"}, kT0 + 1);
    REQUIRE_THAT(refusal_of(node.submit(again), again), Catch::Contains("already registered"));
    REQUIRE(node.ledger().size() == 1);
  }
  SECTION("unknown serial") {
    auto bad = transfer_tx(tc, "maker", "NOPE", zero, "dist");
    REQUIRE_THAT(refusal_of(node.submit(bad), bad), Catch::Contains("not registered"));
  }
  // The chip is untouched.
  json j = body_of(node.get("/v1/chips/SN1"));
  REQUIRE(j["events"].get<uint64_t>() >= 1);
}

TEST_CASE("submit: a transaction outside the allowed clock skew is 422", "[api]") {
  SECTION("default policy, node clock one hour ahead and behind") {
    TestNode node;
    auto ahead = register_tx(node.tc(), {"SN1"}, kT0);
    node.now_ms = kT0 + 3600 * 1000;
    std::string reason = refusal_of(node.submit(ahead), ahead);
    REQUIRE_THAT(reason, Catch::Contains("3600 s"));
    REQUIRE_THAT(reason, Catch::Contains("at most 600 s is allowed"));

    node.now_ms = kT0 - 3600 * 1000;
    reason = refusal_of(node.submit(ahead), ahead);
    REQUIRE_THAT(reason, Catch::Contains("at most 600 s is allowed"));
    REQUIRE(node.ledger().size() == 0);

    // Within the skew it goes in.
    node.now_ms = kT0 + 599 * 1000;
    REQUIRE(node.submit_ok(ahead) == 0);
  }
  SECTION("the consortium's own policy is what is named") {
    Policy p;
    p.max_clock_skew_ms = 120 * 1000;
    TestNode node(make_consortium("test-ledger", 1, 1, p));
    auto tx = register_tx(node.tc(), {"SN1"}, kT0);
    node.now_ms = kT0 + 3600 * 1000;
    REQUIRE_THAT(refusal_of(node.submit(tx), tx), Catch::Contains("at most 120 s is allowed"));
    node.now_ms = kT0 + 121 * 1000;
    REQUIRE_THAT(refusal_of(node.submit(tx), tx), Catch::Contains("at most 120 s is allowed"));
    node.now_ms = kT0 + 120 * 1000;
    REQUIRE(node.submit_ok(tx) == 0);
  }
}

TEST_CASE("reading chips: 404 for unknown serials, 400 for bad ones", "[api]") {
  TestNode node;
  node.submit_ok(register_tx(node.tc(), {"SN1"}));

  REQUIRE_THAT(error_of(node.get("/v1/chips/SN2"), 404), Catch::Contains("SN2"));
  error_of(node.get("/v1/chips/SN2/history"), 404);

  SECTION("bad serial characters") {
    error_of(node.get("/v1/chips/SN%201"), 400);                   // space
    error_of(node.get("/v1/chips/SN!1"), 400);                     // '!'
    error_of(node.get("/v1/chips/SN%00"), 400);                    // NUL
    error_of(node.get("/v1/chips/SN%3F1"), 400);                   // '?'
    error_of(node.get("/v1/chips/"), 400);                         // empty
    error_of(node.get("/v1/chips/" + std::string(65, 'A')), 400);  // too long
    error_of(node.get("/v1/chips/SN!1/history"), 400);
  }
  SECTION("bad percent escapes") {
    error_of(node.get("/v1/chips/SN%2"), 400);
    error_of(node.get("/v1/chips/SN%"), 400);
    error_of(node.get("/v1/chips/SN%zz1"), 400);
  }
  SECTION("bad size query") {
    error_of(node.get("/v1/chips/SN1/history?size=abc"), 400);
    error_of(node.get("/v1/chips/SN1/history?size="), 400);
    error_of(node.get("/v1/chips/SN1/history?size=-1"), 400);
    error_of(node.get("/v1/chips/SN1/history?size=1x"), 400);
    error_of(node.get("/v1/chips/SN1/history?size=99999999999999999999999"), 400);
  }
  SECTION("size beyond the log") {
    REQUIRE_THAT(error_of(node.get("/v1/chips/SN1/history?size=2"), 400),
                 Catch::Contains("beyond"));
    error_of(node.get("/v1/chips/SN1/history?size=18446744073709551615"), 400);
    REQUIRE(node.get("/v1/chips/SN1/history?size=1").status == 200);
  }
}

TEST_CASE("routing: unknown paths 404, wrong methods 405", "[api]") {
  TestNode node;
  node.submit_ok(register_tx(node.tc(), {"SN1"}));

  for (const char* path : {"/", "/v1", "/v2/health", "/v1/nope", "/v1/health/x",
                           "/v1/chips/SN1/nope", "/v1/chips/SN1/history/x", "/v1/proofs",
                           "/v1/proofs/nope", "/v1/transactions/x/y", "/health"}) {
    INFO(path);
    error_of(node.get(path), 404);
  }
  error_of(node.call("GET", "/v1/transactions"), 405);
  error_of(node.call("PUT", "/v1/transactions", "{}"), 405);
  error_of(node.call("POST", "/v1/health"), 405);
  error_of(node.call("POST", "/v1/checkpoint"), 405);
  error_of(node.call("DELETE", "/v1/chips/SN1"), 405);
  error_of(node.call("POST", "/v1/chips/SN1/history"), 405);
  error_of(node.call("PUT", "/v1/members"), 405);
  error_of(node.call("POST", "/v1/proofs/consistency?from=1&to=1"), 405);
  // Nothing was written by any of them.
  REQUIRE(node.ledger().size() == 1);
}

TEST_CASE("a percent-encoded serial with '/' and ':' works", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  const std::string serial = "LOT:7/SN-1.a_b";
  auto reg = register_tx(tc, {serial});
  node.submit_ok(reg);
  auto xfer = transfer_tx(tc, "maker", serial, reg.txid, "dist");
  node.submit_ok(xfer);

  for (const char* target : {"/v1/chips/LOT%3A7%2FSN-1.a_b", "/v1/chips/LOT:7%2FSN-1.a_b",
                             "/v1/chips/LOT%3a7%2fSN-1.a_b"}) {
    INFO(target);
    HttpResponse r = node.get(target);
    REQUIRE(r.status == 200);
    json j = body_of(r);
    REQUIRE(j["serial"] == serial);
    REQUIRE(j["status"] == "in-transit");
    REQUIRE(j["pending_to"] == "dist");
  }
  json h = body_of(node.get("/v1/chips/LOT%3A7%2FSN-1.a_b/history?size=2"));
  REQUIRE(h["serial"] == serial);
  REQUIRE(h["events"].size() == 2);
  check_history_proofs(h, node.checkpoint().checkpoint);

  // Unencoded, the '/' splits the path: not this chip.
  REQUIRE(node.get("/v1/chips/LOT:7/SN-1.a_b").status == 404);
}

TEST_CASE("concurrent submissions through the API each get one answer", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  constexpr int kN = 40;
  std::vector<SignedTransaction> txs;
  for (int i = 0; i < kN; ++i) txs.push_back(register_tx(tc, {"C" + std::to_string(i)}));
  // Four threads hand requests to the API at once; the answers come back
  // from the sequencer thread.
  std::vector<std::future<HttpResponse>> answers(kN);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kN; i += 4) answers[i] = node.send_submit(txs[i]);
    });
  }
  for (auto& th : threads) th.join();
  std::vector<bool> seen(kN, false);
  for (auto& a : answers) {
    REQUIRE(a.wait_for(10s) == std::future_status::ready);
    HttpResponse r = a.get();
    REQUIRE(r.status == 200);
    uint64_t index = body_of(r)["index"].get<uint64_t>();
    REQUIRE(index < static_cast<uint64_t>(kN));
    REQUIRE_FALSE(seen[index]);
    seen[index] = true;
  }
  REQUIRE(node.ledger().size() == kN);
  REQUIRE(node.checkpoint().checkpoint.size == kN);
}

TEST_CASE("histories: many serials at one size, each shared event once", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  auto reg = register_tx(tc, {"SN1", "SN2", "SN3"});
  node.submit_ok(reg);
  auto xfer = transfer_tx(tc, "maker", "SN1", reg.txid, "dist");
  node.submit_ok(xfer);
  node.submit_ok(register_tx(tc, {"OTHER"}));
  VerifiedCheckpoint cp = node.checkpoint();
  REQUIRE(cp.checkpoint.size == 3);

  HttpResponse r =
      node.call("POST", "/v1/histories", json{{"serials", {"SN1", "SN2", "NOPE"}}}.dump());
  json b = body_of(r);
  REQUIRE(r.status == 200);
  REQUIRE(b["size"] == 3);
  REQUIRE(b["root"] == hex_encode(cp.checkpoint.root));
  REQUIRE(b["histories"]["SN1"] == json::array({0, 1}));
  REQUIRE(b["histories"]["SN2"] == json::array({0}));
  REQUIRE(b["histories"]["NOPE"].is_null());
  REQUIRE(b["events"].size() == 2);  // the register once, though both serials name it
  for (const auto& [index, e] : b["events"].items()) {
    Bytes wire = must(base64_decode(e["tx"].get<std::string>()));
    REQUIRE(e["txid"] == hex_encode(must(SignedTransaction::decode(wire)).txid));
    Status st = merkle::verify_inclusion(std::stoull(index), 3, merkle::leaf_hash(wire),
                                         proof_of(e["proof"]), cp.checkpoint.root);
    INFO(st.reason());
    REQUIRE(st.is_ok());
  }
  REQUIRE(b["events"]["1"]["txid"] == hex_encode(xfer.txid));

  // At an older size: proofs for that size, later events left out.
  json old =
      body_of(node.call("POST", "/v1/histories", json{{"serials", {"SN1"}}, {"size", 1}}.dump()));
  REQUIRE(old["size"] == 1);
  REQUIRE(old["histories"]["SN1"] == json::array({0}));

  error_of(node.call("POST", "/v1/histories", "not json"), 400);
  error_of(node.call("POST", "/v1/histories", json{{"serial", "SN1"}}.dump()), 400);
  error_of(node.call("POST", "/v1/histories", json{{"serials", {"bad serial"}}}.dump()), 400);
  error_of(node.call("POST", "/v1/histories", json{{"serials", {1}}}.dump()), 400);
  REQUIRE_THAT(
      error_of(node.call("POST", "/v1/histories", json{{"serials", {"SN1"}}, {"size", 9}}.dump()),
               400),
      Catch::Contains("beyond the log"));
  std::vector<std::string> many(1001, "SN1");
  REQUIRE_THAT(error_of(node.call("POST", "/v1/histories", json{{"serials", many}}.dump()), 400),
               Catch::Contains("at most 1000 serials"));
  error_of(node.get("/v1/histories"), 405);
}

TEST_CASE("licenses: GET /v1/licenses/ID shows terms and use, 404 when unknown", "[api]") {
  TestNode node;
  const auto& tc = node.tc();
  Transaction lic = base_tx(tc, TxType::license, "reg", kT0);
  lic.license = {"EXP-2026-1", "maker", "dist", "H100", "", 5, "AE", kT0 + 86400000};
  uint64_t index = node.submit_ok(sign(tc, lic));

  json l = body_of(node.get("/v1/licenses/EXP-2026-1"));
  REQUIRE(l["id"] == "EXP-2026-1");
  REQUIRE(l["issuer"] == "reg");
  REQUIRE(l["exporter"] == "maker");
  REQUIRE(l["recipient"] == "dist");
  REQUIRE(l["model"] == "H100");
  REQUIRE(l["quantity"] == 5);
  REQUIRE(l["used"] == 0);
  REQUIRE(l["remaining"] == 5);
  REQUIRE(l["destination"] == "AE");
  REQUIRE(l["expiry_ms"] == kT0 + 86400000);
  REQUIRE(l["index"] == index);

  REQUIRE_THAT(error_of(node.get("/v1/licenses/NOPE"), 404), Catch::Contains("NOPE"));
  error_of(node.call("POST", "/v1/licenses/EXP-2026-1"), 405);
  error_of(node.get("/v1/licenses/EXP-2026-1/x"), 404);
}

}  // namespace
}  // namespace chipledger
