// Node and quorum changes by governance (docs/governance.md, change kinds
// 11-14): a node added by vote with the quorum raised, a node removed, a
// node's key replaced; the checkpoint of a size is judged by the nodes and
// quorum in force at that size (Ledger::consortium_at, the cosignature
// book), before and after a restart and a snapshot; removed ids, Raft ids
// and retired keys are never used again.
#include <catch2/catch.hpp>
#include <filesystem>

#include "ledger/checkpoint.h"
#include "ledger/cosignature_book.h"
#include "ledger/governance.h"
#include "ledger/rocks_store.h"
#include "tests/ledger/gov_world.h"
#include "tests/ledger/temp_dir.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

struct NodeWorld : GovWorld {
  std::map<std::string, PrivateKey> node_keys;

  NodeWorld() { node_keys.emplace("node1", std::move(tc.node_key)); }

  GovernanceChange add_node(const std::string& id, uint64_t raft_id,
                            std::optional<PublicKey> key = std::nullopt) {
    if (!key) {
      auto k = PrivateKey::generate(KeyAlgorithm::ed25519);
      key = k->public_key();
      node_keys.insert_or_assign(id, std::move(*k));
    }
    GovernanceChange c;
    c.kind = ChangeKind::add_node;
    c.node = id;
    c.member = "dc";
    c.keys = {key->der()};
    c.raft_id = raft_id;
    c.raft_address = "127.0.0.1:" + std::to_string(7900 + raft_id);
    return c;
  }
  static GovernanceChange quorum(uint32_t q) {
    GovernanceChange c;
    c.kind = ChangeKind::set_quorum;
    c.quorum = q;
    return c;
  }
  static GovernanceChange node_change(ChangeKind kind, const std::string& id) {
    GovernanceChange c;
    c.kind = kind;
    c.node = id;
    return c;
  }
  // Proposed by maker, approved by reg: applied.
  void pass(std::vector<GovernanceChange> changes) {
    Hash id = propose("maker", std::move(changes));
    auto out = vote("reg", id);
    INFO(out.reason);
    REQUIRE(out.accepted);
  }
  std::string refused(std::vector<GovernanceChange> changes) {
    Transaction t = tc.tx("maker", TxType::propose);
    t.changes = std::move(changes);
    auto out = apply(t);
    CHECK_FALSE(out.accepted);
    return out.reason;
  }
  // The ledger's checkpoint at its size, signed by `signers` with `keys`.
  std::string note(const std::vector<std::string>& signers) {
    uint64_t size = ledger->size();
    Checkpoint cp = Checkpoint::make(tc.consortium.ledger_id(), size, *ledger->root_at(size),
                                     *ledger->state_root_at(size));
    SignedNote n{cp.text(), {}};
    for (const auto& s : signers) {
      n.signatures.push_back(*sign_cosignature(n.text, s, node_keys.at(s), kNow / 1000));
    }
    return format_note(n);
  }
  Result<VerifiedCheckpoint> verified(const std::vector<std::string>& signers) {
    return verify_checkpoint(*ledger->consortium_at(ledger->size()), note(signers));
  }
};

std::vector<std::string> node_ids(const Consortium& c) {
  std::vector<std::string> out;
  for (const auto& n : c.nodes()) out.push_back(n.id);
  return out;
}

}  // namespace

