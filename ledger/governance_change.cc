#include "ledger/governance_change.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "ledger/codec.h"
#include "ledger/location_json.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, kMaxChangeKind + 1> kKindNames{"",
                                                                      "add-member",
                                                                      "remove-member",
                                                                      "suspend-member",
                                                                      "reinstate-member",
                                                                      "set-roles",
                                                                      "set-country",
                                                                      "add-key",
                                                                      "revoke-key",
                                                                      "set-policy",
                                                                      "set-governance",
                                                                      "add-node",
                                                                      "remove-node",
                                                                      "set-node-key",
                                                                      "set-quorum",
                                                                      "add-landmark",
                                                                      "remove-landmark",
                                                                      "add-site",
                                                                      "remove-site",
                                                                      "set-location-policy",
                                                                      "set-admin-groups"};

constexpr size_t kMaxKeyBytes = 512;

// Coordinates on the wire: unsigned offsets of the microdegrees.
constexpr int64_t kLatOffset = 90'000'000;
constexpr int64_t kLonOffset = 180'000'000;

void write_point(Writer& w, const GeoPoint& p) {
  w.u32(static_cast<uint32_t>(p.lat_e6 + kLatOffset));
  w.u32(static_cast<uint32_t>(p.lon_e6 + kLonOffset));
}

Result<GeoPoint> read_point(Reader& r) {
  auto lat = r.u32("latitude");
  if (!lat) return lat.status();
  auto lon = r.u32("longitude");
  if (!lon) return lon.status();
  if (*lat > 2 * kLatOffset || *lon > 2 * kLonOffset) {
    return Result<GeoPoint>::error("coordinates out of range");
  }
  return GeoPoint{static_cast<int32_t>(*lat - kLatOffset), static_cast<int32_t>(*lon - kLonOffset)};
}

bool is_location(ChangeKind k) {
  return k >= ChangeKind::add_landmark && k <= ChangeKind::set_location_policy;
}

// Changes that name a member first (add_node names its node first).
bool names_member(ChangeKind k) { return k <= ChangeKind::revoke_key; }
bool names_node(ChangeKind k) {
  return k == ChangeKind::add_node || k == ChangeKind::remove_node || k == ChangeKind::set_node_key;
}

// Role names in canonical (lexicographic) order.
std::vector<std::string> role_names(const std::set<Role>& roles) {
  std::vector<std::string> out;
  for (Role r : roles) out.emplace_back(role_name(r));
  std::sort(out.begin(), out.end());
  return out;
}

void write_strings(Writer& w, const std::vector<std::string>& list) {
  w.u32(static_cast<uint32_t>(list.size()));
  for (const auto& s : list) w.str(s);
}

template <typename Set>
std::vector<std::string> sorted(const Set& set) {
  return std::vector<std::string>(set.begin(), set.end());
}

