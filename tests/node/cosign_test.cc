// Cosigned checkpoints (docs/checkpoint.md, "Cosigning"): three nodes of one
// consortium (quorum 2), each a Ledger over MemoryStore with its own
// CheckpointPublisher, fed the same blocks. Signatures gathered from peers
// are kept only when they verify against the consortium's node keys and the
// root matches this node's log; the served checkpoint is the newest with a
// quorum; a node shown a checkpoint it signed over another root stops.
// The HTTP endpoint (POST /v1/checkpoint/signatures) and the sender threads
// are exercised too.
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "node/api.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "node/cosign_sender.h"
#include "node/http_server.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;
using json = nlohmann::json;

struct Replica {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<CheckpointPublisher> cps;
  std::vector<std::string> fatal;  // reasons the fatal handler got
};

// Three replicas of one consortium (quorum 2), nothing applied yet.
struct Trio {
  std::unique_ptr<TestConsortium> tc = make_consortium("cosign-test", 2, 3);
  std::vector<std::unique_ptr<Replica>> nodes;

  Trio() {
    for (size_t i = 0; i < 3; ++i) nodes.push_back(replica(i));
  }

  std::unique_ptr<Replica> replica(size_t i) {
    auto r = std::make_unique<Replica>();
    r->ledger = open_memory_ledger(tc->consortium);
    Replica* raw = r.get();
    r->cps = std::make_unique<CheckpointPublisher>(
        *r->ledger, tc->node_id(i), tc->node_key(i),
        [raw](const std::string& reason) { raw->fatal.push_back(reason); });
    must_ok(r->cps->refresh());
    return r;
  }

  CheckpointPublisher& cps(size_t i) { return *nodes[i]->cps; }

  // Applies the same block on the given replicas and re-signs there.
  void apply(const std::vector<SignedTransaction>& txs, std::vector<size_t> which = {0, 1, 2}) {
    for (size_t i : which) {
      apply_all(*nodes[i]->ledger, txs);
      must_ok(nodes[i]->cps->refresh());
    }
  }

  // Node i's newest checkpoint carrying only its own signature.
  std::string own_note(size_t i) {
    ServedCheckpoint n = cps(i).newest();
    auto parsed = must(parse_note(n.note));
    SignedNote only{parsed.text, {}};
    for (const auto& s : parsed.signatures) {
      if (s.name == tc->node_id(i)) only.signatures.push_back(s);
    }
    REQUIRE(only.signatures.size() == 1);
    return format_note(only);
  }
};

// A checkpoint note over (size, root, state root) cosigned by `name` with
// `key`, now.
std::string note_by(const std::string& ledger_id, uint64_t size, const Hash& root,
                    const Hash& state_root, const std::string& name, const PrivateKey& key) {
  return must(sign_checkpoint(Checkpoint::make(ledger_id, size, root, state_root), name, key,
                              CheckpointSigner::system_ms() / 1000));
}

}  // namespace

