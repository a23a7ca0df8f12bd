#include "ledger/governance.h"

#include <algorithm>

#include "ledger/codec.h"

namespace chipledger {
namespace {

constexpr uint8_t kProposalVersion = 2;  // 2: revoke-key changes carry from_index

std::string short_hash(const Hash& h) { return hex_encode(h).substr(0, 16); }

// Which member, other than `except`, already holds a key with this id.
const Member* key_holder(const Consortium& c, const Hash& key_id, std::string_view except = {}) {
  for (const auto& [id, m] : c.members()) {
    if (id != except && m.key(key_id)) return &m;
  }
  return nullptr;
}

Status check_new_key(const Consortium& c, const Member& m, const PublicKey& key) {
  if (const RetiredKey* r = c.retired_key(key.key_id())) {
    return Status::error("key " + short_hash(key.key_id()) + "… was retired from " + r->member +
                         " at log index " + std::to_string(r->at_index) +
                         "; a retired key is never used again");
  }
  if (m.key(key.key_id())) {
    return Status::error("key " + short_hash(key.key_id()) + "… is already a key of " + m.id);
  }
  if (const Member* other = key_holder(c, key.key_id(), m.id)) {
    return Status::error("key " + short_hash(key.key_id()) + "… is a key of member " + other->id);
  }
  if (m.keys.size() >= kMaxKeysPerMember) {
    return Status::error("member " + m.id + " has " + std::to_string(kMaxKeysPerMember) +
                         " keys already; revoke one first");
  }
  return Status::ok();
}

Result<Member*> existing(Consortium& c, const std::string& id) {
  Member* m = c.mutable_member(id);
  if (!m) return Result<Member*>::error("member " + id + " does not exist");
  return m;
}

// A revocation of a key already retired (rotated away, or its member
// removed): it can only reach further back, to an earlier from_index.
Status revoke_retired(Consortium& c, const GovernanceChange& ch, const RetiredKey& r,
                      uint64_t proposed) {
  const std::string name = "key " + short_hash(ch.key_id) + "… of " + ch.member;
  if (!ch.from_index) {
    return Status::error(name + " was retired at log index " + std::to_string(r.at_index) +
                         "; revoking it again needs a from_index before that");
  }
  if (*ch.from_index > proposed) {
    return Status::error("from_index " + std::to_string(*ch.from_index) +
                         " is after the proposal's log index " + std::to_string(proposed) +
                         ": a revocation reaches back, never forward");
  }
  if (*ch.from_index >= r.from_index) {
    return Status::error(name + " is revoked from log index " + std::to_string(r.from_index) +
                         " already; a new revocation must reach further back");
  }
  RetiredKey lower = r;
  lower.from_index = *ch.from_index;
  c.note_retired(std::move(lower));
  return Status::ok();
}

Status add_member(Consortium& c, const GovernanceChange& ch) {
  if (c.member(ch.member)) return Status::error("member " + ch.member + " exists already");
  if (c.removed_members().count(ch.member)) {
    return Status::error("member id " + ch.member + " was removed; it is never used again");
  }
  Member m{ch.member, ch.name, ch.roles, ch.country, {}, false};
  for (const auto& der : ch.keys) {
    auto key = PublicKey::from_der(der);
    if (!key) return key.status();
    CL_TRY(check_new_key(c, m, *key));
    m.keys.push_back(std::move(*key));
  }
  return c.add_member(std::move(m));
}

// A checkpoint key new to the consortium: no node or member holds it and
// it was never retired.
Status check_new_node_key(const Consortium& c, const PublicKey& key) {
  const std::string name = "checkpoint key " + short_hash(key.key_id()) + "…";
  if (auto it = c.retired_node_keys().find(key.key_id()); it != c.retired_node_keys().end()) {
    return Status::error(name + " was retired from node " + it->second.node + " at log index " +
                         std::to_string(it->second.at_index) +
                         "; a retired key is never used again");
  }
  for (const auto& n : c.nodes()) {
    if (n.key.key_id() == key.key_id()) return Status::error(name + " is node " + n.id + "'s");
  }
  if (c.retired_key(key.key_id()) || key_holder(c, key.key_id())) {
    return Status::error(name + " is a member's key; a node has a key of its own");
  }
  return Status::ok();
}

Status add_node(Consortium& c, const GovernanceChange& ch) {
  if (c.node(ch.node)) return Status::error("node " + ch.node + " exists already");
  if (c.removed_nodes().count(ch.node)) {
    return Status::error("node id " + ch.node + " was removed; it is never used again");
  }
  auto key = PublicKey::from_der(ch.keys.at(0));
  if (!key) return key.status();
  CL_TRY(check_new_node_key(c, *key));
  return c.add_node(
      NodeInfo{ch.node, ch.member, std::move(*key), ch.api, ch.raft_id, ch.raft_address});
}

Status set_node_key(Consortium& c, const GovernanceChange& ch, uint64_t at) {
  NodeInfo* n = c.mutable_node(ch.node);
  if (!n) return Status::error("node " + ch.node + " does not exist");
  auto key = PublicKey::from_der(ch.keys.at(0));
  if (!key) return key.status();
  CL_TRY(check_new_node_key(c, *key));
  c.note_retired_node_key(RetiredNodeKey{n->id, n->key.key_id(), at});
  n->key = std::move(*key);
  return Status::ok();
}

// set_governance: new admins, threshold and lifetime, the groups kept;
// set_admin_groups: new groups, the rest kept.
Status set_rule(Consortium& c, const GovernanceChange& ch) {
  if (!c.governance()) return Status::error("this consortium has no governance rule");
  GovernanceRule rule = *c.governance();
  if (ch.kind == ChangeKind::set_admin_groups) {
    rule.groups = ch.groups;
  } else {
    std::vector<AdminGroup> groups = std::move(rule.groups);
    rule = ch.rule;
    rule.groups = std::move(groups);
  }
  return c.set_governance(std::move(rule));
}

// `at`: the log index the changes take effect at (the proposal's when it
// is only checked); `proposed`: the proposal's index.
Status apply_change(Consortium& c, const GovernanceChange& ch, uint64_t at, uint64_t proposed) {
  if (ch.kind == ChangeKind::add_member) return add_member(c, ch);
  if (ch.kind == ChangeKind::set_policy) {
    c.set_policy(ch.policy);
    return Status::ok();
  }
  if (ch.kind == ChangeKind::set_governance || ch.kind == ChangeKind::set_admin_groups) {
    return set_rule(c, ch);
  }
  if (ch.kind == ChangeKind::add_node) return add_node(c, ch);
  if (ch.kind == ChangeKind::remove_node) return c.remove_node(ch.node, at);
  if (ch.kind == ChangeKind::set_node_key) return set_node_key(c, ch, at);
  if (ch.kind == ChangeKind::set_quorum) {
    c.set_quorum(ch.quorum);
    return Status::ok();
  }
  if (ch.kind == ChangeKind::add_landmark) {
    auto key = PublicKey::from_der(ch.keys.at(0));
    if (!key) return key.status();
    return c.add_landmark(
        Landmark{ch.place, ch.member, std::move(*key), ch.where, ch.country, ch.url});
  }
  if (ch.kind == ChangeKind::remove_landmark) return c.remove_landmark(ch.place);
  if (ch.kind == ChangeKind::add_site) {
    return c.add_site(Site{ch.place, ch.member, ch.where, ch.country});
  }
  if (ch.kind == ChangeKind::remove_site) return c.remove_site(ch.place);
  if (ch.kind == ChangeKind::set_location_policy) return c.set_location_policy(ch.location);
  if (ch.kind == ChangeKind::remove_member) {
    // Its keys leave with it, never to be used again.
    if (const Member* m = c.member(ch.member)) {
      for (const auto& k : m->keys) c.note_retired(RetiredKey{m->id, k.key_id(), at, at});
    }
    return c.remove_member(ch.member);
  }
  if (ch.kind == ChangeKind::revoke_key && !c.member(ch.member)) {
    if (const RetiredKey* r = c.retired_key(ch.key_id); r && r->member == ch.member) {
      return revoke_retired(c, ch, *r, proposed);
    }
  }
  auto m = existing(c, ch.member);
  if (!m) return m.status();
  Member& member = **m;
  switch (ch.kind) {
    case ChangeKind::suspend_member:
      if (member.suspended) return Status::error("member " + member.id + " is suspended already");
      member.suspended = true;
      return Status::ok();
    case ChangeKind::reinstate_member:
      if (!member.suspended) return Status::error("member " + member.id + " is not suspended");
      member.suspended = false;
      return Status::ok();
    case ChangeKind::set_roles:
      member.roles = ch.roles;
      return Status::ok();
    case ChangeKind::set_country:
      member.country = ch.country;
      return Status::ok();
    case ChangeKind::add_key: {
      auto key = PublicKey::from_der(ch.keys.at(0));
      if (!key) return key.status();
      CL_TRY(check_new_key(c, member, *key));
      member.keys.push_back(std::move(*key));
      return Status::ok();
    }
    case ChangeKind::revoke_key: {
      auto it = std::find_if(member.keys.begin(), member.keys.end(),
                             [&](const PublicKey& k) { return k.key_id() == ch.key_id; });
      if (it == member.keys.end()) {
        const RetiredKey* r = c.retired_key(ch.key_id);
        if (r && r->member == member.id) return revoke_retired(c, ch, *r, proposed);
        return Status::error("key " + short_hash(ch.key_id) + "… is not a key of " + member.id);
      }
      if (member.keys.size() == 1) {
        return Status::error("revoking key " + short_hash(ch.key_id) + "… would leave " +
                             member.id + " without a key; add its new key first");
      }
      if (ch.from_index && *ch.from_index > proposed) {
        return Status::error("from_index " + std::to_string(*ch.from_index) +
                             " is after the proposal's log index " + std::to_string(proposed) +
                             ": a revocation reaches back, never forward");
      }
      member.keys.erase(it);
      c.note_retired(RetiredKey{member.id, ch.key_id, at, ch.from_index.value_or(at)});
      return Status::ok();
    }
    default:
      return Status::error("unknown change");
  }
}

Result<GovernanceStep> propose(const Consortium& c, const SignedTransaction& stx,
                               uint64_t log_index, size_t open_by_author) {
  const Transaction& tx = stx.tx;
  const auto& rule = c.governance();
  if (!rule) {
    return Result<GovernanceStep>::error(
        "this consortium has no governance rule: its trust file names no admins, so nothing "
        "can be changed");
  }
  if (!rule->is_admin(tx.author)) {
    return Result<GovernanceStep>::error("member " + tx.author +
                                         " is not a governance admin; only admins propose");
  }
  if (open_by_author >= kMaxOpenProposalsPerAdmin) {
    return Result<GovernanceStep>::error(tx.author + " has " + std::to_string(open_by_author) +
                                         " open proposals, the most an admin may have (" +
                                         std::to_string(kMaxOpenProposalsPerAdmin) +
                                         "); one must be applied or expire before another");
  }
  auto after = apply_changes(c, tx.changes, log_index, log_index);
  if (!after) return after.status();
  Proposal p;
  p.id = stx.txid;
  p.index = log_index;
  p.author = tx.author;
  p.time_ms = tx.time_ms;
  p.expires_ms = tx.time_ms > UINT64_MAX - rule->proposal_lifetime_ms
                     ? UINT64_MAX
                     : tx.time_ms + rule->proposal_lifetime_ms;
  p.changes = tx.changes;
  p.approvals = {tx.author};
  GovernanceStep step;
  if (rule->met_by(p.approvals)) {
    p.applied = true;
    p.applied_index = log_index;
    step.consortium = std::move(*after);
  }
  step.proposal = std::move(p);
  return step;
}

Result<GovernanceStep> vote(const Consortium& c, const SignedTransaction& stx, uint64_t log_index,
                            const Proposal* proposal) {
  using R = Result<GovernanceStep>;
  const Transaction& tx = stx.tx;
  const auto& rule = c.governance();
  if (!rule) return R::error("this consortium has no governance rule: there is nothing to vote on");
  if (!rule->is_admin(tx.author)) {
    return R::error("member " + tx.author + " is not a governance admin; only admins vote");
  }
  std::string name = "proposal " + short_hash(tx.proposal) + "…";
  if (!proposal) return R::error("there is no " + name + " in this ledger");
  if (proposal->applied) {
    return R::error(name + " was applied already, at log index " +
                    std::to_string(proposal->applied_index));
  }
  if (tx.time_ms > proposal->expires_ms) {
    return R::error(name + " expired " +
                    std::to_string((tx.time_ms - proposal->expires_ms) / 1000) +
                    " s before this vote was signed");
  }
  if (std::binary_search(proposal->approvals.begin(), proposal->approvals.end(), tx.author)) {
    return R::error(tx.author + " approved " + name + " already");
  }
  Proposal p = *proposal;
  p.approvals.insert(std::upper_bound(p.approvals.begin(), p.approvals.end(), tx.author),
                     tx.author);
  // Approvals that count, and the only ones kept: those of active admins
  // under the rule in force now (so the list never exceeds the admins).
  std::erase_if(p.approvals, [&](const std::string& a) { return !approval_counts(c, a); });
  GovernanceStep step;
  if (rule->met_by(p.approvals)) {
    auto after = apply_changes(c, p.changes, log_index, p.index);
    if (!after)
      return after.status().context(name + " meets its threshold, but its changes no longer apply");
    p.applied = true;
    p.applied_index = log_index;
    step.consortium = std::move(*after);
  }
  step.proposal = std::move(p);
  return step;
}

Result<GovernanceStep> rotate_key(const Consortium& c, const SignedTransaction& stx,
                                  uint64_t log_index) {
  const Transaction& tx = stx.tx;
  Consortium after = c;
  Member* m = after.mutable_member(tx.author);
  if (!m) return Result<GovernanceStep>::error("unknown member '" + tx.author + "'");
  auto key = PublicKey::from_der(tx.new_key);
  if (!key) return key.status().context("new key");
  auto old = std::find_if(m->keys.begin(), m->keys.end(),
                          [&](const PublicKey& k) { return k.key_id() == tx.key_id; });
  if (old == m->keys.end()) {
    return Result<GovernanceStep>::error("key " + short_hash(tx.key_id) + "… is not a key of " +
                                         m->id);
  }
  m->keys.erase(old);
  CL_TRY(check_new_key(after, *m, *key));
  m->keys.push_back(std::move(*key));
  after.note_retired(RetiredKey{m->id, tx.key_id, log_index, log_index});
  CL_TRY(after.validate());
  GovernanceStep step;
  step.consortium = std::move(after);
  return step;
}

// The member that runs a node replaces its checkpoint key without a vote,
// the old key endorsing the new one (a node that lost its key gets a new
// one by a set-node-key vote).
Result<GovernanceStep> rotate_node_key(const Consortium& c, const SignedTransaction& stx,
                                       uint64_t log_index) {
  using R = Result<GovernanceStep>;
  const Transaction& tx = stx.tx;
  Consortium after = c;
  NodeInfo* n = after.mutable_node(tx.node);
  if (!n) return R::error("node " + tx.node + " does not exist");
  if (n->member != tx.author) {
    return R::error("node " + n->id + " is run by " + n->member + ", not by " + tx.author +
                    "; only its operator rotates its key (or the admins vote set-node-key)");
  }
  auto key = PublicKey::from_der(tx.new_key);
  if (!key) return key.status().context("new node key");
  if (!n->key.verify(node_key_rotation_message(tx.ledger_id, n->id, tx.new_key),
                     tx.node_signature)) {
    return R::error("the node signature is not by node " + n->id +
                    "'s current checkpoint key: the old key must endorse the new one (a node that "
                    "lost its key gets a new one by a set-node-key vote)");
  }
  CL_TRY(check_new_node_key(after, *key));
  after.note_retired_node_key(RetiredNodeKey{n->id, n->key.key_id(), log_index});
  n->key = std::move(*key);
  CL_TRY(after.validate());
  GovernanceStep step;
  step.consortium = std::move(after);
  return step;
}

}  // namespace

bool approval_counts(const Consortium& c, std::string_view id) {
  const Member* m = c.member(id);
  return c.governance() && c.governance()->is_admin(id) && m && !m->suspended;
}

Bytes Proposal::encode() const {
  Writer w;
  w.u8(kProposalVersion).hash(id).u64(index).str(author).u64(time_ms).u64(expires_ms);
  w.u32(static_cast<uint32_t>(changes.size()));
  for (const auto& c : changes) encode_change(w, c);
  w.u32(static_cast<uint32_t>(approvals.size()));
  for (const auto& a : approvals) w.str(a);
  w.u8(applied ? 1 : 0).u64(applied_index);
  return w.take();
}

Result<Proposal> Proposal::decode(ByteView bytes) {
  using R = Result<Proposal>;
  Reader r(bytes);
  Proposal p;
  auto version = r.u8("proposal version");
  if (!version) return version.status();
  if (*version != kProposalVersion) {
    return R::error("unknown proposal record version " + std::to_string(*version));
  }
  auto id = r.hash("proposal id");
  if (!id) return id.status();
  p.id = *id;
  auto index = r.u64("proposal index");
  if (!index) return index.status();
  p.index = *index;
  auto author = r.str("proposal author", kMaxFieldBytes);
  if (!author) return author.status();
  p.author = std::move(*author);
  auto time = r.u64("proposal time");
  if (!time) return time.status();
  p.time_ms = *time;
  auto expires = r.u64("proposal expiry");
  if (!expires) return expires.status();
  p.expires_ms = *expires;
  auto n = r.count("changes", kMaxChangesPerProposal);
  if (!n) return n.status();
  for (uint32_t i = 0; i < *n; ++i) {
    auto c = decode_change(r);
    if (!c) return c.status();
    p.changes.push_back(std::move(*c));
  }
  auto m = r.count("approvals", kMaxAdmins);
  if (!m) return m.status();
  for (uint32_t i = 0; i < *m; ++i) {
    auto a = r.str("approval", kMaxFieldBytes);
    if (!a) return a.status();
    if (!p.approvals.empty() && !(p.approvals.back() < *a)) {
      return R::error("proposal approvals not sorted, or a repeat");
    }
    p.approvals.push_back(std::move(*a));
  }
  auto applied = r.u8("applied");
  if (!applied) return applied.status();
  if (*applied > 1) return R::error("proposal: applied is 0 or 1");
  p.applied = *applied == 1;
  auto applied_index = r.u64("applied index");
  if (!applied_index) return applied_index.status();
  p.applied_index = *applied_index;
  CL_TRY(r.expect_end("proposal record"));
  return p;
}

Result<Consortium> apply_changes(const Consortium& consortium,
                                 const std::vector<GovernanceChange>& changes, uint64_t at_index,
                                 uint64_t proposal_index) {
  Consortium after = consortium;
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& ch = changes[i];
    std::string where = "change " + std::to_string(i + 1) + " (" +
                        std::string(change_kind_name(ch.kind)) +
                        (!ch.place.empty()   ? " " + ch.place
                         : !ch.node.empty()  ? " " + ch.node
                         : ch.member.empty() ? ""
                                             : " " + ch.member) +
                        ")";
    CL_TRY(apply_change(after, ch, at_index, proposal_index).context(where));
  }
  CL_TRY(after.validate().context("after the changes"));
  return after;
}

Result<GovernanceStep> apply_governance(const Consortium& consortium, const SignedTransaction& stx,
                                        uint64_t log_index, const Proposal* proposal,
                                        size_t open_by_author) {
  switch (stx.tx.type) {
    case TxType::propose:
      return propose(consortium, stx, log_index, open_by_author);
    case TxType::vote:
      return vote(consortium, stx, log_index, proposal);
    case TxType::rotate_key:
      return rotate_key(consortium, stx, log_index);
    case TxType::rotate_node_key:
      return rotate_node_key(consortium, stx, log_index);
    default:
      return Result<GovernanceStep>::error("not a governance transaction");
  }
}

SerialRecord governance_record_after(const std::optional<SerialRecord>& before,
                                     const SignedTransaction& stx, uint64_t log_index) {
  SerialRecord r;
  r.last_event = stx.txid;
  r.last_index = log_index;
  r.last_time_ms = stx.tx.time_ms;
  r.events = (before ? before->events : 0) + 1;
  return r;
}

}  // namespace chipledger