// A sorted list without repeats; refused otherwise (one encoding per value).
Result<std::vector<std::string>> read_strings(Reader& r, const char* what, size_t max) {
  auto n = r.count(what, static_cast<uint32_t>(max));
  if (!n) return n.status();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < *n; ++i) {
    auto s = r.str(what, kMaxFieldBytes);
    if (!s) return s.status();
    if (!out.empty() && !(out.back() < *s)) {
      return Result<std::vector<std::string>>::error(std::string(what) +
                                                     ": not sorted, or a repeat");
    }
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::set<Role>> roles_of(const std::vector<std::string>& names) {
  std::set<Role> roles;
  for (const auto& n : names) {
    auto role = role_from_name(n);
    if (!role) return role.status();
    roles.insert(*role);
  }
  return roles;
}

void write_policy(Writer& w, const Policy& p) {
  w.u64(p.max_clock_skew_ms);
  write_strings(w, sorted(p.controlled_eccns));
  write_strings(w, sorted(p.controlled_models));
  write_strings(w, sorted(p.restricted_destinations));
  write_strings(w, sorted(p.permitted_install_countries));
  w.u64(p.attestation_root_window_ms).u64(p.max_attestation_age_ms).u64(p.max_transit_ms);
  w.u64(p.max_checkpoint_age_ms);
}

Result<Policy> read_policy(Reader& r) {
  Policy p;
  auto u = [&](const char* what, uint64_t& out) -> Status {
    auto v = r.u64(what);
    if (!v) return v.status();
    out = *v;
    return Status::ok();
  };
  auto set = [&](const char* what, std::set<std::string, std::less<>>& out) -> Status {
    auto list = read_strings(r, what, kMaxPolicyEntries);
    if (!list) return list.status();
    out.insert(list->begin(), list->end());
    return Status::ok();
  };
  CL_TRY(u("max clock skew", p.max_clock_skew_ms));
  CL_TRY(set("controlled eccns", p.controlled_eccns));
  CL_TRY(set("controlled models", p.controlled_models));
  CL_TRY(set("restricted destinations", p.restricted_destinations));
  CL_TRY(set("permitted install countries", p.permitted_install_countries));
  CL_TRY(u("attestation root window", p.attestation_root_window_ms));
  CL_TRY(u("max attestation age", p.max_attestation_age_ms));
  CL_TRY(u("max transit", p.max_transit_ms));
  CL_TRY(u("max checkpoint age", p.max_checkpoint_age_ms));
  return p;
}

constexpr uint64_t kSecondMs = 1000;
constexpr uint64_t kHourMs = 3600 * 1000;

// The consortium in force is stored as trust-file JSON, which states these
// in whole seconds or hours (docs/consortium.md): a value between would
// not survive a node's restart or a snapshot restore, and nodes would part.
Status check_whole_units(const Policy& p) {
  struct Field {
    const char* name;
    uint64_t value;
    uint64_t unit;
  };
  const Field fields[] = {
      {"max_clock_skew_seconds", p.max_clock_skew_ms, kSecondMs},
      {"attestation_root_window_seconds", p.attestation_root_window_ms, kSecondMs},
      {"max_checkpoint_age_seconds", p.max_checkpoint_age_ms, kSecondMs},
      {"max_attestation_age_hours", p.max_attestation_age_ms, kHourMs},
      {"max_transit_hours", p.max_transit_ms, kHourMs}};
  for (const auto& f : fields) {
    if (f.value % f.unit != 0) {
      return Status::error(std::string("policy: ") + f.name + " must be whole " +
                           (f.unit == kSecondMs ? "seconds" : "hours"));
    }
  }
  return Status::ok();
}

Status check_key(ByteView der) {
  auto key = PublicKey::from_der(der);
  if (!key) return key.status().context("key");
  if (key->der() != Bytes(der.begin(), der.end())) {
    return Status::error("key: not the canonical SubjectPublicKeyInfo DER");
  }
  if (key->algorithm() == KeyAlgorithm::ecdsa_p384) {
    return Status::error("key: a member key is Ed25519 or ECDSA P-256");
  }
  return Status::ok();
}

Status check_node_key(ByteView der) {
  CL_TRY(check_key(der));
  if (PublicKey::from_der(der)->algorithm() != KeyAlgorithm::ed25519) {
    return Status::error("key: a node's checkpoint key is Ed25519");
  }
  return Status::ok();
}

}  // namespace

std::string_view change_kind_name(ChangeKind k) {
  auto i = static_cast<size_t>(k);
  return i >= 1 && i < kKindNames.size() ? kKindNames[i] : "unknown";
}

Result<ChangeKind> change_kind_from_name(std::string_view name) {
  for (size_t i = 1; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<ChangeKind>(i);
  }
  std::string all;
  for (size_t i = 1; i < kKindNames.size(); ++i) {
    all += (i > 1 ? ", " : "") + std::string(kKindNames[i]);
  }
  return Result<ChangeKind>::error("unknown change '" + std::string(name) + "' (changes: " + all +
                                   ")");
}

