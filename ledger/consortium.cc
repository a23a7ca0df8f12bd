#include "ledger/consortium.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/certificates.h"
#include "ledger/location_json.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

constexpr std::pair<Role, std::string_view> kRoleNames[] = {
    {Role::manufacturer, "manufacturer"}, {Role::distributor, "distributor"},
    {Role::operator_, "operator"},        {Role::regulator, "regulator"},
    {Role::auditor, "auditor"},
};

Result<std::string> get_string(const json& j, const char* field, const std::string& where) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return Result<std::string>::error(where + ": field '" + field + "' (a string) is missing");
  }
  return it->get<std::string>();
}

Result<Member> member_from_json(const json& j) {
  if (!j.is_object()) return Result<Member>::error("a member must be a JSON object");
  Member m;
  auto id = get_string(j, "id", "member");
  if (!id) return id.status();
  m.id = *id;
  std::string where = "member " + m.id;
  m.name = j.value("name", m.id);
  auto country = get_string(j, "country", where);
  if (!country) return country.status();
  m.country = *country;
  if (!j.contains("roles") || !j["roles"].is_array()) {
    return Result<Member>::error(where + ": 'roles' must be a list");
  }
  for (const auto& r : j["roles"]) {
    if (!r.is_string()) return Result<Member>::error(where + ": a role must be a string");
    auto role = role_from_name(r.get<std::string>());
    if (!role) return role.status().context(where);
    m.roles.insert(*role);
  }
  if (!j.contains("keys") || !j["keys"].is_array()) {
    return Result<Member>::error(where + ": 'keys' must be a list of PEM public keys");
  }
  if (j.contains("suspended")) {
    if (!j["suspended"].is_boolean()) {
      return Result<Member>::error(where + ": 'suspended' must be true or false");
    }
    m.suspended = j["suspended"].get<bool>();
  }
  for (const auto& k : j["keys"]) {
    if (!k.is_string()) return Result<Member>::error(where + ": a key must be a PEM string");
    auto key = PublicKey::from_pem(k.get<std::string>());
    if (!key) return key.status().context(where);
    m.keys.push_back(std::move(*key));
  }
  return m;
}

Result<NodeInfo> node_from_json(const json& j) {
  if (!j.is_object()) return Result<NodeInfo>::error("a node must be a JSON object");
  auto id = get_string(j, "id", "node");
  if (!id) return id.status();
  std::string where = "node " + *id;
  auto member = get_string(j, "member", where);
  if (!member) return member.status();
  auto pem = get_string(j, "key", where);
  if (!pem) return pem.status();
  auto key = PublicKey::from_pem(*pem);
  if (!key) return key.status().context(where);
  std::string api;
  if (j.contains("api")) {
    if (!j["api"].is_string() || j["api"].get<std::string>().size() > kMaxFieldBytes) {
      return Result<NodeInfo>::error(where + ": api must be the node's API URL (a string)");
    }
    api = j["api"].get<std::string>();
  }
  NodeInfo n{*id, *member, std::move(*key), std::move(api), 0, ""};
  if (j.contains("raft_id")) {
    if (!j["raft_id"].is_number_unsigned() || j["raft_id"].get<uint64_t>() == 0) {
      return Result<NodeInfo>::error(where + ": raft_id must be a positive whole number");
    }
    n.raft_id = j["raft_id"].get<uint64_t>();
  }
  if (j.contains("raft_address")) {
    if (!j["raft_address"].is_string()) {
      return Result<NodeInfo>::error(where + ": raft_address must be \"a.b.c.d:port\"");
    }
    n.raft_address = j["raft_address"].get<std::string>();
  }
  return n;
}

Result<RetiredNodeKey> retired_node_key_from_json(const json& j) {
  using R = Result<RetiredNodeKey>;
  const char* what = "retired_node_keys lists {\"node\", \"key_id\" (64 hex digits), \"at_index\"}";
  if (!j.is_object() || !j.contains("node") || !j["node"].is_string() || !j.contains("key_id") ||
      !j["key_id"].is_string() || !j.contains("at_index") || !j["at_index"].is_number_unsigned()) {
    return R::error(what);
  }
  RetiredNodeKey k;
  k.node = j["node"].get<std::string>();
  auto id = hex_decode(j["key_id"].get<std::string>());
  if (!id || id->size() != k.key_id.size()) return R::error(what);
  std::copy(id->begin(), id->end(), k.key_id.begin());
  k.at_index = j["at_index"].get<uint64_t>();
  return k;
}