TEST_CASE("cosigning: peers' signatures are gathered until a checkpoint has a quorum", "[cosign]") {
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  // Alone, node 1's checkpoint has one signature of the two the quorum needs.
  ServedCheckpoint alone = t.cps(0).served();
  CHECK(alone.size == 1);
  CHECK_FALSE(alone.quorum);
  CHECK(alone.signers == std::vector<std::string>{"node-1"});
  REQUIRE_FALSE(verify_checkpoint(t.tc->consortium, alone.note));

  CosignOutcome o = t.cps(0).add_signatures(t.own_note(1));
  REQUIRE(o.kind == CosignOutcome::Kind::kept);
  CHECK(o.size == 1);
  CHECK(o.signers == std::vector<std::string>{"node-1", "node-2"});
  ServedCheckpoint two = t.cps(0).served();
  CHECK(two.size == 1);
  CHECK(two.quorum);
  auto verified = must(verify_checkpoint(t.tc->consortium, two.note));
  CHECK(verified.signers == std::vector<std::string>{"node-1", "node-2"});
  // Kept in the ledger's checkpoint column too (GET /v1/checkpoint?size=1).
  auto stored = must(t.nodes[0]->ledger->checkpoint_at(1));
  REQUIRE(stored.has_value());
  CHECK(must(verify_checkpoint(t.tc->consortium, *stored)).signers.size() == 2);

  // The same signature again changes nothing; the third one is added.
  CHECK(t.cps(0).add_signatures(t.own_note(1)).signers.size() == 2);
  CHECK(t.cps(0).add_signatures(t.own_note(2)).signers.size() == 3);
  CHECK(t.cps(0).served().signers.size() == 3);

  // A newer checkpoint without a quorum yet: the served one stays the newest
  // with a quorum; the newest is there with its one signature.
  t.apply({register_tx(*t.tc, {"SN-2"})});
  CHECK(t.cps(0).served().size == 1);
  CHECK(t.cps(0).served().quorum);
  CHECK(t.cps(0).newest().size == 2);
  CHECK_FALSE(t.cps(0).newest().quorum);
  // A whole note from a peer (its own and others' signatures) counts each.
  REQUIRE(t.cps(2).add_signatures(t.own_note(1)).kind == CosignOutcome::Kind::kept);
  REQUIRE(t.cps(0).add_signatures(t.cps(2).newest().note).kind == CosignOutcome::Kind::kept);
  CHECK(t.cps(0).served().size == 2);
  CHECK(t.cps(0).served().signers.size() == 3);
  CHECK(t.nodes[0]->fatal.empty());
}

TEST_CASE("cosigning: a signature on a size this node has not reached waits for it", "[cosign]") {
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  t.apply({register_tx(*t.tc, {"SN-2"}), register_tx(*t.tc, {"SN-3"})}, {1, 2});
  CosignOutcome o = t.cps(0).add_signatures(t.own_note(1));
  REQUIRE(o.kind == CosignOutcome::Kind::pending);
  CHECK(o.size == 3);
  CHECK(t.cps(0).served().size == 1);
  CHECK_FALSE(t.cps(0).served().quorum);

  // Node 1 applies the block: its own signature and the waiting one meet.
  t.apply({register_tx(*t.tc, {"SN-2"}), register_tx(*t.tc, {"SN-3"})}, {0});
  ServedCheckpoint s = t.cps(0).served();
  CHECK(s.size == 3);
  CHECK(s.quorum);
  CHECK(s.signers == std::vector<std::string>{"node-1", "node-2"});
}