bool GovernanceChange::operator==(const GovernanceChange& o) const {
  const Policy& a = policy;
  const Policy& b = o.policy;
  bool same_policy =
      a.max_clock_skew_ms == b.max_clock_skew_ms && a.controlled_eccns == b.controlled_eccns &&
      a.controlled_models == b.controlled_models &&
      a.restricted_destinations == b.restricted_destinations &&
      a.permitted_install_countries == b.permitted_install_countries &&
      a.attestation_root_window_ms == b.attestation_root_window_ms &&
      a.max_attestation_age_ms == b.max_attestation_age_ms &&
      a.max_transit_ms == b.max_transit_ms && a.max_checkpoint_age_ms == b.max_checkpoint_age_ms;
  return kind == o.kind && member == o.member && name == o.name && roles == o.roles &&
         country == o.country && keys == o.keys && key_id == o.key_id &&
         from_index == o.from_index && same_policy && rule == o.rule && node == o.node &&
         api == o.api && raft_id == o.raft_id && raft_address == o.raft_address &&
         quorum == o.quorum && place == o.place && where == o.where && url == o.url &&
         location == o.location && groups == o.groups;
}

void encode_change(Writer& w, const GovernanceChange& c) {
  w.u8(static_cast<uint8_t>(c.kind));
  switch (c.kind) {
    case ChangeKind::add_member:
      w.str(c.member).str(c.name);
      write_strings(w, role_names(c.roles));
      w.str(c.country).u32(static_cast<uint32_t>(c.keys.size()));
      for (const auto& k : c.keys) w.bytes(k);
      return;
    case ChangeKind::remove_member:
    case ChangeKind::suspend_member:
    case ChangeKind::reinstate_member:
      w.str(c.member);
      return;
    case ChangeKind::set_roles:
      w.str(c.member);
      write_strings(w, role_names(c.roles));
      return;
    case ChangeKind::set_country:
      w.str(c.member).str(c.country);
      return;
    case ChangeKind::add_key:
      w.str(c.member).bytes(c.keys.empty() ? Bytes{} : c.keys.front());
      return;
    case ChangeKind::revoke_key:
      w.str(c.member).hash(c.key_id);
      w.u8(c.from_index ? 1 : 0);
      if (c.from_index) w.u64(*c.from_index);
      return;
    case ChangeKind::set_policy:
      write_policy(w, c.policy);
      return;
    case ChangeKind::set_governance:
      write_strings(w, c.rule.admins);
      w.u32(c.rule.threshold).u64(c.rule.proposal_lifetime_ms);
      return;
    case ChangeKind::add_node:
      w.str(c.node).str(c.member).bytes(c.keys.empty() ? Bytes{} : c.keys.front());
      w.str(c.api).u64(c.raft_id).str(c.raft_address);
      return;
    case ChangeKind::remove_node:
      w.str(c.node);
      return;
    case ChangeKind::set_node_key:
      w.str(c.node).bytes(c.keys.empty() ? Bytes{} : c.keys.front());
      return;
    case ChangeKind::set_quorum:
      w.u32(c.quorum);
      return;
    case ChangeKind::add_landmark:
      w.str(c.place).str(c.member).bytes(c.keys.empty() ? Bytes{} : c.keys.front());
      write_point(w, c.where);
      w.str(c.country).str(c.url);
      return;
    case ChangeKind::add_site:
      w.str(c.place).str(c.member);
      write_point(w, c.where);
      w.str(c.country);
      return;
    case ChangeKind::remove_landmark:
    case ChangeKind::remove_site:
      w.str(c.place);
      return;
    case ChangeKind::set_location_policy:
      w.u32(c.location.max_location_km).u64(c.location.max_location_age_ms);
      w.u32(c.location.km_per_ms).u64(c.location.statement_window_ms);
      return;
    case ChangeKind::set_admin_groups:
      w.u32(static_cast<uint32_t>(c.groups.size()));
      for (const auto& g : c.groups) {
        w.str(g.name);
        write_strings(w, g.admins);
        w.u32(g.min);
      }
      return;
  }
}

