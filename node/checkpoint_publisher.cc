#include "node/checkpoint_publisher.h"

#include <algorithm>
#include <iostream>

#include "ledger/checkpoint.h"

namespace chipledger {
namespace {

// How many of the newest signed sizes stay in memory (older ones are read
// back from the checkpoint column when a late signature arrives), and how
// many sizes ahead of this node's log peers' signatures may wait for.
constexpr size_t kRecentSizes = 1024;
constexpr size_t kAheadSizes = 1024;

std::string short_hex(const Hash& h) { return hex_encode(h).substr(0, 16); }

}  // namespace

CheckpointPublisher::CheckpointPublisher(Ledger& ledger, std::string node_id, PrivateKey key,
                                         FatalHandler on_fatal)
    : ledger_(ledger),
      node_id_(std::move(node_id)),
      key_(std::move(key)),
      on_fatal_(std::move(on_fatal)),
      quorum_(ledger.consortium().quorum()) {}

CheckpointPublisher::~CheckpointPublisher() { close(); }

void CheckpointPublisher::close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (waiter_thread_.joinable()) waiter_thread_.join();
}

void CheckpointPublisher::when_cosigned(uint64_t size,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    bool ready = (quorum_cp_ && quorum_cp_->size >= size) || !failure_.empty() || closing_ ||
                 std::chrono::steady_clock::now() >= deadline;
    if (!ready) {
      waiters_.push_back(Waiter{size, deadline, std::move(done)});
      ++waiters_added_;
      if (!waiter_thread_.joinable()) waiter_thread_ = std::thread([this] { run_waiters(); });
      cv_.notify_all();
      return;
    }
  }
  done();
}

void CheckpointPublisher::run_waiters() {
  std::unique_lock lock(mu_);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    std::vector<std::function<void()>> due;
    auto next = now + std::chrono::hours(1);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      bool ready = closing_ || !failure_.empty() || it->deadline <= now ||
                   (quorum_cp_ && quorum_cp_->size >= it->size);
      if (ready) {
        due.push_back(std::move(it->done));
        it = waiters_.erase(it);
      } else {
        next = std::min(next, it->deadline);
        ++it;
      }
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& d : due) d();
      lock.lock();
      continue;
    }
    if (closing_) return;
    uint64_t quorum_size = quorum_cp_ ? quorum_cp_->size : 0;
    uint64_t added = waiters_added_;
    cv_.wait_until(lock, next, [&] {
      return closing_ || !failure_.empty() || (quorum_cp_ && quorum_cp_->size != quorum_size) ||
             waiters_added_ != added;
    });
  }
}

std::string CheckpointPublisher::render(uint64_t size, const Sigs& sigs) const {
  SignedNote note;
  note.text = Checkpoint{ledger_.consortium().ledger_id(), size, sigs.root, {}}.text();
  for (const auto& [name, sig] : sigs.by_node) note.signatures.push_back(sig);
  return format_note(note);
}

ServedCheckpoint CheckpointPublisher::view(uint64_t size, const Sigs& sigs) const {
  ServedCheckpoint v;
  v.note = render(size, sigs);
  v.size = size;
  v.root = sigs.root;
  for (const auto& [name, sig] : sigs.by_node) v.signers.push_back(name);
  v.quorum = v.signers.size() >= quorum_;
  return v;
}

std::optional<CheckpointPublisher::Sigs> CheckpointPublisher::stored(uint64_t size) const {
  auto raw = ledger_.checkpoint_at(size);
  if (!raw || !raw->has_value()) return std::nullopt;
  auto note = parse_note(**raw);
  if (!note) return std::nullopt;
  auto cp = Checkpoint::parse(note->text);
  if (!cp || cp->size != size) return std::nullopt;
  Sigs s;
  s.root = cp->root;
  for (const auto& sig : note->signatures) {
    const NodeInfo* node = ledger_.consortium().node(sig.name);
    if (node && verify_note_signature(note->text, sig, NoteVerifier{node->id, node->key})) {
      s.by_node.emplace(sig.name, sig);
    }
  }
  if (s.by_node.empty()) return std::nullopt;
  return s;
}