TEST_CASE("cosigning: bad signatures, unknown nodes, other ledgers and other roots are refused",
          "[cosign]") {
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  ServedCheckpoint mine = t.cps(0).newest();
  const std::string& lid = t.tc->ledger_id;
  using Kind = CosignOutcome::Kind;

  SECTION("a signature that does not verify") {
    auto parsed = must(parse_note(t.own_note(1)));
    parsed.signatures[0].signature[5] ^= 0x40;
    CosignOutcome o = t.cps(0).add_signatures(format_note(parsed));
    CHECK(o.kind == Kind::refused);
    CHECK_THAT(o.reason, Catch::Contains("does not verify"));
  }
  SECTION("a listed node's name with another key") {
    CosignOutcome o =
        t.cps(0).add_signatures(note_by(lid, 1, mine.root, mine.state_root, "node-2", fresh_key()));
    CHECK(o.kind == Kind::refused);
    CHECK_THAT(o.reason, Catch::Contains("not by its key at that size"));
  }
  SECTION("a node the consortium does not list") {
    CosignOutcome o =
        t.cps(0).add_signatures(note_by(lid, 1, mine.root, mine.state_root, "node-9", fresh_key()));
    CHECK(o.kind == Kind::refused);
    CHECK_THAT(o.reason, Catch::Contains("does not list"));
  }
  SECTION("another ledger's checkpoint") {
    CosignOutcome o = t.cps(0).add_signatures(
        note_by("other-ledger", 1, mine.root, mine.state_root, "node-2", t.tc->node_key(1)));
    CHECK(o.kind == Kind::refused);
    CHECK_THAT(o.reason, Catch::Contains("not for ledger"));
  }
  SECTION("not a note") {
    CHECK(t.cps(0).add_signatures("hello\n").kind == Kind::refused);
    CHECK(t.cps(0).add_signatures("").kind == Kind::refused);
  }
  SECTION("a peer's valid signature on another root for this size: a conflict, not kept") {
    Hash other = mine.root;
    other[0] ^= 1;
    CosignOutcome o = t.cps(0).add_signatures(
        note_by(lid, 1, other, mine.state_root, "node-2", t.tc->node_key(1)));
    CHECK(o.kind == Kind::conflict);
    CHECK_THAT(o.reason, Catch::Contains("this node's ledger has root"));
    CHECK(t.nodes[0]->fatal.empty());  // the peer disagrees; this node's own history holds
    CHECK_FALSE(t.cps(0).failed());
  }
  SECTION("a peer's valid signature on this log root with another state root: a conflict") {
    Hash other_state = mine.state_root;
    other_state[0] ^= 1;
    CosignOutcome o = t.cps(0).add_signatures(
        note_by(lid, 1, mine.root, other_state, "node-2", t.tc->node_key(1)));
    CHECK(o.kind == Kind::conflict);
    CHECK_THAT(o.reason, Catch::Contains("state root"));
    CHECK(t.nodes[0]->fatal.empty());
    CHECK_FALSE(t.cps(0).failed());
  }
  SECTION("a peer's note that commits to no state root") {
    CosignOutcome o = t.cps(0).add_signatures(
        must(sign_checkpoint(Checkpoint{lid, 1, mine.root, {}}, "node-2", t.tc->node_key(1),
                             CheckpointSigner::system_ms() / 1000)));
    CHECK(o.kind == Kind::refused);
    CHECK_THAT(o.reason, Catch::Contains("no state root"));
  }
  // Nothing was kept: node 1's checkpoint still has only its own signature.
  CHECK(t.cps(0).newest().signers == std::vector<std::string>{"node-1"});
  CHECK(t.cps(0).served().signers == std::vector<std::string>{"node-1"});
}

TEST_CASE("cosigning: a good signature next to an unknown node's is kept, the unknown one dropped",
          "[cosign]") {
  // A node not in force at the size (removed, or added after it) may sit in
  // a peer's note; it never counts, and does not cost the good ones.
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  ServedCheckpoint mine = t.cps(0).newest();
  auto parsed = must(parse_note(t.own_note(1)));
  auto stranger = must(
      parse_note(note_by(t.tc->ledger_id, 1, mine.root, mine.state_root, "node-9", fresh_key())));
  parsed.signatures.push_back(stranger.signatures[0]);
  CosignOutcome o = t.cps(0).add_signatures(format_note(parsed));
  INFO(o.reason);
  CHECK(o.kind == CosignOutcome::Kind::kept);
  CHECK(t.cps(0).newest().signers == std::vector<std::string>{"node-1", "node-2"});
  CHECK(t.cps(0).newest().note.find("node-9") == std::string::npos);
}

TEST_CASE("cosigning fail-stop: a node shown its own signature on another root stops", "[cosign]") {
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  // A checkpoint of another history at size 1, signed with node 1's key and
  // cosigned by node 2 (as if node 1 had once applied something else).
  auto other = open_memory_ledger(t.tc->consortium);
  apply_all(*other, {register_tx(*t.tc, {"SN-OTHER"})});
  Hash other_root = must(other->root_at(1));
  Hash other_state = must(other->state_root_at(1));
  auto note = must(parse_note(
      note_by(t.tc->ledger_id, 1, other_root, other_state, "node-1", t.tc->node_key(0))));
  note.signatures.push_back(must(parse_note(note_by(t.tc->ledger_id, 1, other_root, other_state,
                                                    "node-2", t.tc->node_key(1))))
                                .signatures[0]);

  CosignOutcome o = t.cps(0).add_signatures(format_note(note));
  CHECK(o.kind == CosignOutcome::Kind::conflict);
  REQUIRE(t.nodes[0]->fatal.size() == 1);
  CHECK_THAT(t.nodes[0]->fatal[0],
             Catch::Contains("its history disagrees with a checkpoint it signed"));
  CHECK(t.cps(0).failed());
  // It signs nothing more and takes no more signatures.
  apply_all(*t.nodes[0]->ledger, {register_tx(*t.tc, {"SN-2"})});
  Status again = t.cps(0).refresh();
  REQUIRE_FALSE(again);
  CHECK_THAT(again.reason(), Catch::Contains("stopped signing"));
  CHECK(t.cps(0).add_signatures(t.own_note(1)).kind == CosignOutcome::Kind::stopped);
  CHECK(t.nodes[0]->fatal.size() == 1);  // the handler runs once
}