Result<GovernanceChange> decode_change(Reader& r) {
  using R = Result<GovernanceChange>;
  auto kind = r.u8("change kind");
  if (!kind) return kind.status();
  if (*kind == 0 || *kind > kMaxChangeKind) {
    return R::error("unknown change kind " + std::to_string(*kind));
  }
  GovernanceChange c;
  c.kind = static_cast<ChangeKind>(*kind);
  auto str = [&](const char* what, std::string& out) -> Status {
    auto s = r.str(what, kMaxFieldBytes);
    if (!s) return s.status();
    out = std::move(*s);
    return Status::ok();
  };
  auto roles = [&]() -> Status {
    auto names = read_strings(r, "roles", 8);
    if (!names) return names.status();
    auto set = roles_of(*names);
    if (!set) return set.status();
    c.roles = std::move(*set);
    return Status::ok();
  };
  auto key = [&]() -> Status {
    auto k = r.bytes("key", kMaxKeyBytes);
    if (!k) return k.status();
    c.keys.push_back(std::move(*k));
    return Status::ok();
  };
  if (names_member(c.kind)) CL_TRY(str("member", c.member));
  if (names_node(c.kind)) CL_TRY(str("node", c.node));
  if (is_location(c.kind) && c.kind != ChangeKind::set_location_policy) {
    CL_TRY(str(c.kind == ChangeKind::add_landmark || c.kind == ChangeKind::remove_landmark
                   ? "landmark"
                   : "site",
               c.place));
  }
  auto point = [&]() -> Status {
    auto p = read_point(r);
    if (!p) return p.status();
    c.where = *p;
    return Status::ok();
  };
  switch (c.kind) {
    case ChangeKind::add_landmark:
      CL_TRY(str("member", c.member));
      CL_TRY(key());
      CL_TRY(point());
      CL_TRY(str("country", c.country));
      CL_TRY(str("url", c.url));
      break;
    case ChangeKind::add_site:
      CL_TRY(str("member", c.member));
      CL_TRY(point());
      CL_TRY(str("country", c.country));
      break;
    case ChangeKind::remove_landmark:
    case ChangeKind::remove_site:
      break;
    case ChangeKind::set_location_policy: {
      auto km = r.u32("max_location_km");
      if (!km) return km.status();
      auto age = r.u64("max_location_age");
      if (!age) return age.status();
      auto speed = r.u32("km_per_ms");
      if (!speed) return speed.status();
      auto window = r.u64("statement_window");
      if (!window) return window.status();
      c.location = LocationPolicy{*km, *age, *speed, *window};
      break;
    }
    case ChangeKind::add_node: {
      CL_TRY(str("member", c.member));
      CL_TRY(key());
      CL_TRY(str("api", c.api));
      auto id = r.u64("raft id");
      if (!id) return id.status();
      c.raft_id = *id;
      CL_TRY(str("raft address", c.raft_address));
      break;
    }
    case ChangeKind::remove_node:
      break;
    case ChangeKind::set_node_key:
      CL_TRY(key());
      break;
    case ChangeKind::set_admin_groups: {
      auto n = r.count("groups", kMaxAdminGroups);
      if (!n) return n.status();
      for (uint32_t i = 0; i < *n; ++i) {
        AdminGroup g;
        CL_TRY(str("group name", g.name));
        auto admins = read_strings(r, "group admins", kMaxAdmins);
        if (!admins) return admins.status();
        g.admins = std::move(*admins);
        auto min = r.u32("group min");
        if (!min) return min.status();
        g.min = *min;
        c.groups.push_back(std::move(g));
      }
      break;
    }
    case ChangeKind::set_quorum: {
      auto q = r.u32("quorum");
      if (!q) return q.status();
      c.quorum = *q;
      break;
    }
    case ChangeKind::add_member: {
      CL_TRY(str("name", c.name));
      CL_TRY(roles());
      CL_TRY(str("country", c.country));
      auto n = r.count("keys", kMaxKeysPerMember);
      if (!n) return n.status();
      for (uint32_t i = 0; i < *n; ++i) CL_TRY(key());
      break;
    }
    case ChangeKind::remove_member:
    case ChangeKind::suspend_member:
    case ChangeKind::reinstate_member:
      break;
    case ChangeKind::set_roles:
      CL_TRY(roles());
      break;
    case ChangeKind::set_country:
      CL_TRY(str("country", c.country));
      break;
    case ChangeKind::add_key:
      CL_TRY(key());
      break;
    case ChangeKind::revoke_key: {
      auto h = r.hash("key id");
      if (!h) return h.status();
      c.key_id = *h;
      auto has_from = r.u8("revoke-key's from_index flag");
      if (!has_from) return has_from.status();
      if (*has_from > 1) return Status::error("revoke-key's from_index flag is not 0 or 1");
      if (*has_from) {
        auto from = r.u64("revoke-key's from_index");
        if (!from) return from.status();
        c.from_index = *from;
      }
      break;
    }
    case ChangeKind::set_policy: {
      auto p = read_policy(r);
      if (!p) return p.status();
      c.policy = std::move(*p);
      break;
    }
    case ChangeKind::set_governance: {
      auto admins = read_strings(r, "admins", kMaxAdmins);
      if (!admins) return admins.status();
      c.rule.admins = std::move(*admins);
      auto t = r.u32("threshold");
      if (!t) return t.status();
      auto life = r.u64("proposal lifetime");
      if (!life) return life.status();
      c.rule.threshold = *t;
      c.rule.proposal_lifetime_ms = *life;
      break;
    }
  }
  CL_TRY(check_change(c).context(std::string(change_kind_name(c.kind))));
  return c;
}