Status read_u64_scaled(const json& j, const char* field, uint64_t scale, uint64_t& out) {
  if (!j.contains(field)) return Status::ok();
  const auto& v = j[field];
  if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) {
    return Status::error(std::string("policy: ") + field + " must be a positive integer");
  }
  out = v.get<uint64_t>() * scale;
  return Status::ok();
}

Status read_set(const json& j, const char* field, bool countries,
                std::set<std::string, std::less<>>& out) {
  if (!j.contains(field)) return Status::ok();
  if (!j[field].is_array())
    return Status::error(std::string("policy: ") + field + " must be a list");
  for (const auto& v : j[field]) {
    if (!v.is_string()) return Status::error(std::string("policy: ") + field + " lists strings");
    std::string s = v.get<std::string>();
    if (countries) CL_TRY(check_country(s).context(std::string("policy: ") + field));
    out.insert(std::move(s));
  }
  return Status::ok();
}

}  // namespace

Result<Policy> policy_from_json(const json& j) {
  Policy p;
  if (j.is_null()) return p;
  if (!j.is_object()) return Result<Policy>::error("'policy' must be a JSON object");
  CL_TRY(read_u64_scaled(j, "max_clock_skew_seconds", 1000, p.max_clock_skew_ms));
  // A sane bound: beyond an hour, a "signed time" says little, and a
  // transaction signed far ahead could sit in a block much later.
  if (p.max_clock_skew_ms > kMaxClockSkewMs) {
    return Result<Policy>::error("policy: max_clock_skew_seconds must be at most " +
                                 std::to_string(kMaxClockSkewMs / 1000));
  }
  CL_TRY(read_u64_scaled(j, "attestation_root_window_seconds", 1000, p.attestation_root_window_ms));
  CL_TRY(read_u64_scaled(j, "max_attestation_age_hours", 3600 * 1000, p.max_attestation_age_ms));
  CL_TRY(read_u64_scaled(j, "max_transit_hours", 3600 * 1000, p.max_transit_ms));
  CL_TRY(read_u64_scaled(j, "max_checkpoint_age_seconds", 1000, p.max_checkpoint_age_ms));
  CL_TRY(read_set(j, "controlled_eccns", false, p.controlled_eccns));
  CL_TRY(read_set(j, "controlled_models", false, p.controlled_models));
  CL_TRY(read_set(j, "restricted_destinations", true, p.restricted_destinations));
  CL_TRY(read_set(j, "permitted_install_countries", true, p.permitted_install_countries));
  CL_TRY(check_policy(p));
  return p;
}

Status check_policy(const Policy& p) {
  if (p.max_clock_skew_ms == 0 || p.max_clock_skew_ms > kMaxClockSkewMs) {
    return Status::error("policy: max_clock_skew_seconds must be 1 to " +
                         std::to_string(kMaxClockSkewMs / 1000));
  }
  if (p.attestation_root_window_ms == 0 || p.max_attestation_age_ms == 0 || p.max_transit_ms == 0 ||
      p.max_checkpoint_age_ms == 0) {
    return Status::error("policy: every duration must be positive");
  }
  for (const auto* set : {&p.restricted_destinations, &p.permitted_install_countries}) {
    for (const auto& c : *set) CL_TRY(check_country(c).context("policy"));
  }
  for (const auto* set : {&p.controlled_eccns, &p.controlled_models}) {
    for (const auto& v : *set) {
      if (v.empty() || v.size() > kMaxFieldBytes) {
        return Status::error("policy: a controlled model or ECCN is 1 to 256 bytes");
      }
    }
  }
  return Status::ok();
}

json policy_to_json(const Policy& p) {
  return json{{"max_clock_skew_seconds", p.max_clock_skew_ms / 1000},
              {"attestation_root_window_seconds", p.attestation_root_window_ms / 1000},
              {"max_attestation_age_hours", p.max_attestation_age_ms / 3600000},
              {"max_transit_hours", p.max_transit_ms / 3600000},
              {"max_checkpoint_age_seconds", p.max_checkpoint_age_ms / 1000},
              {"controlled_eccns", p.controlled_eccns},
              {"controlled_models", p.controlled_models},
              {"restricted_destinations", p.restricted_destinations},
              {"permitted_install_countries", p.permitted_install_countries}};
}