TEST_CASE("cosigning fail-stop: a checkpoint kept on disk that the log no longer matches",
          "[cosign]") {
  auto tc = make_consortium("cosign-test", 2, 3);
  auto ledger = open_memory_ledger(tc->consortium);
  apply_all(*ledger, {register_tx(*tc, {"SN-1"})});
  // What this node signed at size 1 before "a restart" was another root.
  Hash other = must(ledger->root_at(1));
  other[3] ^= 0x10;
  must_ok(ledger->save_checkpoint(
      1,
      note_by(tc->ledger_id, 1, other, must(ledger->state_root_at(1)), "node-1", tc->node_key(0))));
  std::vector<std::string> fatal;
  CheckpointPublisher cps(*ledger, "node-1", tc->node_key(0),
                          [&](const std::string& r) { fatal.push_back(r); });
  Status st = cps.refresh();
  REQUIRE_FALSE(st);
  CHECK_THAT(st.reason(), Catch::Contains("signed checkpoint 1 with root"));
  CHECK(fatal.size() == 1);
  CHECK(cps.failed());
}

TEST_CASE("cosigning fail-stop: shown its own signature on its log root with another state root",
          "[cosign][state]") {
  Trio t;
  t.apply({register_tx(*t.tc, {"SN-1"})});
  ServedCheckpoint mine = t.cps(0).newest();
  REQUIRE(mine.state_root == must(t.nodes[0]->ledger->state_root_at(1)));
  Hash other_state = mine.state_root;
  other_state[7] ^= 4;
  CosignOutcome o = t.cps(0).add_signatures(
      note_by(t.tc->ledger_id, 1, mine.root, other_state, "node-1", t.tc->node_key(0)));
  CHECK(o.kind == CosignOutcome::Kind::conflict);
  REQUIRE(t.nodes[0]->fatal.size() == 1);
  CHECK_THAT(t.nodes[0]->fatal[0],
             Catch::Contains("state root") && Catch::Contains("its history disagrees"));
  CHECK(t.cps(0).failed());
}

TEST_CASE("cosigning fail-stop: a checkpoint kept on disk with another state root",
          "[cosign][state]") {
  auto tc = make_consortium("cosign-test", 2, 3);
  auto ledger = open_memory_ledger(tc->consortium);
  apply_all(*ledger, {register_tx(*tc, {"SN-1"})});
  Hash other_state = must(ledger->state_root_at(1));
  other_state[0] ^= 0x10;
  must_ok(ledger->save_checkpoint(1, note_by(tc->ledger_id, 1, must(ledger->root_at(1)),
                                             other_state, "node-1", tc->node_key(0))));
  std::vector<std::string> fatal;
  CheckpointPublisher cps(*ledger, "node-1", tc->node_key(0),
                          [&](const std::string& r) { fatal.push_back(r); });
  Status st = cps.refresh();
  REQUIRE_FALSE(st);
  CHECK_THAT(st.reason(), Catch::Contains("state root"));
  CHECK(fatal.size() == 1);
}

