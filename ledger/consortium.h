// The consortium trust file: the ledger's id, its members (roles, country,
// public keys), the nodes and their checkpoint keys, the checkpoint quorum
// and the policy. Loaded once at genesis; what every node and client trusts.
// Format: docs/consortium.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "crypto/keys.h"
#include "crypto/result.h"
#include "ledger/location.h"

namespace chipledger {

enum class Role { manufacturer, distributor, operator_, regulator, auditor };
std::string_view role_name(Role r);
Result<Role> role_from_name(std::string_view name);

struct Member {
  std::string id;
  std::string name;  // display name of the organisation
  std::set<Role> roles;
  std::string country;  // ISO 3166-1 alpha-2
  std::vector<PublicKey> keys;
  // Suspended by a governance vote: signs nothing and receives nothing
  // until reinstated (docs/governance.md).
  bool suspended = false;

  bool has_role(Role r) const { return roles.count(r) != 0; }
  // Manufacturers, distributors and operators may hold custody of chips.
  bool can_hold_custody() const;
  const PublicKey* key(const Hash& key_id) const;
};

struct NodeInfo {
  std::string id;      // also the signer name in checkpoint notes
  std::string member;  // the organisation that runs it
  PublicKey key;       // Ed25519 checkpoint signing key
  // Where clients reach its API ("https://host:port"; empty: not said).
  // Only a hint for failover: nothing a client believes rests on it.
  std::string api;
  // Its Raft server id and address ("a.b.c.d:port"); 0 and empty: not said
  // (trust files written before governance managed Raft membership). A node
  // added or removed by governance has them: the leader changes the Raft
  // configuration to follow (docs/governance.md, section 6).
  uint64_t raft_id = 0;
  std::string raft_address;
};

// "a.b.c.d:port", the IPv4 form libraft parses; else why not.
Status check_raft_address(std::string_view address);

// A node's checkpoint key that governance retired (set-node-key or
// remove-node): it counts for no checkpoint of a size above `at_index`, and
// is never used again.
struct RetiredNodeKey {
  std::string node;
  Hash key_id{};
  uint64_t at_index = 0;
  bool operator==(const RetiredNodeKey&) const = default;
};

// The largest policy.max_clock_skew_seconds a trust file may set (1 hour).
inline constexpr uint64_t kMaxClockSkewMs = 3600 * 1000;

// The consortium's export-control and verification policy (docs/consortium.md).
struct Policy {
  uint64_t max_clock_skew_ms = 10 * 60 * 1000;                 // |tx time - block time| allowed
  std::set<std::string, std::less<>> controlled_eccns;         // e.g. 3A090, 4A090
  std::set<std::string, std::less<>> controlled_models;        // e.g. H100-SXM5
  std::set<std::string, std::less<>> restricted_destinations;  // countries needing a license
  // Countries where an install counts as permitted; empty: any country that
  // is not a restricted destination (or is licensed for the chip).
  std::set<std::string, std::less<>> permitted_install_countries;
  uint64_t attestation_root_window_ms = 60 * 60 * 1000;       // how recent an attested root must be
  uint64_t max_attestation_age_ms = 7 * 24 * 3600 * 1000ull;  // verdict: attestation freshness
  uint64_t max_transit_ms = 14 * 24 * 3600 * 1000ull;         // verdict: overdue in transit
  // verify: a checkpoint whose quorum of signatures is older is stale (it
  // must exceed the nodes' re-signing interval: docs/checkpoint.md).
  uint64_t max_checkpoint_age_ms = 600 * 1000;