Result<std::vector<AdminGroup>> admin_groups_from_json(const json& j) {
  using R = Result<std::vector<AdminGroup>>;
  const char* what =
      "governance: 'groups' lists {\"name\", \"admins\": [member ids], \"min\": a whole "
      "number}";
  if (!j.is_array()) return R::error(what);
  std::vector<AdminGroup> groups;
  for (const auto& g : j) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string() || !g.contains("admins") ||
        !g["admins"].is_array() || !g.contains("min") || !g["min"].is_number_unsigned() ||
        g["min"].get<uint64_t>() > kMaxAdmins) {
      return R::error(what);
    }
    AdminGroup group{g["name"].get<std::string>(), {}, g["min"].get<uint32_t>()};
    for (const auto& a : g["admins"]) {
      if (!a.is_string()) return R::error(what);
      group.admins.push_back(a.get<std::string>());
    }
    std::sort(group.admins.begin(), group.admins.end());
    groups.push_back(std::move(group));
  }
  std::sort(groups.begin(), groups.end(),
            [](const AdminGroup& a, const AdminGroup& b) { return a.name < b.name; });
  CL_TRY(check_admin_groups(groups));
  return groups;
}

json admin_groups_to_json(const std::vector<AdminGroup>& groups) {
  json out = json::array();
  for (const auto& g : groups)
    out.push_back({{"name", g.name}, {"admins", g.admins}, {"min", g.min}});
  return out;
}

namespace {

Result<GovernanceRule> governance_from_json(const json& j) {
  if (!j.is_object()) return Result<GovernanceRule>::error("'governance' must be a JSON object");
  GovernanceRule rule;
  // A key this version does not know is refused, never ignored: a rule
  // read without part of it (a version before `groups` ignoring them) would
  // apply proposals the others do not.
  for (const auto& [key, value] : j.items()) {
    if (key != "admins" && key != "threshold" && key != "proposal_lifetime_hours" &&
        key != "groups") {
      return Result<GovernanceRule>::error("governance: unknown field '" + key +
                                           "' (admins, threshold, proposal_lifetime_hours, "
                                           "groups)");
    }
  }
  if (!j.contains("admins") || !j["admins"].is_array()) {
    return Result<GovernanceRule>::error("governance: 'admins' must be a list of member ids");
  }
  for (const auto& a : j["admins"]) {
    if (!a.is_string()) return Result<GovernanceRule>::error("governance: an admin is a member id");
    rule.admins.push_back(a.get<std::string>());
  }
  std::sort(rule.admins.begin(), rule.admins.end());
  if (!j.contains("threshold") || !j["threshold"].is_number_unsigned()) {
    return Result<GovernanceRule>::error("governance: 'threshold' must be a whole number");
  }
  uint64_t threshold = j["threshold"].get<uint64_t>();
  if (threshold > kMaxAdmins)
    return Result<GovernanceRule>::error("governance: threshold too large");
  rule.threshold = static_cast<uint32_t>(threshold);
  if (j.contains("proposal_lifetime_hours")) {
    const auto& v = j["proposal_lifetime_hours"];
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 ||
        v.get<uint64_t>() > kMaxProposalLifetimeMs / 3600000) {
      return Result<GovernanceRule>::error("governance: proposal_lifetime_hours must be 1 to " +
                                           std::to_string(kMaxProposalLifetimeMs / 3600000));
    }
    rule.proposal_lifetime_ms = v.get<uint64_t>() * 3600000;
  }
  if (j.contains("groups")) {
    auto groups = admin_groups_from_json(j["groups"]);
    if (!groups) return groups.status();
    rule.groups = std::move(*groups);
  }
  return rule;
}

json governance_to_json(const GovernanceRule& rule) {
  json j{{"admins", rule.admins},
         {"threshold", rule.threshold},
         {"proposal_lifetime_hours", rule.proposal_lifetime_ms / 3600000}};
  if (!rule.groups.empty()) j["groups"] = admin_groups_to_json(rule.groups);
  return j;
}

Result<RetiredKey> retired_key_from_json(const json& j) {
  using R = Result<RetiredKey>;
  const char* what =
      "retired_keys lists {\"member\", \"key_id\" (64 hex digits), \"at_index\", "
      "\"from_index\" (at most at_index)}";
  if (!j.is_object() || !j.contains("member") || !j["member"].is_string() ||
      !j.contains("key_id") || !j["key_id"].is_string() || !j.contains("at_index") ||
      !j["at_index"].is_number_unsigned() || !j.contains("from_index") ||
      !j["from_index"].is_number_unsigned()) {
    return R::error(what);
  }
  RetiredKey k;
  k.member = j["member"].get<std::string>();
  auto id = hex_decode(j["key_id"].get<std::string>());
  if (!id || id->size() != k.key_id.size()) return R::error(what);
  std::copy(id->begin(), id->end(), k.key_id.begin());
  k.at_index = j["at_index"].get<uint64_t>();
  k.from_index = j["from_index"].get<uint64_t>();
  if (k.from_index > k.at_index) return R::error(what);
  return k;
}

