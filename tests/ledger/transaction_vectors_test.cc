// Canonical-encoding test vectors (docs/encoding.md): every vector in
// tests/vectors/transactions.json is rebuilt byte for byte from its fields.
// Regenerate (only after a deliberate format change) with:
//   ledger_tests "[.generate-vectors]" | sed -n "/^{/,/^}/p" > tests/vectors/transactions.json
#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/keys.h"
#include "ledger/transaction.h"

using namespace chipledger;
using nlohmann::json;

namespace {

const char* kSeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

PrivateKey vector_key() {
  auto seed = hex_decode(kSeedHex);
  return *PrivateKey::ed25519_from_seed(*seed);
}

Hash h(char fill) {
  Hash out{};
  out.fill(static_cast<uint8_t>(fill));
  return out;
}

std::vector<std::pair<std::string, Transaction>> vector_transactions() {
  PrivateKey key = vector_key();
  Transaction base;
  base.ledger_id = "chipledger.dev/vectors";
  base.author = "maker";
  base.key_id = key.public_key().key_id();
  base.time_ms = 1790000000000;

  Transaction reg = base;
  reg.type = TxType::register_chips;
  reg.model = "H100-SXM5";
  reg.eccn = "3A090";
  reg.fab_site = "Fab 18";
  reg.country = "TW";
  reg.registrations = {{"SN-0001", {}}, {"SN-0002", {0x30, 0x2a}}};

  Transaction transfer = base;
  transfer.type = TxType::transfer;
  transfer.to = "distributor";
  transfer.ship_to_country = "SG";
  transfer.refs = {{"SN-0001", h(0x11)}};

  Transaction accept = base;
  accept.type = TxType::accept;
  accept.author = "distributor";
  accept.refs = {{"SN-0001", h(0x22)}, {"SN-0002", h(0x33)}};

  Transaction reject = base;
  reject.type = TxType::reject;
  reject.reason = "damaged in transit";
  reject.refs = {{"a/b:c.d_e-f", h(0x44)}};
  Transaction install = base;
  install.type = TxType::install;
  install.author = "datacenter";
  install.site = "DC-Ashburn-1";
  install.country = "US";
  install.refs = {{"SN-0001", h(0x55)}};

  Transaction attest = install;
  attest.type = TxType::attest;
  attest.country.clear();
  attest.checkpoint_size = 42;
  attest.checkpoint_root = h(0x66);
  attest.chip_signatures = {{"SN-0001", Bytes(64, 0x77)}};

  Transaction pack = base;
  pack.type = TxType::pack;
  pack.author = "integrator";
  pack.unit = "SRV-0001";
  pack.model = "HGX 8-GPU server";
  pack.refs = {{"SN-0001", h(0x88)}, {"SN-0002", h(0x99)}};

  Transaction unpack = base;
  unpack.type = TxType::unpack;
  unpack.refs = {{"SRV-0001", h(0xaa)}};

  Transaction decommission = base;
  decommission.type = TxType::decommission;
  decommission.kind = "destroyed";
  decommission.reason = "shredded, certificate 77";
  decommission.refs = {{"SN-0001", h(0xbb)}};

  Transaction flag = base;
  flag.type = TxType::flag;
  flag.author = "regulator";
  flag.reason = "held without onward sale";
  flag.refs = {{"SN-0003", h(0xcc)}};

  Transaction clear = flag;
  clear.type = TxType::clear;
  clear.reason = "explained";

  Transaction report = base;
  report.type = TxType::report;
  report.kind = "stolen";
  report.reason = "truck hijacked";
  report.refs = {{"SN-0003", h(0xdd)}};

  Transaction license = base;
  license.type = TxType::license;
  license.author = "regulator";
  license.license = {"L-2026-001", "distributor", "cloud-east", "H100-SXM5",
                     "",           100,           "AE",         1800000000000};

  Transaction licensed = transfer;
  licensed.license_id = "L-2026-001";
  licensed.ship_to_country = "AE";

  // Governance (docs/governance.md): the new key is RFC 8032 test 2's.
  Bytes other_key =
      PrivateKey::ed25519_from_seed(
          *hex_decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"))
          ->public_key()
          .der();
  Transaction propose = base;
  propose.type = TxType::propose;
  GovernanceChange add;
  add.kind = ChangeKind::add_member;
  add.member = "newdist";
  add.name = "New Distribution Sdn Bhd";
  add.roles = {Role::distributor};
  add.country = "MY";
  add.keys = {other_key};
  GovernanceChange suspend;
  suspend.kind = ChangeKind::suspend_member;
  suspend.member = "broker";
  propose.changes = {add, suspend};

  Transaction vote = base;
  vote.type = TxType::vote;
  vote.author = "regulator";
  vote.proposal = h(0x77);

  Transaction rotate = base;
  rotate.type = TxType::rotate_key;
  rotate.new_key = other_key;

  // Node changes (change kinds 11-14) in one proposal.
  Transaction nodes = base;
  nodes.type = TxType::propose;
  GovernanceChange add_node;
  add_node.kind = ChangeKind::add_node;
  add_node.node = "node-4";
  add_node.member = "datacenter";
  add_node.keys = {other_key};
  add_node.api = "https://10.0.0.4:7800";
  add_node.raft_id = 4;
  add_node.raft_address = "10.0.0.4:7900";
  GovernanceChange remove_node;
  remove_node.kind = ChangeKind::remove_node;
  remove_node.node = "node-3";
  GovernanceChange node_key;
  node_key.kind = ChangeKind::set_node_key;
  node_key.node = "node-2";
  node_key.keys = {key.public_key().der()};
  GovernanceChange quorum;
  quorum.kind = ChangeKind::set_quorum;
  quorum.quorum = 3;
  nodes.changes = {add_node, remove_node, node_key, quorum};

  // A node's operator replaces its checkpoint key, endorsed by the old one
  // (here the vector key plays both the member's and the node's old key).
  Transaction rotate_node = base;
  rotate_node.type = TxType::rotate_node_key;
  rotate_node.node = "node-1";
  rotate_node.new_key = other_key;
  rotate_node.node_signature =
      *key.sign(node_key_rotation_message(base.ledger_id, rotate_node.node, other_key));
  // A locate with one landmark statement (the vector key plays the landmark
  // and the chip; tests/vectors/location.json has the statement alone).
  Transaction locate = base;
  locate.type = TxType::locate;
  locate.refs = {{"SN-0001", h('e')}};
  LocationStatement st;
  st.ledger_id = base.ledger_id;
  st.landmark = "lm-ashburn";
  st.serial = "SN-0001";
  st.nonce = h('n');
  st.checkpoint_size = 9;
  st.checkpoint_root = h('r');
  st.round_trip_us = 1234;
  st.time_ms = base.time_ms;
  st.chip_signature = *key.sign(st.chip_message());
  locate.statements = {*sign_statement(st, key)};
  // Admin groups (change kind 20): two groups, one needing 2 of its 3.
  Transaction groups = base;
  groups.type = TxType::propose;
  GovernanceChange set_groups;
  set_groups.kind = ChangeKind::set_admin_groups;
  set_groups.groups = {AdminGroup{"founders", {"datacenter", "maker", "regulator"}, 2},
                       AdminGroup{"regulators", {"regulator"}, 1}};
  groups.changes = {set_groups};
  return {{"register", reg},
          {"transfer", transfer},
          {"accept", accept},
          {"reject", reject},
          {"install", install},
          {"attest", attest},
          {"pack", pack},
          {"unpack", unpack},
          {"decommission", decommission},
          {"flag", flag},
          {"clear", clear},
          {"report", report},
          {"license", license},
          {"licensed transfer", licensed},
          {"propose", propose},
          {"vote", vote},
          {"rotate-key", rotate},
          {"propose node changes", nodes},
          {"rotate-node-key", rotate_node},
          {"locate", locate},
          {"propose admin groups", groups}};
}

json vector_json(const std::string& name, const Transaction& tx) {
  auto stx = sign_transaction(tx, vector_key());
  REQUIRE(stx);
  return json{{"name", name},
              {"body", hex_encode(stx->body)},
              {"signing_input", hex_encode(signing_input(stx->body))},
              {"txid", hex_encode(stx->txid)},
              {"signature", hex_encode(stx->signature)},
              {"signed", hex_encode(stx->wire())}};
}

json load_vectors() {
  std::ifstream in(std::string(CHIPLEDGER_TEST_VECTORS) + "/transactions.json");
  REQUIRE(in);
  return json::parse(in);
}

}  // namespace

TEST_CASE("generate transaction vectors", "[.generate-vectors]") {
  json out{{"seed", kSeedHex},
           {"public_key", hex_encode(*vector_key().public_key().raw_ed25519())},
           {"vectors", json::array()}};
  for (const auto& [name, tx] : vector_transactions())
    out["vectors"].push_back(vector_json(name, tx));
  std::cout << out.dump(2) << "\n";
}

TEST_CASE("transactions encode byte for byte as the checked-in vectors", "[encoding]") {
  json file = load_vectors();
  REQUIRE(file["public_key"] == hex_encode(*vector_key().public_key().raw_ed25519()));
  auto txs = vector_transactions();
  REQUIRE(file["vectors"].size() == txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    INFO("vector " << txs[i].first);
    CHECK(vector_json(txs[i].first, txs[i].second) == file["vectors"][i]);
  }
}

TEST_CASE("checked-in signed vectors decode to their fields and verify", "[encoding]") {
  json file = load_vectors();
  auto txs = vector_transactions();
  PublicKey pub = vector_key().public_key();
  for (size_t i = 0; i < txs.size(); ++i) {
    const json& v = file["vectors"][i];
    INFO("vector " << v["name"]);
    auto wire = hex_decode(v["signed"].get<std::string>());
    REQUIRE(wire);
    auto stx = SignedTransaction::decode(*wire);
    REQUIRE(stx);
    CHECK(hex_encode(stx->txid) == v["txid"]);
    CHECK(pub.verify(signing_input(stx->body), stx->signature));
    auto reencoded = encode_body(stx->tx);
    REQUIRE(reencoded);
    CHECK(*reencoded == stx->body);
    CHECK(stx->tx.serials() == txs[i].second.serials());
  }
}

TEST_CASE("the first bytes of a register body follow the documented layout", "[encoding]") {
  auto stx = sign_transaction(vector_transactions()[0].second, vector_key());
  REQUIRE(stx);
  const Bytes& b = stx->body;
  CHECK(b[0] == 0x01);                                         // version
  CHECK(b[1] == 0x01);                                         // register
  CHECK(hex_encode(ByteView(b).subspan(2, 4)) == "00000016");  // ledger id length 22
  CHECK(as_chars(ByteView(b).subspan(6, 22)) == "chipledger.dev/vectors");
  // Signing input is the domain string, a zero byte, then the body.
  Bytes input = signing_input(b);
  CHECK(as_chars(ByteView(input).subspan(0, 17)) == std::string_view("chipledger-tx-v1\0", 17));
}