TEST_CASE("cosigning: a note stored before checkpoints had a state root does not count",
          "[cosign][state]") {
  auto tc = make_consortium("cosign-test", 2, 3);
  auto ledger = open_memory_ledger(tc->consortium);
  apply_all(*ledger, {register_tx(*tc, {"SN-1"})});
  // A quorum's signatures on the old format (no state-root line) at size 1.
  Checkpoint legacy{tc->ledger_id, 1, must(ledger->root_at(1)), {}};
  uint64_t now = CheckpointSigner::system_ms() / 1000;
  auto old = must(parse_note(must(sign_checkpoint(legacy, "node-1", tc->node_key(0), now))));
  old.signatures.push_back(
      must(parse_note(must(sign_checkpoint(legacy, "node-2", tc->node_key(1), now))))
          .signatures[0]);
  must_ok(ledger->save_checkpoint(1, format_note(old)));
  CheckpointPublisher cps(*ledger, "node-1", tc->node_key(0));
  must_ok(cps.refresh());  // no fail-stop: the old note is not read back
  ServedCheckpoint s = cps.served();
  CHECK(s.size == 1);
  CHECK_FALSE(s.quorum);  // node-2's old-format signature is not served
  CHECK(s.signers == std::vector<std::string>{"node-1"});
  auto parsed = must(Checkpoint::parse(must(parse_note(s.note)).text));
  CHECK(parsed.state_root() == must(ledger->state_root_at(1)));
}

TEST_CASE("cosigning fail-stop: a waiting signature of this node on another root", "[cosign]") {
  Trio t;
  auto other = open_memory_ledger(t.tc->consortium);
  apply_all(*other, {register_tx(*t.tc, {"SN-OTHER"})});
  std::string note = note_by(t.tc->ledger_id, 1, must(other->root_at(1)),
                             must(other->state_root_at(1)), "node-1", t.tc->node_key(0));
  // A peer's signature on the true root waits there already: this node's
  // own signature on another root takes its place (it decides).
  t.apply({register_tx(*t.tc, {"SN-1"})}, {1});
  REQUIRE(t.cps(0).add_signatures(t.own_note(1)).kind == CosignOutcome::Kind::pending);
  REQUIRE(t.cps(0).add_signatures(note).kind == CosignOutcome::Kind::pending);
  apply_all(*t.nodes[0]->ledger, {register_tx(*t.tc, {"SN-1"})});
  REQUIRE_FALSE(t.cps(0).refresh());
  CHECK(t.cps(0).failed());
  CHECK(t.nodes[0]->fatal.size() == 1);
}