Result<Consortium> parse(const json& j) {
  if (!j.is_object()) return Result<Consortium>::error("the consortium file must be a JSON object");
  if (j.contains("derived")) {
    return Result<Consortium>::error(
        "this is a derived trust file (`chipledger trust --out`): the chipledger CLI takes it, "
        "but it is not a genesis; a node starts from the genesis trust file it was derived from "
        "(and follows the governance in its log)");
  }
  auto ledger_id = get_string(j, "ledger_id", "consortium");
  if (!ledger_id) return ledger_id.status();
  uint32_t quorum = j.value("quorum", 1u);
  auto policy = policy_from_json(j.value("policy", json()));
  if (!policy) return policy.status();
  auto c = Consortium::create(*ledger_id, quorum, *policy);
  if (!c) return c;
  for (const auto& m : j.value("members", json::array())) {
    auto member = member_from_json(m);
    if (!member) return member.status();
    CL_TRY(c->add_member(std::move(*member)));
  }
  for (const auto& n : j.value("nodes", json::array())) {
    auto node = node_from_json(n);
    if (!node) return node.status();
    CL_TRY(c->add_node(std::move(*node)));
  }
  if (j.contains("governance")) {
    auto rule = governance_from_json(j["governance"]);
    if (!rule) return rule.status();
    CL_TRY(c->set_governance(std::move(*rule)));
  }
  for (const auto& r : j.value("removed_members", json::array())) {
    if (!r.is_string()) return Result<Consortium>::error("removed_members lists member ids");
    CL_TRY(check_member_id(r.get<std::string>()).context("removed_members"));
    c->note_removed(r.get<std::string>());
  }
  for (const auto& k : j.value("retired_keys", json::array())) {
    auto retired = retired_key_from_json(k);
    if (!retired) return retired.status();
    c->note_retired(std::move(*retired));
  }
  for (const auto& r : j.value("removed_nodes", json::array())) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("raft_id") ||
        !r["raft_id"].is_number_unsigned()) {
      return Result<Consortium>::error("removed_nodes lists {\"id\", \"raft_id\"}");
    }
    CL_TRY(check_member_id(r["id"].get<std::string>()).context("removed_nodes"));
    c->note_removed_node(r["id"].get<std::string>(), r["raft_id"].get<uint64_t>());
  }
  for (const auto& k : j.value("retired_node_keys", json::array())) {
    auto retired = retired_node_key_from_json(k);
    if (!retired) return retired.status();
    c->note_retired_node_key(std::move(*retired));
  }
  for (const auto& l : j.value("landmarks", json::array())) {
    auto landmark = landmark_from_json(l);
    if (!landmark) return landmark.status();
    CL_TRY(c->add_landmark(std::move(*landmark)));
  }
  for (const auto& site : j.value("sites", json::array())) {
    auto parsed = site_from_json(site);
    if (!parsed) return parsed.status();
    CL_TRY(c->add_site(std::move(*parsed)));
  }
  if (j.contains("location")) {
    auto policy = location_policy_from_json(j["location"]);
    if (!policy) return policy.status();
    CL_TRY(c->set_location_policy(*policy));
  }
  if (j.contains("tls_ca")) {
    if (!j["tls_ca"].is_string()) {
      return Result<Consortium>::error("tls_ca must be the consortium CA's certificate (PEM text)");
    }
    CL_TRY(c->set_tls_ca(j["tls_ca"].get<std::string>()));
  }
  CL_TRY(c->validate());
  return c;
}

}  // namespace

std::string_view role_name(Role r) {
  for (const auto& [role, name] : kRoleNames) {
    if (role == r) return name;
  }
  return "unknown";
}

Result<Role> role_from_name(std::string_view name) {
  for (const auto& [role, n] : kRoleNames) {
    if (n == name) return role;
  }
  return Result<Role>::error("unknown role '" + std::string(name) +
                             "' (roles: manufacturer, distributor, operator, regulator, auditor)");
}

bool Member::can_hold_custody() const {
  return has_role(Role::manufacturer) || has_role(Role::distributor) || has_role(Role::operator_);
}

const PublicKey* Member::key(const Hash& key_id) const {
  for (const auto& k : keys) {
    if (k.key_id() == key_id) return &k;
  }
  return nullptr;
}

Result<Consortium> Consortium::create(std::string ledger_id, uint32_t quorum, Policy policy) {
  if (ledger_id.empty() || ledger_id.size() > kMaxFieldBytes ||
      ledger_id.find_first_of(" \n\t+") != std::string::npos) {
    return Result<Consortium>::error(
        "ledger_id must be 1-256 characters without spaces or '+' (it is the checkpoint origin)");
  }
  if (quorum == 0) return Result<Consortium>::error("quorum must be at least 1");
  Consortium c;
  c.ledger_id_ = std::move(ledger_id);
  c.quorum_ = quorum;
  c.policy_ = policy;
  return c;
}