Status CheckpointPublisher::keep(uint64_t size, const Sigs& sigs) {
  recent_[size] = sigs;
  while (recent_.size() > kRecentSizes) recent_.erase(recent_.begin());
  ServedCheckpoint v = view(size, sigs);
  CL_TRY(ledger_.save_checkpoint(size, v.note).context("saving the checkpoint"));
  if (!newest_ || size >= newest_->size) newest_ = v;
  if (v.quorum && (!quorum_cp_ || size >= quorum_cp_->size)) quorum_cp_ = std::move(v);
  return Status::ok();
}

void CheckpointPublisher::fatal(const std::string& reason) {
  if (failure_.empty()) failure_ = reason;
}

Status CheckpointPublisher::refresh() {
  std::string newly_failed;
  Status result = [&]() -> Status {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) {
      return Status::error("this node stopped signing checkpoints: " + failure_);
    }
    uint64_t size = ledger_.size();
    auto root = ledger_.root_at(size);
    if (!root) return root.status().context("checkpoint root");
    // What this node signed at this size before (in memory, or on disk
    // from before a restart) must be what its log says now.
    std::optional<Sigs> before;
    if (auto it = recent_.find(size); it != recent_.end()) {
      before = it->second;
    } else {
      before = stored(size);
    }
    if (before && before->root != *root) {
      newly_failed = "this node signed checkpoint " + std::to_string(size) + " with root " +
                     short_hex(before->root) + "…, but its own log now has root " +
                     short_hex(*root) +
                     "… at that size: its history disagrees with a "
                     "checkpoint it signed";
      fatal(newly_failed);
      return Status::error(newly_failed);
    }
    Sigs sigs = before ? std::move(*before) : Sigs{};
    sigs.root = *root;
    std::string text = Checkpoint{ledger_.consortium().ledger_id(), size, *root, {}}.text();
    auto own = sign_note(text, node_id_, key_);
    if (!own) return own.status().context("signing the checkpoint");
    sigs.by_node[node_id_] = std::move(*own);
    // Peers' signatures that arrived before this node reached the size.
    for (auto it = ahead_.begin(); it != ahead_.end() && it->first <= size;) {
      if (it->first == size) {
        if (it->second.root == *root) {
          for (auto& [name, sig] : it->second.by_node) sigs.by_node.emplace(name, sig);
        } else if (it->second.by_node.count(node_id_)) {
          newly_failed = "a peer showed this node's own signature on checkpoint " +
                         std::to_string(size) + " with root " + short_hex(it->second.root) +
                         "…, but its own log has root " + short_hex(*root) +
                         "… at that size: its history disagrees with a checkpoint it signed";
          fatal(newly_failed);
          return Status::error(newly_failed);
        } else {
          std::string who;
          for (const auto& [name, sig] : it->second.by_node)
            who += (who.empty() ? "" : ", ") + name;
          std::cerr << "chipledger-node " << node_id_ << ": node(s) " << who
                    << " signed checkpoint " << size << " with root " << short_hex(it->second.root)
                    << "…; this node's log has " << short_hex(*root) << "…; not kept" << std::endl;
        }
      }
      it = ahead_.erase(it);
    }
    CL_TRY(keep(size, sigs));
    ++version_;
    return Status::ok();
  }();
  cv_.notify_all();
  if (!newly_failed.empty() && on_fatal_) on_fatal_(newly_failed);
  return result;
}