  bool is_controlled(std::string_view model, std::string_view eccn) const {
    return controlled_models.count(model) || (!eccn.empty() && controlled_eccns.count(eccn));
  }
  bool is_restricted(std::string_view country) const {
    return restricted_destinations.count(country) != 0;
  }
};

// A group of admins (one organisation's, or one kind's, such as the
// regulators): a proposal needs at least `min` approvals from the group on
// top of the rule's threshold, so no coalition outside it decides alone.
struct AdminGroup {
  std::string name;                 // a member-style id
  std::vector<std::string> admins;  // sorted, no repeats, each an admin of the rule
  uint32_t min = 1;                 // 1 to the group's admins
  bool operator==(const AdminGroup&) const = default;
};

// How far a set of approvals is from meeting a rule: approvals still
// needed overall, and per group that is short, its name and how many.
struct RuleShortfall {
  uint32_t overall = 0;
  std::vector<std::pair<std::string, uint32_t>> groups;
  bool met() const { return overall == 0 && groups.empty(); }
};

// Who may change the consortium, and how (docs/governance.md): a proposal
// applies once `threshold` distinct admins approved it, `min` of them from
// each group, within `proposal_lifetime_ms` of its signed time.
struct GovernanceRule {
  std::vector<std::string> admins;  // member ids, sorted, no repeats
  uint32_t threshold = 0;
  uint64_t proposal_lifetime_ms = 72 * 3600 * 1000ull;
  std::vector<AdminGroup> groups{};  // sorted by name, no repeats; may be empty
  bool is_admin(std::string_view id) const;
  // `approvals`: admin ids, sorted, that count (active admins of this rule).
  RuleShortfall shortfall(const std::vector<std::string>& approvals) const;
  bool met_by(const std::vector<std::string>& approvals) const {
    return shortfall(approvals).met();
  }
  bool operator==(const GovernanceRule&) const = default;
};
inline constexpr uint64_t kMaxProposalLifetimeMs = 720 * 3600 * 1000ull;  // 30 days
inline constexpr size_t kMaxAdmins = 64;
inline constexpr size_t kMaxAdminGroups = 16;

// A group's own checks: a member-style name, 1 to kMaxAdmins admins with
// member-style ids, sorted without repeats, and 1 <= min <= its admins.
// Whether its admins are the rule's is Consortium::validate's check.
Status check_admin_group(const AdminGroup& group);
// A list of groups: at most kMaxAdminGroups, each checked, sorted by name
// without repeats.
Status check_admin_groups(const std::vector<AdminGroup>& groups);
// The trust file's `governance.groups` (docs/governance.md, section 2),
// sorted by name and checked.
Result<std::vector<AdminGroup>> admin_groups_from_json(const nlohmann::json& j);
nlohmann::json admin_groups_to_json(const std::vector<AdminGroup>& groups);

// The policy's own checks (positive durations, the clock-skew bound, ISO
// country codes), and its JSON form in the trust file.
Status check_policy(const Policy& policy);
Result<Policy> policy_from_json(const nlohmann::json& j);
nlohmann::json policy_to_json(const Policy& policy);

// A member key that governance retired (a rotation, or a revocation by
// vote): it signs nothing from `at_index` on, and its id is never used
// again. `from_index` <= `at_index`: a revocation that reaches back (a
// stolen key noticed late) makes the events it signed from there up to
// `at_index`, which the ledger had accepted, suspect (docs/governance.md,
// section 4); for a rotation it is `at_index`.
struct RetiredKey {
  std::string member;
  Hash key_id{};
  uint64_t at_index = 0;
  uint64_t from_index = 0;
  bool operator==(const RetiredKey&) const = default;
};

class Consortium {
 public:
  static Result<Consortium> from_json(std::string_view text);
  static Result<Consortium> load_file(const std::string& path);
  std::string to_json() const;
  // to_json without tls_ca: what the ledger stores of the consortium in
  // force (the CA is each node's trust-file setting, not governed).
  std::string governed_json() const;

