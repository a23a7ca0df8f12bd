#include "ledger/consortium.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/certificates.h"
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
  return NodeInfo{*id, *member, std::move(*key), std::move(api)};
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
  return p;
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

Result<Consortium> parse(const json& j) {
  if (!j.is_object()) return Result<Consortium>::error("the consortium file must be a JSON object");
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
  if (j.contains("tls_ca")) {
    if (!j["tls_ca"].is_string()) {
      return Result<Consortium>::error("tls_ca must be the consortium CA's certificate (PEM text)");
    }
    CL_TRY(c->set_tls_ca(j["tls_ca"].get<std::string>()));
  }
  if (c->members().empty()) return Result<Consortium>::error("the consortium has no members");
  if (c->quorum() > std::max<size_t>(c->nodes().size(), 1)) {
    return Result<Consortium>::error("quorum " + std::to_string(c->quorum()) +
                                     " is larger than the number of nodes");
  }
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
  nodes_.push_back(std::move(n));
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
    j["members"].push_back(
        {{"id", id}, {"name", m.name}, {"roles", roles}, {"country", m.country}, {"keys", keys}});
  }
  j["nodes"] = json::array();
  for (const auto& n : nodes_) {
    json node{{"id", n.id}, {"member", n.member}, {"key", n.key.pem()}};
    if (!n.api.empty()) node["api"] = n.api;
    j["nodes"].push_back(std::move(node));
  }
  if (!tls_ca_.empty()) j["tls_ca"] = tls_ca_;
  return j.dump(2) + "\n";
}

}  // namespace chipledger