Status check_change(const GovernanceChange& c) {
  if (static_cast<uint8_t>(c.kind) == 0 || static_cast<uint8_t>(c.kind) > kMaxChangeKind) {
    return Status::error("unknown change kind");
  }
  if (names_member(c.kind)) CL_TRY(check_member_id(c.member).context("member"));
  if (names_node(c.kind)) CL_TRY(check_member_id(c.node).context("node"));
  switch (c.kind) {
    case ChangeKind::add_node:
      CL_TRY(check_member_id(c.member).context("member"));
      if (c.keys.size() != 1) return Status::error("add-node names exactly one checkpoint key");
      CL_TRY(check_node_key(c.keys.front()));
      CL_TRY(check_field_text(c.api, "api", false));
      if (c.raft_id == 0) return Status::error("raft_id: a node's Raft id is at least 1");
      return check_raft_address(c.raft_address).context("raft_address");
    case ChangeKind::set_node_key:
      if (c.keys.size() != 1) return Status::error("set-node-key names exactly one key");
      return check_node_key(c.keys.front());
    case ChangeKind::set_quorum:
      if (c.quorum == 0) return Status::error("quorum: at least 1");
      return Status::ok();
    case ChangeKind::set_admin_groups:
      return check_admin_groups(c.groups);
    case ChangeKind::remove_node:
      return Status::ok();
    case ChangeKind::add_landmark:
      CL_TRY(check_member_id(c.place).context("landmark id"));
      CL_TRY(check_member_id(c.member).context("member"));
      if (c.keys.size() != 1) return Status::error("add-landmark names exactly one key");
      CL_TRY(check_key(c.keys.front()));
      if (PublicKey::from_der(c.keys.front())->algorithm() != KeyAlgorithm::ed25519) {
        return Status::error("key: a landmark's key is Ed25519");
      }
      CL_TRY(geo_point(degrees(c.where.lat_e6), degrees(c.where.lon_e6)).status());
      CL_TRY(check_country(c.country).context("country"));
      return check_field_text(c.url, "url", false);
    case ChangeKind::add_site:
      if (c.place.empty() || c.place.size() > 64)
        return Status::error("a site id is 1 to 64 bytes");
      CL_TRY(check_field_text(c.place, "site id", true));
      CL_TRY(check_member_id(c.member).context("member"));
      CL_TRY(geo_point(degrees(c.where.lat_e6), degrees(c.where.lon_e6)).status());
      return check_country(c.country).context("country");
    case ChangeKind::remove_landmark:
      return check_member_id(c.place).context("landmark id");
    case ChangeKind::remove_site:
      if (c.place.empty() || c.place.size() > 64)
        return Status::error("a site id is 1 to 64 bytes");
      return check_field_text(c.place, "site id", true);
    case ChangeKind::set_location_policy:
      CL_TRY(check_location_policy(c.location));
      // The trust file states them in whole seconds (as set-policy's).
      if (c.location.max_location_age_ms % kSecondMs != 0 ||
          c.location.statement_window_ms % kSecondMs != 0) {
        return Status::error(
            "location: max_location_age_seconds and statement_window_seconds are whole seconds");
      }
      return Status::ok();
    case ChangeKind::add_member:
      if (c.name.empty() || c.name.size() > kMaxFieldBytes) {
        return Status::error("a new member's name is 1 to 256 bytes");
      }
      CL_TRY(check_field_text(c.name, "name", true));
      if (c.roles.empty()) return Status::error("a new member needs at least one role");
      CL_TRY(check_country(c.country).context("country"));
      if (c.keys.empty() || c.keys.size() > kMaxKeysPerMember) {
        return Status::error("a new member has 1 to 8 keys");
      }
      for (const auto& k : c.keys) CL_TRY(check_key(k));
      return Status::ok();
    case ChangeKind::set_roles:
      if (c.roles.empty()) return Status::error("a member keeps at least one role");
      return Status::ok();
    case ChangeKind::set_country:
      return check_country(c.country).context("country");
    case ChangeKind::add_key:
      if (c.keys.size() != 1) return Status::error("add-key adds exactly one key");
      return check_key(c.keys.front());
    case ChangeKind::set_policy:
      CL_TRY(check_policy(c.policy));
      return check_whole_units(c.policy);
    case ChangeKind::set_governance:
      if (!c.rule.groups.empty()) {
        return Status::error(
            "set-governance keeps the rule's groups; set-admin-groups changes them");
      }
      for (const auto& a : c.rule.admins) CL_TRY(check_member_id(a).context("admin"));
      if (c.rule.admins.empty()) return Status::error("governance needs at least one admin");
      if (c.rule.threshold == 0 || c.rule.threshold > c.rule.admins.size()) {
        return Status::error("the threshold must be 1 to the number of admins");
      }
      if (c.rule.proposal_lifetime_ms == 0 ||
          c.rule.proposal_lifetime_ms > kMaxProposalLifetimeMs ||
          c.rule.proposal_lifetime_ms % kHourMs != 0) {
        return Status::error("the proposal lifetime must be whole hours, 1 to 720");
      }
      return Status::ok();
    case ChangeKind::remove_member:
    case ChangeKind::suspend_member:
    case ChangeKind::reinstate_member:
    case ChangeKind::revoke_key:
      return Status::ok();
  }
  return Status::error("unknown change kind");
}

