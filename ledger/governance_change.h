// One change a governance proposal makes to the consortium
// (docs/governance.md, "Changes"): its canonical encoding inside a propose
// transaction, its syntax checks, and its readable JSON (what the CLI
// builds and a node shows). Whether a change is allowed is governance's
// job (ledger/governance.h), not this file's.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"
#include "ledger/consortium.h"
#include "ledger/location.h"

namespace chipledger {

class Writer;
class Reader;

enum class ChangeKind : uint8_t {
  add_member = 1,
  remove_member = 2,
  suspend_member = 3,
  reinstate_member = 4,
  set_roles = 5,
  set_country = 6,
  add_key = 7,
  revoke_key = 8,
  set_policy = 9,
  set_governance = 10,
  add_node = 11,
  remove_node = 12,
  set_node_key = 13,
  set_quorum = 14,
  add_landmark = 15,
  remove_landmark = 16,
  add_site = 17,
  remove_site = 18,
  set_location_policy = 19,
  set_admin_groups = 20,
};
inline constexpr uint8_t kMaxChangeKind = 20;
std::string_view change_kind_name(ChangeKind k);  // "add-member", "remove-member", ...
Result<ChangeKind> change_kind_from_name(std::string_view name);

inline constexpr size_t kMaxChangesPerProposal = 32;
inline constexpr size_t kMaxKeysPerMember = 8;
inline constexpr size_t kMaxPolicyEntries = 1024;

struct GovernanceChange {
  ChangeKind kind = ChangeKind::add_member;
  std::string member;    // every member change: the member's id; add_node: who runs it
  std::string name;      // add_member: display name
  std::set<Role> roles;  // add_member, set_roles
  std::string country;   // add_member, set_country
  // add_member (1 to 8), add_key, add_node and set_node_key (exactly 1): SPKI DER
  std::vector<Bytes> keys;
  Hash key_id{};  // revoke_key
  // revoke_key: the log index from which the key's events are suspect (a
  // stolen key noticed late), at most the proposal's index; nullopt: from
  // the revocation on.
  std::optional<uint64_t> from_index;
  Policy policy;  // set_policy: the whole new policy
  // set_governance: the new admins, threshold and lifetime (its groups
  // stay empty: the rule's groups are kept, set_admin_groups changes them)
  GovernanceRule rule;
  std::vector<AdminGroup> groups;  // set_admin_groups: every group, sorted by name
  std::string node;                // add_node, remove_node, set_node_key: the node's id
  std::string api;                 // add_node: its API URL (may be empty)
  uint64_t raft_id = 0;            // add_node: its Raft server id (> 0)
  std::string raft_address;        // add_node: its Raft address, a.b.c.d:port
  uint32_t quorum = 0;             // set_quorum: the new checkpoint quorum
  // Location (docs/location.md, section 2). add_landmark: place, member
  // (who runs it), keys (its Ed25519 key), where, country, url; add_site:
  // place, member (the operator declaring it), where, country;
  // remove_landmark, remove_site: place.
  std::string place;
  GeoPoint where;
  std::string url;
  LocationPolicy location;  // set_location_policy: the whole new policy

  bool operator==(const GovernanceChange& o) const;
};

// Canonical bytes (docs/governance.md); decode refuses what encode would
// not write (unknown kinds, unsorted or repeated lists, keys that are not
// canonical SubjectPublicKeyInfo DER, over-long fields).
void encode_change(Writer& w, const GovernanceChange& c);
Result<GovernanceChange> decode_change(Reader& r);
// The syntax checks decode makes, for a change built in code.
Status check_change(const GovernanceChange& c);

// {"change": "add-member", "member": ..., ...}; keys as PEM text.
nlohmann::json change_to_json(const GovernanceChange& c);
Result<GovernanceChange> change_from_json(const nlohmann::json& j);

}  // namespace chipledger
