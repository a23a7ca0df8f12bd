// Governance commands (docs/governance.md): propose, vote, proposals,
// rotate-key. A proposal and a vote are transactions like any other: they
// are believed accepted only with a receipt. What a node says of the
// proposals afterwards (approvals, what is missing) is its word, shown as
// such.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/cli_common.h"
#include "ledger/governance_change.h"

namespace chipledger::cli {
namespace {

using nlohmann::json;

// A public key from a PEM file holding a public key or a private one (the
// public half is taken: `chipledger keygen` writes private keys).
PublicKey public_key_file(const std::string& path) {
  std::string pem = read_file(path);
  if (auto pub = PublicKey::from_pem(pem)) return std::move(*pub);
  auto priv = PrivateKey::from_pem(pem);
  if (!priv) throw CliError{path + ": not a PEM public or private key: " + priv.reason()};
  return priv->public_key();
}

GovernanceChange about(ChangeKind kind, const std::string& member) {
  GovernanceChange c;
  c.kind = kind;
  c.member = member;
  return c;
}

std::vector<GovernanceChange> changes_of(const Args& a) {
  std::vector<GovernanceChange> out;
  if (!a.add_member.empty()) {
    if (a.roles.empty() || a.member_country.empty() || a.member_key.empty()) {
      throw CliError{
          "--add-member needs --roles ROLE..., --member-country CC and --member-key "
          "FILE (its public or private key, PEM)"};
    }
    GovernanceChange c = about(ChangeKind::add_member, a.add_member);
    c.name = a.member_name.empty() ? a.add_member : a.member_name;
    for (const auto& r : a.roles) c.roles.insert(need(role_from_name(r), "--roles"));
    c.country = a.member_country;
    c.keys = {public_key_file(a.member_key).der()};
    out.push_back(std::move(c));
  }
  for (const auto& m : a.suspend) out.push_back(about(ChangeKind::suspend_member, m));
  for (const auto& m : a.reinstate) out.push_back(about(ChangeKind::reinstate_member, m));
  for (const auto& m : a.remove) out.push_back(about(ChangeKind::remove_member, m));
  for (const auto& n : a.remove_node) {
    GovernanceChange c;
    c.kind = ChangeKind::remove_node;
    c.node = n;
    out.push_back(std::move(c));
  }
  if (a.set_quorum != 0) {
    GovernanceChange c;
    c.kind = ChangeKind::set_quorum;
    c.quorum = a.set_quorum;
    out.push_back(std::move(c));
  }
  for (const auto& file : a.changes_files) {
    json j = json::parse(read_file(file), nullptr, false);
    if (j.is_discarded()) throw CliError{file + ": not JSON"};
    if (!j.is_array()) j = json::array({j});
    for (const auto& c : j) out.push_back(need(change_from_json(c), file));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    need_ok(check_change(out[i]), "change " + std::to_string(i + 1));
  }
  return out;
}

std::string describe(const json& change) {
  std::string kind = change.value("change", "");
  std::string text = kind;
  if (change.contains("node")) text += " " + change["node"].get<std::string>();
  if (change.contains("member")) text += " " + change["member"].get<std::string>();
  if (change.contains("quorum")) text += " " + std::to_string(change["quorum"].get<uint32_t>());
  for (const char* place : {"landmark", "site"}) {
    if (!change.contains(place)) continue;
    const json& p = change[place];
    auto field = [&](const char* name) {
      return p.contains(name) && p[name].is_string() ? p[name].get<std::string>() : "?";
    };
    if (p.is_string()) text += " " + p.get<std::string>();
    if (p.is_object())
      text += " " + field("id") + " (" + field("member") + ", " + field("country") + ")";
  }
  if (kind == "set-admin-groups" && change.value("groups", json::array()).empty()) {
    text += " (no groups)";
  }
  for (const auto& g : change.value("groups", json::array())) {
    text += " " + g.value("name", "?") + " (" + std::to_string(g.value("min", 0u)) + " of " +
            std::to_string(g.value("admins", json::array()).size()) + ")";
  }
  if (kind == "add-member") {
    std::string roles;
    for (const auto& r : change["roles"])
      roles += (roles.empty() ? "" : ",") + r.get<std::string>();
    text += " (" + roles + ", " + change["country"].get<std::string>() + ")";
  }
  return text;
}

void print_proposal(const json& p) {
  std::cout << "proposal " << p["id"].get<std::string>().substr(0, 16) << "… by "
            << p["author"].get<std::string>() << " at log index " << p["index"] << ": ";
  std::string changes;
  for (const auto& c : p["changes"]) changes += (changes.empty() ? "" : "; ") + describe(c);
  std::cout << changes << "\n  " << p["status"].get<std::string>() << ", approved by";
  for (const auto& a : p["approvals"]) std::cout << " " << a.get<std::string>();
  std::cout << " (" << p["approvals"].size() << " of the " << p["needed"] << " needed)";
  if (p["status"] == "applied") {
    std::cout << "; applied at log index " << p["applied_index"];
  } else if (p["status"] == "open") {
    if (p["missing"] != 0) {
      std::cout << "; " << p["missing"] << " more from:";
      for (const auto& w : p["waiting_for"]) std::cout << " " << w.get<std::string>();
    }
    for (const auto& g : p.value("missing_groups", json::array())) {
      std::cout << "; " << g["missing"] << " more of group " << g["group"].get<std::string>();
      if (g.contains("waiting_for")) {
        std::cout << ":";
        for (const auto& w : g["waiting_for"]) std::cout << " " << w.get<std::string>();
      }
    }
    uint64_t expires = p["expires_ms"];
    std::cout << "; expires " << format_time(expires);
  }
  std::cout << "\n";
}

// The node's view of one proposal (every status), or null.
json proposal_on_node(NodeClient& node, const Hash& id) {
  auto answer = node.get_json("/v1/governance/proposals?id=" + hex_encode(id));
  if (!answer) return nullptr;
  for (const auto& p : (*answer)["proposals"]) {
    if (p.value("id", "") == hex_encode(id)) return p;
  }
  return nullptr;
}

void show_after(const Args& a, NodeClient& node, const Hash& id) {
  json p = proposal_on_node(node, id);
  if (p.is_null()) return;
  if (a.json_out) {
    std::cout << json{{"proposal", p}, {"proven", false}}.dump() << "\n";
    return;
  }
  print_proposal(p);
  std::cout << "  (approvals as the node reports them; the receipt above is the proof of this "
               "transaction)\n";
}

}  // namespace

int cmd_propose(const Args& a) {
  std::vector<GovernanceChange> changes = changes_of(a);
  if (changes.empty()) {
    throw CliError{
        "give the changes: --add-member ID (with --roles, --member-country, "
        "--member-key), --suspend ID, --reinstate ID, --remove ID, --remove-node ID, "
        "--quorum N, or --changes FILE (JSON, docs/governance.md; add-node, set-node-key)"};
  }
  if (changes.size() > kMaxChangesPerProposal) {
    throw CliError{"a proposal makes at most " + std::to_string(kMaxChangesPerProposal) +
                   " changes"};
  }
  auto key = author_key(a);
  auto node = connect(a);
  Transaction tx = base_tx(a, need(node->ledger_id()), key, TxType::propose);
  tx.changes = std::move(changes);
  const Hash id = transaction_id(need(encode_body(tx), "proposal"));
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  if (!a.json_out) std::cout << "proposal id " << hex_encode(id) << "\n";
  show_after(a, *node, id);
  return 0;
}

int cmd_vote(const Args& a) {
  const Hash id = need(hash_from_hex(a.proposal), "proposal id");
  auto key = author_key(a);
  auto node = connect(a);
  Transaction tx = base_tx(a, need(node->ledger_id()), key, TxType::vote);
  tx.proposal = id;
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  show_after(a, *node, id);
  return 0;
}

int cmd_proposals(const Args& a) {
  auto node = connect(a);
  // Page by page (the node answers at most 1,000 at a time), up to 100 pages.
  const std::string path =
      a.all ? "/v1/governance/proposals?all=1" : "/v1/governance/proposals?all=0";
  json answer = need(node->get_json(path), "proposals");
  for (int page = 1; page < 100 && answer.value("next", json(nullptr)).is_number_unsigned();
       ++page) {
    const uint64_t next = answer["next"];
    json more = need(node->get_json(path + "&from=" + std::to_string(next)), "proposals");
    for (auto& p : more["proposals"]) answer["proposals"].push_back(std::move(p));
    answer["next"] = more.value("next", json(nullptr));
  }
  if (a.json_out) {
    answer["proven"] = false;
    std::cout << answer.dump() << "\n";
    return 0;
  }
  const json& rule = answer["rule"];
  if (rule.is_null()) {
    std::cout << "this ledger has no governance rule: nothing can be changed\n";
    return 0;
  }
  std::cout << "governance: " << rule["threshold"] << " of";
  for (const auto& admin : rule["admins"]) std::cout << " " << admin.get<std::string>();
  for (const auto& g : rule.value("groups", json::array())) {
    std::cout << ", at least " << g["min"] << " of group " << g["name"].get<std::string>() << " (";
    std::string sep;
    for (const auto& admin : g["admins"]) {
      std::cout << sep << admin.get<std::string>();
      sep = " ";
    }
    std::cout << ")";
  }
  std::cout << " (as the node reports it at log size " << answer["size"] << ")\n";
  if (answer["proposals"].empty()) {
    std::cout << (a.all ? "no proposals\n" : "no open proposals\n");
    return 0;
  }
  for (const auto& p : answer["proposals"]) print_proposal(p);
  return 0;
}

int cmd_rotate_node_key(const Args& a) {
  auto key = author_key(a);
  PrivateKey old_node = need(PrivateKey::load_file(a.node_key), "--node-key");
  PrivateKey fresh = need(PrivateKey::load_file(a.new_key), "--new-key");
  auto node = connect(a);
  Transaction tx = base_tx(a, need(node->ledger_id()), key, TxType::rotate_node_key);
  tx.node = a.node_id;
  tx.new_key = fresh.public_key().der();
  tx.node_signature =
      need(old_node.sign(node_key_rotation_message(tx.ledger_id, tx.node, tx.new_key)),
           "signing with the node's current key");
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  if (!a.json_out) {
    std::cout << "node " << a.node_id << " now signs checkpoints with key "
              << hex_encode(fresh.public_key().key_id()).substr(0, 16) << "… (" << a.new_key
              << "); restart it with that key file. Checkpoints signed with its old key before "
                 "this stay verifiable\n";
  }
  return 0;
}

int cmd_rotate_key(const Args& a) {
  if (a.new_key.empty()) {
    throw CliError{"give the new key: --new-key FILE (a private key from `chipledger keygen`)"};
  }
  auto key = author_key(a);
  PrivateKey fresh = need(PrivateKey::load_file(a.new_key), "--new-key");
  auto node = connect(a);
  Transaction tx = base_tx(a, need(node->ledger_id()), key, TxType::rotate_key);
  tx.new_key = fresh.public_key().der();
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  if (!a.json_out) {
    std::cout << a.as << " now signs with key "
              << hex_encode(fresh.public_key().key_id()).substr(0, 16) << "… (" << a.new_key
              << "); key " << hex_encode(key.public_key().key_id()).substr(0, 16)
              << "… signs for it no more\n";
  }
  return 0;
}

}  // namespace chipledger::cli