json change_to_json(const GovernanceChange& c) {
  json j{{"change", change_kind_name(c.kind)}};
  if (names_member(c.kind) || c.kind == ChangeKind::add_node) j["member"] = c.member;
  if (names_node(c.kind)) j["node"] = c.node;
  auto keys_pem = [&]() {
    json keys = json::array();
    for (const auto& der : c.keys) {
      auto key = PublicKey::from_der(der);
      keys.push_back(key ? key->pem() : std::string("(not a key)"));
    }
    return keys;
  };
  switch (c.kind) {
    case ChangeKind::add_member:
      j["name"] = c.name;
      j["roles"] = role_names(c.roles);
      j["country"] = c.country;
      j["keys"] = keys_pem();
      break;
    case ChangeKind::set_roles:
      j["roles"] = role_names(c.roles);
      break;
    case ChangeKind::set_country:
      j["country"] = c.country;
      break;
    case ChangeKind::add_key:
      j["key"] = keys_pem().at(0);
      break;
    case ChangeKind::revoke_key:
      j["key_id"] = hex_encode(c.key_id);
      if (c.from_index) j["from_index"] = *c.from_index;
      break;
    case ChangeKind::set_policy:
      j["policy"] = policy_to_json(c.policy);
      break;
    case ChangeKind::set_governance:
      j["admins"] = c.rule.admins;
      j["threshold"] = c.rule.threshold;
      j["proposal_lifetime_hours"] = c.rule.proposal_lifetime_ms / 3600000;
      break;
    case ChangeKind::add_node:
      j["key"] = keys_pem().at(0);
      if (!c.api.empty()) j["api"] = c.api;
      j["raft_id"] = c.raft_id;
      j["raft_address"] = c.raft_address;
      break;
    case ChangeKind::set_node_key:
      j["key"] = keys_pem().at(0);
      break;
    case ChangeKind::set_quorum:
      j["quorum"] = c.quorum;
      break;
    case ChangeKind::add_landmark: {
      auto key =
          c.keys.empty() ? Result<PublicKey>::error("no key") : PublicKey::from_der(c.keys.front());
      if (key) {
        j["landmark"] =
            landmark_to_json(Landmark{c.place, c.member, *key, c.where, c.country, c.url});
      } else {
        j["landmark"] = c.place;
      }
      break;
    }
    case ChangeKind::add_site:
      j["site"] = site_to_json(Site{c.place, c.member, c.where, c.country});
      break;
    case ChangeKind::remove_landmark:
      j["landmark"] = c.place;
      break;
    case ChangeKind::remove_site:
      j["site"] = c.place;
      break;
    case ChangeKind::set_location_policy:
      j["location"] = location_policy_to_json(c.location);
      break;
    case ChangeKind::set_admin_groups:
      j["groups"] = admin_groups_to_json(c.groups);
      break;
    default:
      break;
  }
  return j;
}