Status Consortium::add_member(Member m) {
  CL_TRY(check_member_id(m.id).context("member"));
  CL_TRY(check_country(m.country).context("member " + m.id));
  if (m.roles.empty()) return Status::error("member " + m.id + " has no role");
  if (m.keys.empty()) return Status::error("member " + m.id + " has no key");
  if (members_.count(m.id)) return Status::error("member " + m.id + " is listed twice");
  std::string id = m.id;
  members_.emplace(std::move(id), std::move(m));
  return Status::ok();
}

Status Consortium::add_node(NodeInfo n) {
  CL_TRY(check_member_id(n.id).context("node"));
  if (!member(n.member)) {
    return Status::error("node " + n.id + " names unknown member '" + n.member + "'");
  }
  if (n.key.algorithm() != KeyAlgorithm::ed25519) {
    return Status::error("node " + n.id + ": checkpoint keys must be Ed25519");
  }
  if (node(n.id)) return Status::error("node " + n.id + " is listed twice");
  if (!n.raft_address.empty()) {
    CL_TRY(check_raft_address(n.raft_address).context("node " + n.id + ": raft_address"));
    if (n.raft_id == 0) return Status::error("node " + n.id + ": raft_address without a raft_id");
  }
  for (const auto& other : nodes_) {
    if (n.raft_id != 0 && other.raft_id == n.raft_id) {
      return Status::error("nodes " + other.id + " and " + n.id + " have the same raft_id " +
                           std::to_string(n.raft_id));
    }
    if (other.key.key_id() == n.key.key_id()) {
      return Status::error("nodes " + other.id + " and " + n.id +
                           " have the same checkpoint key: one key would count twice toward the "
                           "quorum, so one node could sign a fork alone");
    }
  }
  nodes_.push_back(std::move(n));
  return Status::ok();
}

bool GovernanceRule::is_admin(std::string_view id) const {
  return std::binary_search(admins.begin(), admins.end(), id);
}

RuleShortfall GovernanceRule::shortfall(const std::vector<std::string>& approvals) const {
  auto approved = [&](const std::string& a) {
    return std::binary_search(approvals.begin(), approvals.end(), a);
  };
  RuleShortfall s;
  size_t counted = 0;
  for (const auto& a : admins) counted += approved(a) ? 1 : 0;
  s.overall = counted >= threshold ? 0 : threshold - static_cast<uint32_t>(counted);
  for (const auto& g : groups) {
    size_t in_group = 0;
    for (const auto& a : g.admins) in_group += approved(a) && is_admin(a) ? 1 : 0;
    if (in_group < g.min) s.groups.emplace_back(g.name, g.min - static_cast<uint32_t>(in_group));
  }
  return s;
}

Status check_admin_group(const AdminGroup& g) {
  CL_TRY(check_member_id(g.name).context("governance: a group's name"));
  const std::string name = "governance: group " + g.name;
  if (g.admins.empty() || g.admins.size() > kMaxAdmins) {
    return Status::error(name + " must list 1 to " + std::to_string(kMaxAdmins) + " admins");
  }
  for (size_t i = 0; i < g.admins.size(); ++i) {
    CL_TRY(check_member_id(g.admins[i]).context(name));
    if (i > 0 && !(g.admins[i - 1] < g.admins[i])) {
      return Status::error(name + " lists admin " + g.admins[i] + " out of order or twice");
    }
  }
  if (g.min == 0 || g.min > g.admins.size()) {
    return Status::error(name + ": its min " + std::to_string(g.min) + " must be 1 to its " +
                         std::to_string(g.admins.size()) + " admins");
  }
  return Status::ok();
}

Status check_admin_groups(const std::vector<AdminGroup>& groups) {
  if (groups.size() > kMaxAdminGroups) {
    return Status::error("governance: at most " + std::to_string(kMaxAdminGroups) + " groups");
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    CL_TRY(check_admin_group(groups[i]));
    if (i > 0 && !(groups[i - 1].name < groups[i].name)) {
      return Status::error("governance: group " + groups[i].name +
                           " is out of order or listed twice");
    }
  }
  return Status::ok();
}