TEST_CASE("governance nodes: a node added by vote counts from its index, with the quorum raised",
          "[governance][nodes]") {
  NodeWorld w;
  // 2 nodes with quorum 1 is no majority: adding a node alone is refused.
  CHECK_THAT(w.refused({w.add_node("node2", 2)}),
             Catch::Contains("quorum 1 of 2 nodes is not a strict majority"));
  const uint64_t before = w.ledger->size();
  auto old_note = w.note({"node1"});
  w.pass({w.add_node("node2", 2), w.add_node("node3", 3), NodeWorld::quorum(2)});
  const uint64_t after = w.ledger->size();

  CHECK(node_ids(*w.ledger->consortium_at(before)) == std::vector<std::string>{"node1"});
  CHECK(w.ledger->consortium_at(before)->quorum() == 1);
  auto now = w.ledger->consortium_at(after);
  CHECK(node_ids(*now) == std::vector<std::string>{"node1", "node2", "node3"});
  CHECK(now->quorum() == 2);
  CHECK(now->node("node3")->raft_address == "127.0.0.1:7903");
  // Only blocks that change the nodes or the quorum are recorded: a member
  // added by vote leaves consortium_at as it was (no copy per change).
  w.pass({w.add_member("dist2", Role::distributor, "DE")});
  CHECK(w.ledger->consortium()->member("dist2") != nullptr);
  CHECK(w.ledger->consortium_at(w.ledger->size()).get() == now.get());
  CHECK(w.ledger->consortium_at(1).get() == w.ledger->consortium_at(0).get());  // one genesis
  // The checkpoint before the change: node1 alone is its quorum, still.
  CHECK(verify_checkpoint(*w.ledger->consortium_at(before), old_note));
  // After it: node1 alone is not; node1 with a new node is.
  CHECK_THAT(w.verified({"node1"}).reason(), Catch::Contains("quorum is 2"));
  auto two = w.verified({"node1", "node3"});
  INFO(two.reason());
  REQUIRE(two);
  CHECK(two->signers == std::vector<std::string>{"node1", "node3"});

  // The cosignature book judges each size by its own consortium.
  CosignatureBook book([&](uint64_t size) { return w.ledger->consortium_at(size); }, "node1", {});
  auto checked = book.check(w.note({"node2", "node3"}), kNow / 1000);
  INFO(checked.reason());
  REQUIRE(checked);
  CHECK(checked->entry.by_node.size() == 2);
  // At a size where node2 was not a node yet, its signature is refused.
  {
    Checkpoint cp = Checkpoint::make(w.tc.consortium.ledger_id(), before,
                                     *w.ledger->root_at(before), *w.ledger->state_root_at(before));
    SignedNote n{cp.text(),
                 {*sign_cosignature(cp.text(), "node2", w.node_keys.at("node2"), kNow / 1000)}};
    CHECK_THAT(book.check(format_note(n), kNow / 1000).reason(),
               Catch::Contains("a node the consortium does not list"));
  }

  // The same after a snapshot is restored on another ledger.
  REQUIRE(w.ledger->apply_block({}, kNow, 1));
  auto other = std::move(*Ledger::open(std::make_unique<MemoryStore>(), w.tc.consortium));
  auto restored = other->restore(*w.ledger->snapshot());
  INFO(restored.reason());
  REQUIRE(restored);
  CHECK(node_ids(*other->consortium_at(before)) == std::vector<std::string>{"node1"});
  CHECK(other->consortium_at(after)->to_json() == now->to_json());
}

TEST_CASE("governance nodes: a removed node, a replaced node key, and what is never used again",
          "[governance][nodes]") {
  ScratchDir scratch("chipledger-gov-nodes-");
  NodeWorld w;
  w.ledger = std::move(
      *Ledger::open(std::move(*RocksStore::open(scratch.path().string())), w.tc.consortium));
  w.pass({w.add_node("node2", 2), w.add_node("node3", 3), NodeWorld::quorum(2)});
  const PublicKey node3_key = w.node_keys.at("node3").public_key();
  const uint64_t three = w.ledger->size();

  w.pass({NodeWorld::node_change(ChangeKind::remove_node, "node3")});
  const uint64_t removed = w.ledger->size();
  auto c = w.ledger->consortium();
  CHECK(node_ids(*c) == std::vector<std::string>{"node1", "node2"});
  CHECK(c->removed_nodes().at("node3") == 3);
  CHECK(c->retired_node_keys().count(node3_key.key_id()) == 1);
  // node3's signature no longer counts; it did at a size before.
  CHECK_THAT(w.verified({"node1", "node3"}).reason(), Catch::Contains("quorum is 2"));
  CHECK(w.ledger->consortium_at(three)->node("node3") != nullptr);

  CHECK_THAT(w.refused({w.add_node("node3", 9)}),
             Catch::Contains("node id node3 was removed; it is never used again"));
  CHECK_THAT(w.refused({w.add_node("node4", 3), NodeWorld::quorum(2)}),
             Catch::Contains("raft_id 3 of removed node node3"));
  CHECK_THAT(w.refused({w.add_node("node4", 4, node3_key), NodeWorld::quorum(2)}),
             Catch::Contains("was retired from node node3"));
  CHECK_THAT(w.refused({w.add_node("node4", 4, w.node_keys.at("node2").public_key()),
                        NodeWorld::quorum(2)}),
             Catch::Contains("is node node2's"));
  CHECK_THAT(w.refused({NodeWorld::quorum(1)}),
             Catch::Contains("quorum 1 of 2 nodes is not a strict majority"));
  CHECK_THAT(w.refused({NodeWorld::node_change(ChangeKind::remove_node, "node9")}),
             Catch::Contains("node node9 does not exist"));
  // A member that runs a node cannot be removed while its node stays.
  CHECK_THAT(w.refused({GovWorld::about(ChangeKind::remove_member, "dc")}),
             Catch::Contains("node node2 names unknown member 'dc'"));

  // node1's key replaced: the old key counts for sizes before, not after.
  auto old_key = w.node_keys.at("node1").public_key();
  auto next = *PrivateKey::generate(KeyAlgorithm::ed25519);
  GovernanceChange rekey = NodeWorld::node_change(ChangeKind::set_node_key, "node1");
  rekey.keys = {next.public_key().der()};
  w.pass({rekey});
  CHECK_THAT(w.verified({"node1", "node2"}).reason(), Catch::Contains("valid node signature(s)"));
  w.node_keys.insert_or_assign("node1", std::move(next));
  CHECK(w.verified({"node1", "node2"}));
  CHECK(w.ledger->consortium_at(removed)->node("node1")->key.key_id() == old_key.key_id());
  CHECK_THAT(w.refused({w.add_node("node5", 5, old_key), NodeWorld::quorum(2)}),
             Catch::Contains("was retired from node node1"));

  // All of it survives a restart.
  const uint64_t size = w.ledger->size();
  const std::string in_force = w.ledger->consortium()->to_json();
  w.ledger.reset();
  auto reopened = std::move(
      *Ledger::open(std::move(*RocksStore::open(scratch.path().string())), w.tc.consortium));
  CHECK(reopened->consortium()->to_json() == in_force);
  CHECK(reopened->consortium_at(three)->node("node3") != nullptr);
  CHECK(reopened->consortium_at(removed)->node("node3") == nullptr);
  CHECK(reopened->consortium_at(size)->node("node1")->key.key_id() != old_key.key_id());
}