Result<GovernanceChange> change_from_json(const json& j) {
  using R = Result<GovernanceChange>;
  if (!j.is_object() || !j.contains("change") || !j["change"].is_string()) {
    return R::error("a change is a JSON object with \"change\": its kind (e.g. \"add-member\")");
  }
  auto kind = change_kind_from_name(j["change"].get<std::string>());
  if (!kind) return kind.status();
  GovernanceChange c;
  c.kind = *kind;
  std::string where = std::string(change_kind_name(c.kind));
  auto text = [&](const char* field, std::string& out) -> Status {
    if (!j.contains(field) || !j[field].is_string()) {
      return Status::error(where + ": '" + field + "' (a string) is missing");
    }
    out = j[field].get<std::string>();
    return Status::ok();
  };
  auto pem_key = [&](const json& v) -> Status {
    if (!v.is_string()) return Status::error(where + ": a key is PEM text");
    auto key = PublicKey::from_pem(v.get<std::string>());
    if (!key) return key.status().context(where);
    c.keys.push_back(key->der());
    return Status::ok();
  };
  auto roles = [&]() -> Status {
    if (!j.contains("roles") || !j["roles"].is_array()) {
      return Status::error(where + ": 'roles' must be a list");
    }
    for (const auto& r : j["roles"]) {
      if (!r.is_string()) return Status::error(where + ": a role is a string");
      auto role = role_from_name(r.get<std::string>());
      if (!role) return role.status().context(where);
      c.roles.insert(*role);
    }
    return Status::ok();
  };
  if (names_member(c.kind) || c.kind == ChangeKind::add_node) CL_TRY(text("member", c.member));
  if (names_node(c.kind)) CL_TRY(text("node", c.node));
  switch (c.kind) {
    case ChangeKind::add_landmark: {
      if (!j.contains("landmark")) {
        return R::error(where + ": 'landmark' (a trust-file landmark entry) is missing");
      }
      auto l = landmark_from_json(j["landmark"]);
      if (!l) return l.status().context(where);
      c.place = l->id;
      c.member = l->member;
      c.keys = {l->key.der()};
      c.where = l->where;
      c.country = l->country;
      c.url = l->url;
      break;
    }
    case ChangeKind::add_site: {
      if (!j.contains("site"))
        return R::error(where + ": 'site' (a trust-file site entry) is missing");
      auto site = site_from_json(j["site"]);
      if (!site) return site.status().context(where);
      c.place = site->id;
      c.member = site->member;
      c.where = site->where;
      c.country = site->country;
      break;
    }
    case ChangeKind::remove_landmark:
      CL_TRY(text("landmark", c.place));
      break;
    case ChangeKind::remove_site:
      CL_TRY(text("site", c.place));
      break;
    case ChangeKind::set_admin_groups: {
      if (!j.contains("groups")) return R::error(where + ": 'groups' is missing ([] for none)");
      auto groups = admin_groups_from_json(j["groups"]);
      if (!groups) return groups.status().context(where);
      c.groups = std::move(*groups);
      break;
    }
    case ChangeKind::set_location_policy: {
      if (!j.contains("location")) return R::error(where + ": 'location' is missing");
      auto p = location_policy_from_json(j["location"]);
      if (!p) return p.status().context(where);
      c.location = *p;
      break;
    }
    case ChangeKind::add_node:
      if (!j.contains("key")) return R::error(where + ": 'key' (PEM text) is missing");
      CL_TRY(pem_key(j["key"]));
      if (j.contains("api")) CL_TRY(text("api", c.api));
      if (!j.contains("raft_id") || !j["raft_id"].is_number_unsigned()) {
        return R::error(where + ": 'raft_id' (the node's Raft server id) is missing");
      }
      c.raft_id = j["raft_id"].get<uint64_t>();
      CL_TRY(text("raft_address", c.raft_address));
      break;
    case ChangeKind::set_node_key:
      if (!j.contains("key")) return R::error(where + ": 'key' (PEM text) is missing");
      CL_TRY(pem_key(j["key"]));
      break;
    case ChangeKind::set_quorum:
      if (!j.contains("quorum") || !j["quorum"].is_number_unsigned() ||
          j["quorum"].get<uint64_t>() > 1024) {
        return R::error(where + ": 'quorum' must be a whole number");
      }
      c.quorum = j["quorum"].get<uint32_t>();
      break;
    case ChangeKind::add_member:
      c.name = j.value("name", c.member);
      CL_TRY(roles());
      CL_TRY(text("country", c.country));
      if (!j.contains("keys") || !j["keys"].is_array()) {
        return R::error(where + ": 'keys' must be a list of PEM public keys");
      }
      for (const auto& k : j["keys"]) CL_TRY(pem_key(k));
      break;
    case ChangeKind::set_roles:
      CL_TRY(roles());
      break;
    case ChangeKind::set_country:
      CL_TRY(text("country", c.country));
      break;
    case ChangeKind::add_key:
      if (!j.contains("key")) return R::error(where + ": 'key' (PEM text) is missing");
      CL_TRY(pem_key(j["key"]));
      break;
    case ChangeKind::revoke_key: {
      std::string hex;
      CL_TRY(text("key_id", hex));
      auto id = hex_decode(hex);
      if (!id || id->size() != c.key_id.size()) {
        return R::error(where + ": key_id is the key's SHA-256 id, 64 hex digits");
      }
      std::copy(id->begin(), id->end(), c.key_id.begin());
      if (j.contains("from_index")) {
        if (!j["from_index"].is_number_unsigned()) {
          return R::error(where + ": from_index is a log index");
        }
        c.from_index = j["from_index"].get<uint64_t>();
      }
      break;
    }
    case ChangeKind::set_policy: {
      if (!j.contains("policy")) return R::error(where + ": 'policy' is missing");
      auto p = policy_from_json(j["policy"]);
      if (!p) return p.status().context(where);
      c.policy = std::move(*p);
      break;
    }
    case ChangeKind::set_governance: {
      if (j.contains("groups")) {
        return R::error(where + ": keeps the rule's groups; set-admin-groups changes them");
      }
      if (!j.contains("admins") || !j["admins"].is_array()) {
        return R::error(where + ": 'admins' must be a list of member ids");
      }
      for (const auto& a : j["admins"]) {
        if (!a.is_string()) return R::error(where + ": an admin is a member id");
        c.rule.admins.push_back(a.get<std::string>());
      }
      std::sort(c.rule.admins.begin(), c.rule.admins.end());
      c.rule.admins.erase(std::unique(c.rule.admins.begin(), c.rule.admins.end()),
                          c.rule.admins.end());
      if (!j.contains("threshold") || !j["threshold"].is_number_unsigned()) {
        return R::error(where + ": 'threshold' must be a whole number");
      }
      c.rule.threshold = j["threshold"].get<uint32_t>();
      const json& hours = j.value("proposal_lifetime_hours", json(72));
      if (!hours.is_number_unsigned() || hours.get<uint64_t>() == 0 ||
          hours.get<uint64_t>() > kMaxProposalLifetimeMs / 3600000) {
        return R::error(where + ": proposal_lifetime_hours must be 1 to 720");
      }
      c.rule.proposal_lifetime_ms = hours.get<uint64_t>() * 3600000;
      break;
    }
    default:
      break;
  }
  CL_TRY(check_change(c).context(where));
  return c;
}

}  // namespace chipledger