Member* Consortium::mutable_member(std::string_view id) {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

Status Consortium::remove_member(std::string_view id) {
  auto it = members_.find(id);
  if (it == members_.end()) return Status::error("member " + std::string(id) + " does not exist");
  members_.erase(it);
  removed_.insert(std::string(id));
  // Its landmarks and sites go with it (no statement of them counts after).
  std::erase_if(landmarks_, [&](const Landmark& l) { return l.member == id; });
  std::erase_if(sites_, [&](const auto& entry) { return entry.second.member == id; });
  return Status::ok();
}

void Consortium::note_removed(std::string id) { removed_.insert(std::move(id)); }

NodeInfo* Consortium::mutable_node(std::string_view id) {
  for (auto& n : nodes_) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Status Consortium::remove_node(std::string_view id, uint64_t at_index) {
  auto it =
      std::find_if(nodes_.begin(), nodes_.end(), [&](const NodeInfo& n) { return n.id == id; });
  if (it == nodes_.end()) return Status::error("node " + std::string(id) + " does not exist");
  note_retired_node_key(RetiredNodeKey{it->id, it->key.key_id(), at_index});
  note_removed_node(it->id, it->raft_id);
  nodes_.erase(it);
  return Status::ok();
}

void Consortium::note_removed_node(std::string id, uint64_t raft_id) {
  removed_nodes_.insert_or_assign(std::move(id), raft_id);
}

void Consortium::note_retired_node_key(RetiredNodeKey k) {
  const Hash id = k.key_id;
  retired_node_keys_.insert_or_assign(id, std::move(k));
}

Status check_raft_address(std::string_view address) {
  auto bad = [&] {
    return Status::error("'" + std::string(address.substr(0, 64)) +
                         "' is not an IPv4 address with a port (a.b.c.d:port)");
  };
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || address.size() > 21) return bad();
  auto number = [](std::string_view s, uint64_t max) -> std::optional<uint64_t> {
    // Canonical decimal: no leading zero (one address, one spelling).
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    uint64_t v = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    if (v > max) return std::nullopt;
    return v;
  };
  auto port = number(address.substr(colon + 1), 65535);
  if (!port || *port == 0) return bad();
  std::string_view host = address.substr(0, colon);
  for (int part = 0; part < 4; ++part) {
    auto dot = host.find('.');
    if ((part < 3) != (dot != std::string_view::npos)) return bad();
    if (!number(host.substr(0, dot), 255)) return bad();
    host = dot == std::string_view::npos ? std::string_view{} : host.substr(dot + 1);
  }
  return Status::ok();
}

void Consortium::note_retired(RetiredKey k) {
  const Hash id = k.key_id;
  retired_.insert_or_assign(id, std::move(k));
}

const RetiredKey* Consortium::retired_key(const Hash& key_id) const {
  auto it = retired_.find(key_id);
  return it == retired_.end() ? nullptr : &it->second;
}

Status Consortium::set_governance(GovernanceRule rule) {
  std::sort(rule.admins.begin(), rule.admins.end());
  if (std::adjacent_find(rule.admins.begin(), rule.admins.end()) != rule.admins.end()) {
    return Status::error("governance: an admin is listed twice");
  }
  if (rule.admins.size() > kMaxAdmins) {
    return Status::error("governance: at most " + std::to_string(kMaxAdmins) + " admins");
  }
  if (rule.proposal_lifetime_ms == 0 || rule.proposal_lifetime_ms > kMaxProposalLifetimeMs) {
    return Status::error("governance: the proposal lifetime must be 1 to " +
                         std::to_string(kMaxProposalLifetimeMs / 3600000) + " hours");
  }
  CL_TRY(check_admin_groups(rule.groups));
  governance_ = std::move(rule);
  return Status::ok();
}

Status Consortium::validate() const {
  if (members_.empty()) return Status::error("the consortium has no members");
  for (const auto& [id, m] : members_) {
    for (const auto& k : m.keys) {
      if (const RetiredKey* r = retired_key(k.key_id())) {
        return Status::error("member " + id + " holds key " + hex_encode(k.key_id()).substr(0, 16) +
                             "…, retired from " + r->member + " at log index " +
                             std::to_string(r->at_index) + ": a retired key is never used again");
      }
    }
  }
  for (const auto& id : removed_) {
    if (members_.count(id)) {
      return Status::error("member " + id + " was removed; its id cannot be used again");
    }
  }
  for (const auto& n : nodes_) {
    if (!member(n.member)) {
      return Status::error("node " + n.id + " names unknown member '" + n.member + "'");
    }
    if (removed_nodes_.count(n.id)) {
      return Status::error("node " + n.id + " was removed; its id cannot be used again");
    }
    for (const auto& [gone, raft_id] : removed_nodes_) {
      if (n.raft_id != 0 && raft_id == n.raft_id) {
        return Status::error("node " + n.id + " has raft_id " + std::to_string(n.raft_id) +
                             " of removed node " + gone + "; a Raft id is never used again");
      }
    }
    if (auto it = retired_node_keys_.find(n.key.key_id()); it != retired_node_keys_.end()) {
      return Status::error(
          "node " + n.id + " has checkpoint key " + hex_encode(n.key.key_id()).substr(0, 16) +
          "…, retired from node " + it->second.node + " at log index " +
          std::to_string(it->second.at_index) + ": a retired key is never used again");
    }
  }
  for (const auto& l : landmarks_) {
    if (!member(l.member)) {
      return Status::error("landmark " + l.id + " names unknown member '" + l.member + "'");
    }
  }
  for (const auto& [id, site] : sites_) {
    if (!member(site.member)) {
      return Status::error("site " + id + " names unknown member '" + site.member + "'");
    }
  }
  if (governance_) {
    if (governance_->admins.empty()) return Status::error("governance: no admins");
    for (const auto& a : governance_->admins) {
      if (!member(a)) return Status::error("governance: admin '" + a + "' is not a member");
    }
    if (governance_->threshold == 0 || governance_->threshold > governance_->admins.size()) {
      return Status::error("governance: the threshold " + std::to_string(governance_->threshold) +
                           " must be 1 to the " + std::to_string(governance_->admins.size()) +
                           " admins");
    }
    size_t active = 0;
    for (const auto& a : governance_->admins) active += member(a)->suspended ? 0 : 1;
    if (active < governance_->threshold) {
      return Status::error("governance: only " + std::to_string(active) +
                           " admins are not suspended, fewer than the threshold " +
                           std::to_string(governance_->threshold) +
                           ": nothing could be changed any more");
    }
    for (const auto& g : governance_->groups) {
      size_t active_in_group = 0;
      for (const auto& a : g.admins) {
        if (!governance_->is_admin(a)) {
          return Status::error("governance: group " + g.name + " names " + a +
                               ", who is not an admin");
        }
        active_in_group += member(a)->suspended ? 0 : 1;
      }
      if (active_in_group < g.min) {
        return Status::error("governance: group " + g.name + " has only " +
                             std::to_string(active_in_group) +
                             " admins not suspended, fewer than its min " + std::to_string(g.min) +
                             ": nothing could be changed any more");
      }
    }
  }
  size_t n = nodes_.size();
  if (n == 0) {
    if (quorum_ != 1) {
      return Status::error("quorum " + std::to_string(quorum_) +
                           " with no nodes (a consortium without nodes has quorum 1)");
    }
    return Status::ok();
  }
  if (quorum_ > n) {
    return Status::error("quorum " + std::to_string(quorum_) + " is larger than the " +
                         std::to_string(n) + " nodes");
  }
  if (2 * static_cast<uint64_t>(quorum_) <= n) {
    return Status::error("quorum " + std::to_string(quorum_) + " of " + std::to_string(n) +
                         " nodes is not a strict majority (at least " + std::to_string(n / 2 + 1) +
                         "): two checkpoints that disagree could each reach it");
  }
  return Status::ok();
}

Status Consortium::set_tls_ca(std::string pem) {
  auto certs = split_certificates(pem);
  if (!certs || certs->empty()) {
    return Status::error("tls_ca is not PEM certificate text" +
                         (certs ? std::string() : ": " + certs.reason()));
  }
  for (const auto& cert : *certs) {
    auto info = certificate_info(cert);
    if (!info) return info.status().context("tls_ca");
    if (!info->is_ca) {
      return Status::error("tls_ca holds a certificate that is not a CA ('" + info->common_name +
                           "')");
    }
  }
  tls_ca_ = std::move(pem);
  return Status::ok();
}

const Member* Consortium::member(std::string_view id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const NodeInfo* Consortium::node(std::string_view id) const {
  for (const auto& n : nodes_) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Result<Consortium> Consortium::from_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Result<Consortium>::error("the consortium file is not valid JSON");
  return parse(j);
}

Result<Consortium> Consortium::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<Consortium>::error("cannot read consortium file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = from_json(ss.str());
  if (!c) return c.status().context(path);
  return c;
}

const Landmark* Consortium::landmark(std::string_view id) const {
  auto it = std::lower_bound(landmarks_.begin(), landmarks_.end(), id,
                             [](const Landmark& l, std::string_view v) { return l.id < v; });
  return it != landmarks_.end() && it->id == id ? &*it : nullptr;
}

const Site* Consortium::site(std::string_view id) const {
  auto it = sites_.find(id);
  return it == sites_.end() ? nullptr : &it->second;
}

Status Consortium::add_landmark(Landmark l) {
  if (landmark(l.id)) return Status::error("landmark " + l.id + " is listed twice");
  if (landmarks_.size() >= kMaxLandmarks) {
    return Status::error("more than " + std::to_string(kMaxLandmarks) + " landmarks");
  }
  auto at = std::lower_bound(landmarks_.begin(), landmarks_.end(), l.id,
                             [](const Landmark& x, const std::string& v) { return x.id < v; });
  landmarks_.insert(at, std::move(l));
  return Status::ok();
}

Status Consortium::add_site(Site s) {
  if (sites_.count(s.id)) return Status::error("site " + s.id + " is listed twice");
  if (sites_.size() >= kMaxSites) {
    return Status::error("more than " + std::to_string(kMaxSites) + " sites");
  }
  std::string id = s.id;
  sites_.emplace(std::move(id), std::move(s));
  return Status::ok();
}

Status Consortium::remove_landmark(std::string_view id) {
  auto n = std::erase_if(landmarks_, [&](const Landmark& l) { return l.id == id; });
  if (n == 0) return Status::error("landmark " + std::string(id) + " is not listed");
  return Status::ok();
}

Status Consortium::remove_site(std::string_view id) {
  auto it = sites_.find(id);
  if (it == sites_.end()) return Status::error("site " + std::string(id) + " is not listed");
  sites_.erase(it);
  return Status::ok();
}

Status Consortium::set_location_policy(LocationPolicy p) {
  CL_TRY(check_location_policy(p));
  location_policy_ = p;
  return Status::ok();
}

std::string Consortium::governed_json() const {
  Consortium copy = *this;
  copy.tls_ca_.clear();
  return copy.to_json();
}

std::string Consortium::to_json() const {
  json j;
  j["ledger_id"] = ledger_id_;
  j["quorum"] = quorum_;
  j["policy"] = policy_to_json(policy_);
  j["members"] = json::array();
  for (const auto& [id, m] : members_) {
    json roles = json::array();
    for (Role r : m.roles) roles.push_back(role_name(r));
    json keys = json::array();
    for (const auto& k : m.keys) keys.push_back(k.pem());
    json member{
        {"id", id}, {"name", m.name}, {"roles", roles}, {"country", m.country}, {"keys", keys}};
    if (m.suspended) member["suspended"] = true;
    j["members"].push_back(std::move(member));
  }
  j["nodes"] = json::array();
  for (const auto& n : nodes_) {
    json node{{"id", n.id}, {"member", n.member}, {"key", n.key.pem()}};
    if (!n.api.empty()) node["api"] = n.api;
    if (n.raft_id != 0) node["raft_id"] = n.raft_id;
    if (!n.raft_address.empty()) node["raft_address"] = n.raft_address;
    j["nodes"].push_back(std::move(node));
  }
  if (governance_) j["governance"] = governance_to_json(*governance_);
  if (!landmarks_.empty()) {
    j["landmarks"] = json::array();
    for (const auto& l : landmarks_) j["landmarks"].push_back(landmark_to_json(l));
  }
  if (!sites_.empty()) {
    j["sites"] = json::array();
    for (const auto& [_, site] : sites_) j["sites"].push_back(site_to_json(site));
  }
  if (!landmarks_.empty() || !sites_.empty() || location_policy_ != LocationPolicy{}) {
    j["location"] = location_policy_to_json(location_policy_);
  }
  if (!removed_.empty()) j["removed_members"] = removed_;
  if (!retired_.empty()) {
    json keys = json::array();
    for (const auto& [id, k] : retired_) {
      keys.push_back({{"member", k.member},
                      {"key_id", hex_encode(id)},
                      {"at_index", k.at_index},
                      {"from_index", k.from_index}});
    }
    j["retired_keys"] = std::move(keys);
  }
  if (!removed_nodes_.empty()) {
    json nodes = json::array();
    for (const auto& [id, raft_id] : removed_nodes_) {
      nodes.push_back({{"id", id}, {"raft_id", raft_id}});
    }
    j["removed_nodes"] = std::move(nodes);
  }
  if (!retired_node_keys_.empty()) {
    json keys = json::array();
    for (const auto& [id, k] : retired_node_keys_) {
      keys.push_back({{"node", k.node}, {"key_id", hex_encode(id)}, {"at_index", k.at_index}});
    }
    j["retired_node_keys"] = std::move(keys);
  }
  if (!tls_ca_.empty()) j["tls_ca"] = tls_ca_;
  return j.dump(2) + "\n";
}

}  // namespace chipledger