CosignOutcome CheckpointPublisher::add_signatures(std::string_view wire) {
  using Kind = CosignOutcome::Kind;
  CosignOutcome out;
  auto refuse = [&](std::string reason) {
    out.kind = Kind::refused;
    out.reason = std::move(reason);
    return out;
  };
  auto note = parse_note(wire);
  if (!note) return refuse("not a signed note: " + note.reason());
  auto cp = Checkpoint::parse(note->text);
  if (!cp) return refuse("not a checkpoint: " + cp.reason());
  const Consortium& consortium = ledger_.consortium();
  if (cp->origin != consortium.ledger_id()) {
    return refuse("the checkpoint is for '" + cp->origin + "', not for ledger '" +
                  consortium.ledger_id() + "'");
  }
  if (note->text != Checkpoint{cp->origin, cp->size, cp->root, {}}.text()) {
    return refuse("the checkpoint has extension lines this ledger does not write");
  }
  if (note->signatures.empty()) return refuse("the note has no signature");
  out.size = cp->size;
  Sigs incoming;
  incoming.root = cp->root;
  for (const auto& sig : note->signatures) {
    const NodeInfo* node = consortium.node(sig.name);
    if (!node)
      return refuse("signature by '" + sig.name + "', a node the consortium does not list");
    if (!verify_note_signature(note->text, sig, NoteVerifier{node->id, node->key})) {
      return refuse("the signature by " + sig.name +
                    " does not verify against its key in the consortium");
    }
    incoming.by_node.emplace(sig.name, sig);
  }

  std::string newly_failed;
  {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) return refuse("this node stopped signing checkpoints: " + failure_);
    uint64_t own_size = ledger_.size();
    if (cp->size > own_size) {
      // Ahead of this node's log: compared and merged when it gets there.
      auto [it, fresh] = ahead_.try_emplace(cp->size, incoming);
      if (!fresh && it->second.root != incoming.root && incoming.by_node.count(node_id_)) {
        // This node's own signature decides when it gets there.
        it->second = incoming;
      } else if (!fresh) {
        if (it->second.root != incoming.root) {
          out.kind = Kind::conflict;
          out.reason = "another checkpoint " + std::to_string(cp->size) + " with root " +
                       short_hex(it->second.root) + "… is waiting here";
          return out;
        }
        for (auto& [name, sig] : incoming.by_node) it->second.by_node.emplace(name, sig);
      }
      for (const auto& [name, sig] : it->second.by_node) out.signers.push_back(name);
      while (ahead_.size() > kAheadSizes) ahead_.erase(std::prev(ahead_.end()));
      out.kind = Kind::pending;
      return out;
    }
    auto root = ledger_.root_at(cp->size);
    if (!root) return refuse(root.reason());
    if (*root != cp->root) {
      out.kind = Kind::conflict;
      out.reason = "checkpoint " + std::to_string(cp->size) + " has root " + short_hex(cp->root) +
                   "…, but this node's log has root " + short_hex(*root) + "… at that size";
      if (incoming.by_node.count(node_id_)) {
        newly_failed = "a peer showed this node's own valid signature on checkpoint " +
                       std::to_string(cp->size) + " with root " + short_hex(cp->root) +
                       "…, but its own log has root " + short_hex(*root) +
                       "… at that size: its history disagrees with a checkpoint it signed";
        fatal(newly_failed);
      } else {
        std::cerr << "chipledger-node " << node_id_ << ": refused cosignatures: " << out.reason
                  << std::endl;
      }
    } else {
      std::optional<Sigs> sigs;
      if (auto it = recent_.find(cp->size); it != recent_.end()) {
        sigs = it->second;
      } else {
        sigs = stored(cp->size);
      }
      if (!sigs || !sigs->by_node.count(node_id_)) {
        // A size this node reached but kept no signature for: its own log
        // has this root, so it signs it too.
        auto own = sign_note(note->text, node_id_, key_);
        if (!own) return refuse(own.reason());
        if (!sigs) sigs = Sigs{*root, {}};
        sigs->by_node[node_id_] = std::move(*own);
      }
      size_t before = sigs->by_node.size();
      for (auto& [name, sig] : incoming.by_node) sigs->by_node.emplace(name, sig);
      if (sigs->by_node.size() != before || !recent_.count(cp->size)) {
        if (auto st = keep(cp->size, *sigs); !st) return refuse(st.reason());
      }
      out.kind = Kind::kept;
      for (const auto& [name, sig] : sigs->by_node) out.signers.push_back(name);
    }
  }
  cv_.notify_all();  // a quorum may have been reached
  if (!newly_failed.empty() && on_fatal_) on_fatal_(newly_failed);
  return out;
}

ServedCheckpoint CheckpointPublisher::served() const {
  std::lock_guard lock(mu_);
  if (quorum_cp_) return *quorum_cp_;
  if (newest_) return *newest_;
  return {};
}

ServedCheckpoint CheckpointPublisher::newest(uint64_t* version) const {
  std::lock_guard lock(mu_);
  if (version) *version = version_;
  return newest_ ? *newest_ : ServedCheckpoint{};
}

uint64_t CheckpointPublisher::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t CheckpointPublisher::wait_for_version(uint64_t seen,
                                               std::chrono::steady_clock::time_point until) const {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [&] { return version_ > seen || stop_waiting_; });
  return version_;
}

void CheckpointPublisher::stop_waiting() {
  {
    std::lock_guard lock(mu_);
    stop_waiting_ = true;
  }
  cv_.notify_all();
}

bool CheckpointPublisher::failed() const {
  std::lock_guard lock(mu_);
  return !failure_.empty();
}

std::string CheckpointPublisher::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace chipledger