TEST_CASE("cosigning over HTTP: POST /v1/checkpoint/signatures and GET /v1/checkpoint's flag",
          "[cosign][api]") {
  Trio t;
  Replica& r = *t.nodes[0];
  BlockSequencer seq(
      *r.ledger, [] { return kT0; }, BlockSequencer::Options{1ms, 100},
      [&r] { (void)r.cps->refresh(); });
  seq.start();
  Api api(*r.ledger, seq, *r.cps, "node-1");
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    std::promise<HttpResponse> p;
    auto f = p.get_future();
    api.handle(HttpRequest{method, target, body}, [&p](HttpResponse res) { p.set_value(res); });
    return f.get();
  };
  t.apply({register_tx(*t.tc, {"SN-1"})});
  auto header = [](const HttpResponse& res, const std::string& name) {
    for (const auto& [n, v] : res.headers) {
      if (n == name) return v;
    }
    return std::string();
  };

  HttpResponse before = call("GET", "/v1/checkpoint", "");
  CHECK(before.status == 200);
  CHECK(header(before, "Chipledger-Checkpoint-Quorum") == "not-met");
  CHECK(header(before, "Chipledger-Checkpoint-Signers") == "1");

  HttpResponse ok = call("POST", "/v1/checkpoint/signatures", t.own_note(2));
  REQUIRE(ok.status == 200);
  json j = json::parse(ok.body);
  CHECK(j["size"] == 1);
  CHECK(j["kept"] == "kept");
  CHECK(j["signers"] == json::array({"node-1", "node-3"}));
  HttpResponse after = call("GET", "/v1/checkpoint", "");
  CHECK(header(after, "Chipledger-Checkpoint-Quorum") == "met");
  CHECK(must(verify_checkpoint(t.tc->consortium, after.body)).signers.size() == 2);
  json health = json::parse(call("GET", "/v1/health", "").body);
  CHECK(health["checkpoint"]["size"] == 1);
  CHECK(health["checkpoint"]["quorum"] == true);
  CHECK(health["checkpoint"]["signers"].size() == 2);

  HttpResponse unknown = call("POST", "/v1/checkpoint/signatures",
                              note_by(t.tc->ledger_id, 1, r.cps->newest().root,
                                      r.cps->newest().state_root, "node-7", fresh_key()));
  CHECK(unknown.status == 403);
  CHECK_THAT(json::parse(unknown.body)["error"].get<std::string>(), Catch::Contains("node-7"));
  Hash other = r.cps->newest().root;
  other[1] ^= 2;
  HttpResponse conflict = call(
      "POST", "/v1/checkpoint/signatures",
      note_by(t.tc->ledger_id, 1, other, r.cps->newest().state_root, "node-2", t.tc->node_key(1)));
  CHECK(conflict.status == 409);
  Hash other_state = r.cps->newest().state_root;
  other_state[2] ^= 8;
  HttpResponse state_conflict = call(
      "POST", "/v1/checkpoint/signatures",
      note_by(t.tc->ledger_id, 1, r.cps->newest().root, other_state, "node-2", t.tc->node_key(1)));
  CHECK(state_conflict.status == 409);
  CHECK_THAT(json::parse(state_conflict.body)["error"].get<std::string>(),
             Catch::Contains("state root"));
  CHECK(call("GET", "/v1/checkpoint/signatures", "").status == 405);
  seq.stop();
}

TEST_CASE("cosigning: the sender delivers each node's newest checkpoint to its peers", "[cosign]") {
  Trio t;
  // Node 2 and 3 serve the API on loopback; node 1 sends to both.
  std::vector<std::unique_ptr<BlockSequencer>> seqs;
  std::vector<std::unique_ptr<Api>> apis;
  std::vector<std::unique_ptr<HttpServer>> servers;
  std::vector<std::string> urls;
  for (size_t i = 1; i < 3; ++i) {
    Replica& r = *t.nodes[i];
    seqs.push_back(std::make_unique<BlockSequencer>(
        *r.ledger, [] { return kT0; }, BlockSequencer::Options{1ms, 100}, nullptr));
    apis.push_back(std::make_unique<Api>(*r.ledger, *seqs.back(), *r.cps, t.tc->node_id(i)));
    Api* api = apis.back().get();
    servers.push_back(must(HttpServer::bind(
        HttpServerOptions{"127.0.0.1", 0, 1 << 20, 1},
        [api](HttpRequest req, Responder respond) { api->handle(std::move(req), respond); })));
    servers.back()->start();
    urls.push_back("http://127.0.0.1:" + std::to_string(servers.back()->port()));
  }
  // A peer that is not there: retried, and it holds up nobody.
  urls.push_back("http://127.0.0.1:" + std::to_string(free_port()));
  CosignSender sender(t.cps(0), urls, CosignSender::Options{1000ms, 10ms, 100ms});
  sender.start();
  for (int block = 1; block <= 5; ++block) {
    t.apply({register_tx(*t.tc, {"SN-" + std::to_string(block)})});
    for (size_t i = 1; i < 3; ++i) {
      INFO("block " << block << ", node " << i + 1);
      REQUIRE(eventually([&] {
        ServedCheckpoint s = t.cps(i).served();
        return s.size == static_cast<uint64_t>(block) && s.quorum;
      }));
      CHECK(must(verify_checkpoint(t.tc->consortium, t.cps(i).served().note)).signers ==
            std::vector<std::string>{"node-1", t.tc->node_id(i)});
    }
  }
  CHECK(sender.delivered() >= 2);
  sender.stop();
  for (auto& s : servers) s->stop();
}

}  // namespace chipledger
