#include "ledger/cosignature_book.h"

#include "ledger/checkpoint.h"

namespace chipledger {
namespace {

std::string short_hex(const Hash& h) { return hex_encode(h).substr(0, 16); }

std::string names(const std::map<std::string, TimedSignature>& by_node) {
  std::string who;
  for (const auto& [name, sig] : by_node) who += (who.empty() ? "" : ", ") + name;
  return who;
}

// "root R…, state root S…" of an entry, for messages.
std::string roots_of(const Hash& root, const Hash& state_root) {
  return "root " + short_hex(root) + "…, state root " + short_hex(state_root) + "…";
}
std::string roots_of(const CosignedSize& s) { return roots_of(s.root, s.state_root); }

// Whether two entries commit to the same checkpoint (log and state root).
bool same_roots(const CosignedSize& a, const CosignedSize& b) {
  return a.root == b.root && a.state_root == b.state_root;
}

// Whether `sig` is by a node in force in `c`, with the key it has there.
bool by_node_in_force(const Consortium& c, const NoteSignature& sig) {
  const NodeInfo* node = c.node(sig.name);
  if (!node) return false;
  auto hash = NoteVerifier{node->id, node->key}.cosignature_key_hash();
  return hash && *hash == sig.key_hash;
}

// Only the signatures by nodes in force in `c`.
std::map<std::string, TimedSignature> in_force_only(
    const Consortium& c, const std::map<std::string, TimedSignature>& m) {
  std::map<std::string, TimedSignature> out;
  for (const auto& [name, sig] : m) {
    if (by_node_in_force(c, sig.sig)) out.emplace(name, sig);
  }
  return out;
}

std::vector<std::string> signers_of(const CosignedSize& s) {
  std::vector<std::string> out;
  for (const auto& [name, sig] : s.by_node) out.push_back(name);
  return out;
}

}  // namespace

bool merge_newest(std::map<std::string, TimedSignature>& into,
                  const std::map<std::string, TimedSignature>& from) {
  bool changed = false;
  for (const auto& [name, sig] : from) {
    auto [it, fresh] = into.try_emplace(name, sig);
    if (!fresh && sig.time > it->second.time) {
      it->second = sig;
      fresh = true;
    }
    changed |= fresh;
  }
  return changed;
}

CosignatureBook::CosignatureBook(ConsortiumAt consortium_at, std::string self, Options options)
    : consortium_at_(std::move(consortium_at)),
      ledger_id_(consortium_at_(0)->ledger_id()),
      self_(std::move(self)),
      options_(options) {}

CosignatureBook::CosignatureBook(const Consortium& consortium, std::string self, Options options)
    : CosignatureBook(
          [&consortium](uint64_t) {
            return std::shared_ptr<const Consortium>(std::shared_ptr<const Consortium>(),
                                                     &consortium);
          },
          std::move(self), options) {}

std::string CosignatureBook::text(uint64_t size, const Hash& root, const Hash& state_root) const {
  return Checkpoint::make(ledger_id_, size, root, state_root).text();
}

Result<CheckedNote> CosignatureBook::check(std::string_view wire, uint64_t now_seconds) const {
  using R = Result<CheckedNote>;
  // At most one signature per node is kept, so a note with more lines than
  // the consortium ever had nodes (those now and those removed) is refused
  // before any is verified.
  const auto now = consortium_at_(UINT64_MAX);
  auto note = parse_note(wire, now->nodes().size() + now->removed_nodes().size());
  if (!note) return R::error("not a signed note: " + note.reason());
  auto cp = Checkpoint::parse(note->text);
  if (!cp) return R::error("not a checkpoint: " + cp.reason());
  if (cp->origin != ledger_id_) {
    return R::error("the checkpoint is for '" + cp->origin + "', not for ledger '" + ledger_id_ +
                    "'");
  }
  auto state_root = cp->state_root();
  if (!state_root) return R::error("the checkpoint commits to no state root");
  if (note->text != text(cp->size, cp->root, *state_root)) {
    return R::error("the checkpoint has extension lines this ledger does not write");
  }
  if (note->signatures.empty()) return R::error("the note has no signature");
  CheckedNote out{cp->size, note->text, CosignedSize{cp->root, *state_root, {}}};
  const auto in_force = consortium_at_(cp->size);
  std::string skipped;
  for (const auto& sig : note->signatures) {
    // A signature by a node not in force at that size (removed before it,
    // added after it, or with a key it no longer has there) never counts:
    // it is left out, unverified, and the others are judged on their own.
    if (!by_node_in_force(*in_force, sig)) {
      skipped += (skipped.empty() ? "" : "; ") +
                 (in_force->node(sig.name)
                      ? "the signature by " + sig.name + " is not by its key at that size"
                      : "'" + sig.name + "' is a node the consortium does not list at that size");
      continue;
    }
    auto time = verify_node_cosignature(*in_force, note->text, sig);
    if (!time) return R::error(time.reason());
    if (*time > now_seconds + options_.max_future_seconds) {
      return R::error("the signature by " + sig.name + " is dated " +
                      std::to_string(*time - now_seconds) +
                      " s in this node's future, more than the policy's clock skew");
    }
    merge_newest(out.entry.by_node, {{sig.name, TimedSignature{sig, *time}}});
  }
  if (out.entry.by_node.empty()) {
    return R::error("the note has no signature by a node in force at checkpoint " +
                    std::to_string(cp->size) + ": " + skipped);
  }
  return out;
}

std::optional<CosignedSize> CosignatureBook::parse_stored(std::string_view wire,
                                                          uint64_t size) const {
  auto note = parse_note(wire);
  if (!note) return std::nullopt;
  auto cp = Checkpoint::parse(note->text);
  if (!cp || cp->size != size) return std::nullopt;
  auto state_root = cp->state_root();  // none: stored before checkpoints had one
  if (!state_root || note->text != text(size, cp->root, *state_root)) return std::nullopt;
  CosignedSize s{cp->root, *state_root, {}};
  const auto in_force = consortium_at_(size);
  for (const auto& sig : note->signatures) {
    auto time = verify_node_cosignature(*in_force, note->text, sig);
    if (time) merge_newest(s.by_node, {{sig.name, TimedSignature{sig, *time}}});
  }
  if (s.by_node.empty()) return std::nullopt;
  return s;
}

void CosignatureBook::recall(uint64_t size, CosignedSize entry) {
  if (!remembers(size)) keep(size, entry);
}

std::string CosignatureBook::render(uint64_t size, const CosignedSize& s) const {
  // The signatures that count at this size, and this node's own (which a
  // node removed before this size still shows; peers leave it out).
  SignedNote note{text(size, s.root, s.state_root), {}};
  const auto in_force = consortium_at_(size);
  for (const auto& [name, sig] : s.by_node) {
    if (name == self_ || by_node_in_force(*in_force, sig.sig)) note.signatures.push_back(sig.sig);
  }
  return format_note(note);
}

ServedCheckpoint CosignatureBook::view(uint64_t size, const CosignedSize& s) const {
  ServedCheckpoint v;
  v.note = render(size, s);
  v.size = size;
  v.root = s.root;
  v.state_root = s.state_root;
  // Only the nodes in force at this size count (a signature kept before a
  // node change reached this node, or its own after its removal, does not).
  const auto in_force = consortium_at_(size);
  for (const auto& [name, sig] : s.by_node) {
    if (!by_node_in_force(*in_force, sig.sig)) continue;
    v.signers.push_back(name);
    v.times.push_back(sig.time);
  }
  const uint32_t quorum = in_force->quorum();
  v.quorum = v.signers.size() >= quorum;
  v.fresh_as_of = quorum_time(v.times, quorum);
  return v;
}

void CosignatureBook::keep(uint64_t size, const CosignedSize& s) {
  recent_[size] = s;
  while (recent_.size() > options_.recent_sizes) recent_.erase(recent_.begin());
  ServedCheckpoint v = view(size, s);
  if (!newest_ || size >= newest_->size) newest_ = v;
  if (v.quorum && (!quorum_cp_ || size >= quorum_cp_->size)) quorum_cp_ = std::move(v);
}

Status CosignatureBook::fail(std::string reason) {
  if (failure_.empty()) failure_ = reason;
  return Status::error(std::move(reason));
}

Result<CosignatureBook::Signed> CosignatureBook::sign_own(uint64_t size, const Hash& root,
                                                          const Hash& state_root,
                                                          TimedSignature own) {
  if (failed()) return Status::error("this node stopped signing checkpoints: " + failure_);
  const CosignedSize mine{root, state_root, {}};
  auto it = recent_.find(size);
  if (it != recent_.end() && !same_roots(it->second, mine)) {
    return fail("this node signed checkpoint " + std::to_string(size) + " with " +
                roots_of(it->second) + ", but its own ledger now has " + roots_of(mine) +
                " at that size: its history disagrees with a checkpoint it signed");
  }
  CosignedSize s = it != recent_.end() ? it->second : mine;
  merge_newest(s.by_node, {{self_, std::move(own)}});
  Signed out;
  // Peers' signatures that arrived before this node reached the size.
  for (auto a = ahead_.begin(); a != ahead_.end() && a->first <= size; a = ahead_.erase(a)) {
    if (a->first != size) continue;
    if (same_roots(a->second, mine)) {
      // Checked when they came by the nodes this node knew then; kept only
      // if by nodes in force at this size, now that it is known.
      merge_newest(s.by_node, in_force_only(*consortium_at_(size), a->second.by_node));
    } else if (a->second.by_node.count(self_)) {
      return fail("a peer showed this node's own signature on checkpoint " + std::to_string(size) +
                  " with " + roots_of(a->second) + ", but its own ledger has " + roots_of(mine) +
                  " at that size: its history disagrees with a checkpoint it signed");
    } else {
      out.warning = "node(s) " + names(a->second.by_node) + " signed checkpoint " +
                    std::to_string(size) + " with " + roots_of(a->second) + "; this node's has " +
                    roots_of(mine) + "; not kept";
    }
  }
  keep(size, s);
  out.note = render(size, s);
  return out;
}

CosignOutcome CosignatureBook::add(const CheckedNote& in, uint64_t own_size,
                                   const std::optional<Hash>& own_root,
                                   const std::optional<Hash>& own_state_root) {
  using Kind = CosignOutcome::Kind;
  CosignOutcome out;
  out.size = in.size;
  if (failed()) {
    out.kind = Kind::stopped;
    out.reason = "this node stopped signing checkpoints: " + failure_;
    return out;
  }
  if (in.size > own_size) return add_ahead(in);
  if (!own_root || !own_state_root ||
      !same_roots(in.entry, CosignedSize{*own_root, *own_state_root, {}})) {
    std::string own =
        own_root && own_state_root ? roots_of(*own_root, *own_state_root) : std::string("no roots");
    out.kind = Kind::conflict;
    out.reason = "checkpoint " + std::to_string(in.size) + " has " + roots_of(in.entry) +
                 ", but this node's ledger has " + own + " at that size";
    if (in.entry.by_node.count(self_)) {
      (void)fail("a peer showed this node's own valid signature on checkpoint " +
                 std::to_string(in.size) + " with " + roots_of(in.entry) +
                 ", but its own ledger has " + own +
                 " at that size: its history disagrees with a checkpoint it signed");
    } else {
      out.warning = "refused cosignatures: " + out.reason;
    }
    return out;
  }
  auto it = recent_.find(in.size);
  CosignedSize s = it != recent_.end() ? it->second : CosignedSize{*own_root, *own_state_root, {}};
  out.changed = merge_newest(s.by_node, in.entry.by_node) || it == recent_.end();
  if (out.changed) keep(in.size, s);
  out.kind = Kind::kept;
  out.needs_own = !s.by_node.count(self_);
  out.signers = signers_of(s);
  return out;
}

CosignOutcome CosignatureBook::add_ahead(const CheckedNote& in) {
  // Ahead of this node's log: compared (log and state root) and merged
  // when it gets there.
  CosignOutcome out;
  out.size = in.size;
  auto [it, fresh] = ahead_.try_emplace(in.size, in.entry);
  bool same = same_roots(it->second, in.entry);
  if (!fresh && !same && in.entry.by_node.count(self_)) {
    it->second = in.entry;  // this node's own signature decides when it gets there
  } else if (!fresh && !same) {
    out.kind = CosignOutcome::Kind::conflict;
    out.reason = "another checkpoint " + std::to_string(in.size) + " with " + roots_of(it->second) +
                 " is waiting here";
    return out;
  } else if (!fresh) {
    merge_newest(it->second.by_node, in.entry.by_node);
  }
  out.signers = signers_of(it->second);
  while (ahead_.size() > options_.ahead_sizes) ahead_.erase(std::prev(ahead_.end()));
  out.kind = CosignOutcome::Kind::pending;
  return out;
}

std::optional<uint64_t> CosignatureBook::own_time(uint64_t size) const {
  auto it = recent_.find(size);
  if (it == recent_.end()) return std::nullopt;
  auto own = it->second.by_node.find(self_);
  if (own == it->second.by_node.end()) return std::nullopt;
  return own->second.time;
}

std::optional<std::string> CosignatureBook::note_at(uint64_t size) const {
  auto it = recent_.find(size);
  if (it == recent_.end()) return std::nullopt;
  return render(size, it->second);
}

ServedCheckpoint CosignatureBook::served() const {
  if (quorum_cp_) return *quorum_cp_;
  if (newest_) return *newest_;
  return {};
}

ServedCheckpoint CosignatureBook::newest() const { return newest_ ? *newest_ : ServedCheckpoint{}; }

std::optional<uint64_t> CosignatureBook::quorum_size() const {
  if (!quorum_cp_) return std::nullopt;
  return quorum_cp_->size;
}

}  // namespace chipledger