TEST_CASE("governance nodes: an operator rotates its node's key, endorsed by the old one",
          "[governance][nodes]") {
  NodeWorld w;
  w.pass({w.add_node("node2", 2), w.add_node("node3", 3), NodeWorld::quorum(2)});
  const uint64_t before = w.ledger->size();
  const PublicKey old_key = w.node_keys.at("node2").public_key();
  PrivateKey next = *PrivateKey::generate(KeyAlgorithm::ed25519);
  auto rotation = [&](const std::string& author, const std::string& node, const PrivateKey& signer,
                      const PublicKey& fresh) {
    Transaction t = w.tc.tx(author, TxType::rotate_node_key);
    t.node = node;
    t.new_key = fresh.der();
    t.node_signature = *signer.sign(node_key_rotation_message(t.ledger_id, node, t.new_key));
    return t;
  };
  // The body round-trips.
  Transaction t = rotation("dc", "node2", w.node_keys.at("node2"), next.public_key());
  auto body = encode_body(t);
  REQUIRE(body);
  auto back = decode_body(*body);
  REQUIRE(back);
  CHECK(back->node == "node2");
  CHECK(back->new_key == t.new_key);
  CHECK(back->node_signature == t.node_signature);
  CHECK(*encode_body(*back) == *body);

  // Refused: another member than its operator, an endorsement by another
  // key, a node that does not exist; nothing changes.
  CHECK_THAT(w.apply(rotation("maker", "node2", w.node_keys.at("node2"), next.public_key())).reason,
             Catch::Contains("node node2 is run by dc, not by maker"));
  CHECK_THAT(w.apply(rotation("dc", "node2", w.node_keys.at("node3"), next.public_key())).reason,
             Catch::Contains("is not by node node2's current checkpoint key"));
  CHECK_THAT(w.apply(rotation("dc", "node9", w.node_keys.at("node2"), next.public_key())).reason,
             Catch::Contains("node node9 does not exist"));
  CHECK(w.ledger->consortium()->node("node2")->key.key_id() == old_key.key_id());

  // Its operator, endorsed by the old key, no vote: in force from its index.
  auto out = w.apply(t);
  INFO(out.reason);
  REQUIRE(out.accepted);
  CHECK(w.ledger->consortium()->node("node2")->key.key_id() == next.public_key().key_id());
  CHECK(w.ledger->consortium()->retired_node_keys().count(old_key.key_id()) == 1);
  CHECK(w.ledger->consortium_at(before)->node("node2")->key.key_id() == old_key.key_id());
  // The old key signs for node2 no more; the new one does.
  CHECK_THAT(w.verified({"node1", "node2"}).reason(), Catch::Contains("valid node signature(s)"));
  w.node_keys.insert_or_assign("node2", std::move(next));
  CHECK(w.verified({"node1", "node2"}));
  // And it never comes back, to this node or another.
  CHECK_THAT(w.apply(rotation("dc", "node2", w.node_keys.at("node2"), old_key)).reason,
             Catch::Contains("was retired from node node2"));
}