  const std::string& ledger_id() const { return ledger_id_; }
  const Member* member(std::string_view id) const;
  const std::map<std::string, Member, std::less<>>& members() const { return members_; }
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const NodeInfo* node(std::string_view id) const;
  uint32_t quorum() const { return quorum_; }
  const Policy& policy() const { return policy_; }
  // The governance rule; nullopt: the trust file names none, and nothing
  // can be changed.
  const std::optional<GovernanceRule>& governance() const { return governance_; }
  // Member ids removed by governance: never used again.
  const std::set<std::string, std::less<>>& removed_members() const { return removed_; }
  // Keys retired by governance, by key id.
  const std::map<Hash, RetiredKey>& retired_keys() const { return retired_; }
  const RetiredKey* retired_key(const Hash& key_id) const;
  // Node ids removed by governance (never used again), with their Raft ids.
  const std::map<std::string, uint64_t, std::less<>>& removed_nodes() const {
    return removed_nodes_;
  }
  const std::map<Hash, RetiredNodeKey>& retired_node_keys() const { return retired_node_keys_; }
  // The consortium CA's certificate(s), PEM: what a node's HTTPS
  // certificate must chain to (docs/tls.md). Empty when the trust file
  // names none (older trust files; `--ca FILE` then).
  const std::string& tls_ca() const { return tls_ca_; }
  Status set_tls_ca(std::string pem);

  // Location proofs (docs/location.md): the landmarks (sorted by id), the
  // install sites with coordinates, and the location policy (defaults when
  // the trust file names none). No landmarks: no location verdicts.
  const std::vector<Landmark>& landmarks() const { return landmarks_; }
  const Landmark* landmark(std::string_view id) const;
  const std::map<std::string, Site, std::less<>>& sites() const { return sites_; }
  const Site* site(std::string_view id) const;
  const LocationPolicy& location_policy() const { return location_policy_; }
  Status add_landmark(Landmark l);              // refuses a second landmark with the id
  Status add_site(Site s);                      // refuses a second site with the id
  Status remove_landmark(std::string_view id);  // refuses an unknown id
  Status remove_site(std::string_view id);      // refuses an unknown id
  Status set_location_policy(LocationPolicy p);

  // Building a consortium (for `chipledger-node init`); each checks its input.
  static Result<Consortium> create(std::string ledger_id, uint32_t quorum, Policy policy);
  Status add_member(Member m);
  Status add_node(NodeInfo n);  // refuses a second node with the same key
  // The whole consortium: at least one member; the checkpoint quorum a
  // strict majority of the nodes (more than half, at most all), so that
  // two checkpoints that disagree can never both reach it; no two nodes with
  // one key or one Raft id; no removed id or retired key used again.
  Status validate() const;

  // Governance changes (ledger/governance.h applies them, then validate()).
  Member* mutable_member(std::string_view id);
  Status remove_member(std::string_view id);  // with its landmarks and sites
  void set_policy(Policy p) { policy_ = std::move(p); }
  Status set_governance(GovernanceRule rule);  // sorts the admins; validate() checks them
  void note_removed(std::string id);           // a member id removed earlier
  void note_retired(RetiredKey k);             // a key retired (its id never used again)
  NodeInfo* mutable_node(std::string_view id);
  // Removes the node, its key retired at `at_index`, its id never used again.
  Status remove_node(std::string_view id, uint64_t at_index);
  void note_removed_node(std::string id, uint64_t raft_id);
  void note_retired_node_key(RetiredNodeKey k);
  void set_quorum(uint32_t quorum) { quorum_ = quorum; }

 private:
  std::string ledger_id_;
  std::map<std::string, Member, std::less<>> members_;
  std::vector<NodeInfo> nodes_;
  uint32_t quorum_ = 1;
  Policy policy_;
  std::optional<GovernanceRule> governance_;
  std::set<std::string, std::less<>> removed_;
  std::map<Hash, RetiredKey> retired_;
  std::map<std::string, uint64_t, std::less<>> removed_nodes_;
  std::map<Hash, RetiredNodeKey> retired_node_keys_;
  std::string tls_ca_;
  std::vector<Landmark> landmarks_;
  std::map<std::string, Site, std::less<>> sites_;
  LocationPolicy location_policy_;
};

}  // namespace chipledger
