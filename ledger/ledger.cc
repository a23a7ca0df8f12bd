#include "ledger/ledger.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "ledger/transaction_json.h"

namespace chipledger {
namespace {

constexpr std::string_view kLedgerIdKey = "ledger_id";
constexpr std::string_view kAppliedEntryKey = "applied_entry";  // u64 key encoding
constexpr std::string_view kBlockTimePrefix = "block_time/";

std::string block_time_key(uint64_t size) {
  return std::string(kBlockTimePrefix) + encode_u64_key(size);
}

std::string key_of(const Hash& h) { return std::string(h.begin(), h.end()); }

// Column::governance keys (docs/storage.md).
constexpr std::string_view kConsortiumKey = "consortium";
constexpr std::string_view kProposalPrefix = "proposal/";
// The consortium in force for checkpoints of a size: written by every block
// that changes the consortium, keyed by the log size after it.
constexpr std::string_view kConsortiumAtPrefix = "consortium_at/";
std::string consortium_at_key(uint64_t size) {
  return std::string(kConsortiumAtPrefix) + encode_u64_key(size);
}
std::string proposal_key(const Hash& id) { return std::string(kProposalPrefix) + key_of(id); }

// A stored value that does not decode: the store is corrupt (a block that
// reads it must not take it for a refusal).
Status stored(const Status& decoding, const std::string& what) {
  return decoding.with_code(StatusCode::corrupt).context(what);
}

// The state a block sees: committed records overlaid with the block's own
// earlier effects. Every failure it returns is a storage failure (io or
// corrupt).
class BlockState final : public StateView {
 public:
  using RootAt = std::function<Result<Hash>(uint64_t)>;
  BlockState(const KvStore& store, uint64_t committed_size, RootAt root_at)
      : store_(store), committed_size_(committed_size), root_at_(std::move(root_at)) {}

  Result<std::optional<SerialRecord>> serial(std::string_view serial) const override {
    auto it = records_.find(serial);
    if (it != records_.end()) return std::optional<SerialRecord>(it->second);
    auto raw = store_.get(Column::serials, serial);
    if (!raw) return raw.status();
    committed_.try_emplace(std::string(serial), *raw);
    if (!raw->has_value()) return std::optional<SerialRecord>();
    auto rec = SerialRecord::decode(**raw);
    if (!rec) return stored(rec.status(), "stored record of serial " + std::string(serial));
    return std::optional<SerialRecord>(std::move(*rec));
  }

  Result<std::optional<uint64_t>> find_txid(const Hash& txid) const override {
    auto it = txids_.find(txid);
    if (it != txids_.end()) return std::optional<uint64_t>(it->second);
    auto raw = store_.get(Column::txids, key_of(txid));
    if (!raw) return raw.status();
    if (!raw->has_value()) return std::optional<uint64_t>();
    auto index = decode_u64_key(**raw);
    if (!index) return stored(index.status(), "stored index of a txid");
    return std::optional<uint64_t>(*index);
  }

  Result<std::optional<LicenseRecord>> license(std::string_view id) const override {
    auto it = licenses_.find(id);
    if (it != licenses_.end()) return std::optional<LicenseRecord>(it->second);
    auto raw = store_.get(Column::licenses, id);
    if (!raw) return raw.status();
    if (!raw->has_value()) return std::optional<LicenseRecord>();
    auto rec = LicenseRecord::decode(**raw);
    if (!rec) return stored(rec.status(), "stored license " + std::string(id));
    return std::optional<LicenseRecord>(std::move(*rec));
  }

  // Checkpoints of committed blocks only: a block cannot attest to itself.
  Result<std::optional<CheckpointRef>> checkpoint(uint64_t size) const override {
    if (size == 0 || size > committed_size_) return std::optional<CheckpointRef>();
    auto time = store_.get(Column::meta, block_time_key(size));
    if (!time) return time.status();
    if (!time->has_value()) return std::optional<CheckpointRef>();
    auto ms = decode_u64_key(**time);
    if (!ms) return stored(ms.status(), "stored block time");
    auto root = root_at_(size);
    if (!root) return root.status();
    return std::optional<CheckpointRef>(CheckpointRef{*root, *ms});
  }

  Result<bool> location_nonce_used(std::string_view landmark, const Hash& nonce) const override {
    std::string key = location_nonce_key(landmark, nonce);
    if (nonces_.count(key)) return true;
    auto raw = store_.get(Column::txids, key);
    if (!raw) return raw.status();
    return raw->has_value();
  }

  void record(const Hash& txid, uint64_t index, Effects effects) {
    txids_[txid] = index;
    for (const auto& [landmark, nonce] : effects.location_nonces) {
      nonces_[location_nonce_key(landmark, nonce)] = index;
    }
    for (auto& [serial, rec] : effects.serials) records_[serial] = std::move(rec);
    for (auto& lic : effects.licenses) {
      std::string id = lic.terms.id;
      licenses_[id] = std::move(lic);
    }
  }

  // Puts the block's records and licenses into `batch`; returns the changed
  // serials for the state map, each once with its last record and its
  // committed one.
  Result<std::vector<StateMap::Change>> write(WriteBatch& batch) const {
    using R = Result<std::vector<StateMap::Change>>;
    std::vector<StateMap::Change> changes;
    changes.reserve(records_.size());
    std::vector<std::string> unread;  // changed without being read (none today)
    std::vector<size_t> where;
    for (const auto& [serial, rec] : records_) {
      StateMap::Change c{serial, rec.encode(), std::nullopt};
      batch.put(Column::serials, serial, c.record);
      if (auto it = committed_.find(serial); it != committed_.end()) {
        c.old_record = it->second;
      } else {
        unread.push_back(serial);
        where.push_back(changes.size());
      }
      changes.push_back(std::move(c));
    }
    for (const auto& [id, lic] : licenses_) batch.put(Column::licenses, id, lic.encode());
    for (const auto& [key, index] : nonces_) batch.put(Column::txids, key, encode_u64_key(index));
    if (!unread.empty()) {
      auto old = store_.multi_get(Column::serials, unread);
      if (!old) return R(old.status());
      for (size_t i = 0; i < unread.size(); ++i) changes[where[i]].old_record = (*old)[i];
    }
    return changes;
  }

 private:
  const KvStore& store_;
  std::map<std::string, SerialRecord, std::less<>> records_;
  // The committed encodings of the serials read (absent: not registered).
  mutable std::map<std::string, std::optional<std::string>, std::less<>> committed_;
  std::map<Hash, uint64_t> txids_;
  std::map<std::string, uint64_t> nonces_;  // location_nonce_key -> the locate's index
  std::map<std::string, LicenseRecord, std::less<>> licenses_;
  uint64_t committed_size_;
  RootAt root_at_;  // of committed sizes
};

// Whether the nodes (ids and keys) or the quorum differ: what judges a
// checkpoint's signatures (consortium_at).
bool changes_node_set(const Consortium& before, const Consortium& after) {
  if (before.quorum() != after.quorum() || before.nodes().size() != after.nodes().size()) {
    return true;
  }
  for (size_t i = 0; i < before.nodes().size(); ++i) {
    const NodeInfo& a = before.nodes()[i];
    const NodeInfo& b = after.nodes()[i];
    if (a.id != b.id || a.key.der() != b.key.der()) return true;
  }
  return false;
}

Status check_genesis(KvStore& store, const std::string& ledger_id) {
  auto stored = store.get(Column::meta, kLedgerIdKey);
  if (!stored) return stored.status();
  if (stored->has_value()) {
    if (**stored != ledger_id) {
      return Status::error("this data folder holds ledger '" + **stored +
                           "', but the consortium file is for '" + ledger_id + "'");
    }
    return Status::ok();
  }
  WriteBatch batch;
  batch.put(Column::meta, std::string(kLedgerIdKey), ledger_id);
  return store.write(batch, true);
}

}  // namespace

std::string serial_index_key(std::string_view serial, uint64_t index) {
  std::string key(serial);
  key.push_back('\0');
  key += encode_u64_key(index);
  return key;
}

Ledger::Ledger(std::unique_ptr<KvStore> store, Consortium consortium, MerkleLog log,
               std::unique_ptr<StateMap> state_map)
    : store_(std::move(store)),
      genesis_(std::move(consortium)),
      genesis_shared_(std::make_shared<const Consortium>(genesis_)),
      consortium_(genesis_shared_),
      log_(std::move(log)),
      state_map_(std::move(state_map)) {
  committed_size_ = log_.size();
  tree_cache_.catch_up(*store_, log_.size());
  remember_root(log_.size(), log_.root());
}

Result<std::unique_ptr<Ledger>> Ledger::open(std::unique_ptr<KvStore> store,
                                             Consortium consortium) {
  return open(std::move(store), std::move(consortium), StateMap::Options{});
}

Result<std::unique_ptr<Ledger>> Ledger::open(std::unique_ptr<KvStore> store, Consortium consortium,
                                             StateMap::Options state_options) {
  CL_TRY(check_genesis(*store, consortium.ledger_id()));
  auto log = MerkleLog::open(*store);
  if (!log) return log.status().context("opening the Merkle log");
  auto entry = store->get(Column::meta, kAppliedEntryKey);
  if (!entry) return entry.status();
  uint64_t applied = 0;
  if (entry->has_value()) {
    auto v = decode_u64_key(**entry);
    if (!v) return v.status().context("stored applied entry");
    applied = *v;
  }
  auto state = StateMap::open(*store, log->size(), state_options);
  if (!state) return state.status().context("opening the state map");
  auto ledger = std::unique_ptr<Ledger>(
      new Ledger(std::move(store), std::move(consortium), std::move(*log), std::move(*state)));
  ledger->applied_entry_ = applied;
  CL_TRY(ledger->load_consortium());
  CL_TRY(ledger->load_open_proposals());
  return ledger;
}

Result<std::shared_ptr<const Consortium>> Ledger::parse_stored_consortium(
    std::string_view text) const {
  using R = Result<std::shared_ptr<const Consortium>>;
  auto parsed = Consortium::from_json(text);
  if (!parsed) return R(stored(parsed.status(), "the stored consortium in force"));
  if (parsed->ledger_id() != genesis_.ledger_id()) {
    return R(Status::error(StatusCode::corrupt,
                           "the stored consortium is for ledger '" + parsed->ledger_id() + "'"));
  }
  if (!genesis_.tls_ca().empty()) CL_TRY(parsed->set_tls_ca(genesis_.tls_ca()));
  return std::make_shared<const Consortium>(std::move(*parsed));
}

Status Ledger::load_consortium() {
  auto stored_text = store_->get(Column::governance, kConsortiumKey);
  if (!stored_text) return stored_text.status().context("reading the consortium in force");
  std::shared_ptr<const Consortium> c;
  if (!stored_text->has_value()) {
    c = std::make_shared<const Consortium>(genesis_);
  } else {
    auto parsed = parse_stored_consortium(**stored_text);
    if (!parsed) return parsed.status();
    c = std::move(*parsed);
  }
  std::map<uint64_t, std::shared_ptr<const Consortium>> history;
  Status bad = Status::ok();
  CL_TRY(store_->scan(
      Column::governance, kConsortiumAtPrefix, [&](std::string_view k, std::string_view v) {
        if (!k.starts_with(kConsortiumAtPrefix)) return false;
        auto size = decode_u64_key(k.substr(kConsortiumAtPrefix.size()));
        auto parsed = parse_stored_consortium(v);
        if (!size || !parsed) {
          bad = size ? parsed.status() : stored(size.status(), "a stored consortium's size");
          return false;
        }
        history.emplace(*size, std::move(*parsed));
        return true;
      }));
  CL_TRY(bad);
  std::lock_guard lock(consortium_mu_);
  consortium_ = std::move(c);
  consortium_history_ = std::move(history);
  // With them (after a snapshot, the log is already the new one): no
  // consortium_at() sees the new size with the old history.
  committed_size_ = log_.size();
  return Status::ok();
}

std::shared_ptr<const Consortium> Ledger::consortium_at(uint64_t size) const {
  std::lock_guard lock(consortium_mu_);
  if (size > committed_size_) return consortium_;
  auto it = consortium_history_.upper_bound(size);
  if (it == consortium_history_.begin()) return genesis_shared_;
  return std::prev(it)->second;
}

std::shared_ptr<const Consortium> Ledger::consortium() const {
  std::lock_guard lock(consortium_mu_);
  return consortium_;
}

Result<std::optional<Proposal>> Ledger::proposal(const Hash& id) const {
  using R = Result<std::optional<Proposal>>;
  auto v = store_->get(Column::governance, proposal_key(id));
  if (!v) return R(v.status());
  if (!v->has_value()) return std::optional<Proposal>();
  auto p = Proposal::decode(as_bytes(**v));
  if (!p) return R(stored(p.status(), "a stored proposal"));
  return std::optional<Proposal>(std::move(*p));
}

Result<std::vector<Proposal>> Ledger::proposals() const {
  std::vector<Proposal> out;
  Status bad = Status::ok();
  CL_TRY(store_->scan(Column::governance, kProposalPrefix,
                      [&](std::string_view k, std::string_view v) {
                        if (!k.starts_with(kProposalPrefix)) return false;
                        auto p = Proposal::decode(as_bytes(v));
                        if (!p) {
                          bad = stored(p.status(), "a stored proposal");
                          return false;
                        }
                        out.push_back(std::move(*p));
                        return true;
                      }));
  CL_TRY(bad);
  std::sort(out.begin(), out.end(),
            [](const Proposal& a, const Proposal& b) { return a.index < b.index; });
  return out;
}

Status Ledger::load_open_proposals() {
  auto all = proposals();
  if (!all) return all.status().context("reading the proposals");
  OpenProposals open;
  for (const auto& p : *all) open.note(p);
  open_proposals_ = std::move(open);
  return Status::ok();
}

Result<GovernanceStep> Ledger::apply_governance_tx(const SignedTransaction& tx,
                                                   const StateView& state,
                                                   const Consortium& current,
                                                   std::map<Hash, Proposal>& proposals,
                                                   const OpenProposals& open,
                                                   uint64_t block_time_ms, uint64_t index) const {
  CL_TRY(check_common_rules(current, state, tx, block_time_ms));
  const Proposal* named = nullptr;
  std::optional<Proposal> stored_one;
  if (tx.tx.type == TxType::vote) {
    if (auto it = proposals.find(tx.tx.proposal); it != proposals.end()) {
      named = &it->second;
    } else {
      auto p = proposal(tx.tx.proposal);
      if (!p) return p.status();
      stored_one = std::move(*p);
      if (stored_one) named = &*stored_one;
    }
  }
  const size_t open_by_author =
      tx.tx.type == TxType::propose ? open.open_at(tx.tx.author, tx.tx.time_ms) : 0;
  return apply_governance(current, tx, index, named, open_by_author);
}

Status Ledger::check_arrival(const SignedTransaction& tx) const {
  return check_signature(*consortium(), tx);
}

Result<std::vector<TxOutcome>> Ledger::apply_block(std::vector<PendingTx> txs,
                                                   uint64_t block_time_ms,
                                                   std::optional<uint64_t> entry) {
  std::lock_guard lock(write_mu_);
  if (failed_) {
    return Result<std::vector<TxOutcome>>::error(StatusCode::unavailable,
                                                 "the ledger stopped after a storage failure");
  }
  if (entry && *entry <= applied_entry_.load()) {
    return Result<std::vector<TxOutcome>>::error("entry " + std::to_string(*entry) +
                                                 " is at or below the last applied entry " +
                                                 std::to_string(applied_entry_.load()));
  }
  const uint64_t size_before = log_.size();
  // Block times never go backwards (docs/rules.md, "Times"): a block
  // proposed with an earlier time than the last one's (a leader's clock
  // stepped back, a new leader whose clock is behind) takes the last one's.
  // Every node decides this from the same log, so all agree.
  if (size_before > 0) {
    auto last = store_->get(Column::meta, block_time_key(size_before));
    if (!last) return Result<std::vector<TxOutcome>>(last.status().context("the last block time"));
    if (last->has_value()) {
      auto ms = decode_u64_key(**last);
      if (!ms) return Result<std::vector<TxOutcome>>(stored(ms.status(), "the last block time"));
      block_time_ms = std::max(block_time_ms, *ms);
    }
  }
  BlockState state(*store_, size_before, [this](uint64_t size) { return root_at(size); });
  // The consortium in force as the block goes: a governance transaction
  // that changes it applies from the next transaction on.
  std::shared_ptr<const Consortium> current = consortium();
  const std::shared_ptr<const Consortium> at_start = current;
  bool consortium_changed = false;
  std::map<Hash, Proposal> proposals;  // the block's new or changed proposals
  // open_proposals_ with the block's own, copied at its first governance
  // transaction and kept once the block is written.
  std::optional<OpenProposals> open;
  WriteBatch batch;
  std::vector<MerkleLog::Node> new_nodes;  // for the tree cache, once committed
  std::vector<TxOutcome> outcomes;
  outcomes.reserve(txs.size());
  for (auto& p : txs) {
    TxOutcome out;
    out.txid = p.tx.txid;
    Status sig = p.signature_checked ? Status::ok() : check_signature(*current, p.tx);
    uint64_t index = log_.size();
    std::optional<GovernanceStep> governed;
    auto effects = [&]() -> Result<Effects> {
      if (!sig.is_ok()) return sig;
      if (!is_governance(p.tx.tx.type)) {
        return apply_rules(*current, state, p.tx, block_time_ms, index);
      }
      if (!open) open = open_proposals_;
      auto step =
          apply_governance_tx(p.tx, state, *current, proposals, *open, block_time_ms, index);
      if (!step) return step.status();
      governed = std::move(*step);
      // The governance history's state-map leaf (docs/governance.md, 5).
      auto before = state.serial(kGovernanceHistory);
      if (!before) return before.status();
      Effects e;
      e.serials.emplace_back(std::string(kGovernanceHistory),
                             governance_record_after(*before, p.tx, index));
      return e;
    }();
    if (!effects && effects.status().is_storage_failure()) {
      // Not a refusal: this node could not read its state, and another
      // replica would decide differently. Nothing of the block is written;
      // the in-memory log may be ahead of the store: stop (fail-stop).
      failed_ = true;
      return Result<std::vector<TxOutcome>>(
          effects.status().context("applying transaction " + hex_encode(p.tx.txid)));
    }
    if (!effects) {
      out.reason = effects.reason();
      auto seen = state.find_txid(p.tx.txid);
      if (!seen) {
        failed_ = true;
        return Result<std::vector<TxOutcome>>(
            seen.status().context("looking up transaction " + hex_encode(p.tx.txid)));
      }
      if (*seen) {
        out.already_in_ledger = true;
        out.index = **seen;
      }
      outcomes.push_back(std::move(out));
      continue;
    }
    Bytes wire = p.tx.wire();
    log_.append_nodes(merkle::leaf_hash(wire), batch, &new_nodes);
    batch.put(Column::events, encode_u64_key(index), std::string(wire.begin(), wire.end()));
    batch.put(Column::txids, key_of(p.tx.txid), encode_u64_key(index));
    for (const auto& [serial, rec] : effects->serials) {
      batch.put(Column::serial_index, serial_index_key(serial, index), "");
    }
    for (const auto& [serial, related] : effects->related) {
      batch.put(Column::serial_index, serial_index_key(serial, related), "");
    }
    if (governed) {
      if (governed->proposal) {
        open->note(*governed->proposal);
        proposals[governed->proposal->id] = std::move(*governed->proposal);
      }
      if (governed->consortium) {
        current = std::make_shared<const Consortium>(std::move(*governed->consortium));
        consortium_changed = true;
      }
    }
    out.serials = static_cast<uint32_t>(effects->serials.size());
    state.record(p.tx.txid, index, std::move(*effects));
    out.accepted = true;
    out.index = index;
    outcomes.push_back(std::move(out));
  }
  for (const auto& [id, proposal] : proposals) {
    Bytes b = proposal.encode();
    batch.put(Column::governance, proposal_key(id), std::string(b.begin(), b.end()));
  }
  if (consortium_changed) {
    std::string text = current->governed_json();
    if (changes_node_set(*at_start, *current)) {
      batch.put(Column::governance, consortium_at_key(log_.size()), text);
    }
    batch.put(Column::governance, std::string(kConsortiumKey), std::move(text));
  }
  if (entry) batch.put(Column::meta, std::string(kAppliedEntryKey), encode_u64_key(*entry));
  if (batch.empty()) return outcomes;
  auto changes = state.write(batch);
  std::optional<StateMap::Update> update;
  if (changes && log_.size() > size_before) {
    // "log_size" once per block: only the block's last value is committed.
    log_.put_size(batch);
    // The time of the checkpoint this block ends (attestations name it).
    batch.put(Column::meta, block_time_key(log_.size()), encode_u64_key(block_time_ms));
    // The state map's leaves in the same batch; its undo is published
    // before the write (see StateMap).
    auto prepared = state_map_->prepare(*changes, log_.size(), batch);
    if (prepared) {
      update = std::move(*prepared);
      state_map_->publish_undo(*update);
    } else {
      changes = prepared.status();
    }
  }
  if (!changes) {
    failed_ = true;  // the in-memory log is ahead of the store: stop
    return changes.status().context("preparing the block's state");
  }
  Status written = store_->write(batch, /*sync=*/true);
  if (!written.is_ok()) {
    failed_ = true;  // the in-memory log is ahead of the store: stop
    return written.context("writing the block");
  }
  if (update) {
    // Before the new size is visible: whoever sees it can read its state.
    if (Status st = state_map_->commit(std::move(*update)); !st) {
      failed_ = true;
      return st.context("updating the state map");
    }
  }
  {
    std::lock_guard lock(consortium_mu_);
    if (consortium_changed) {
      consortium_ = current;
      if (changes_node_set(*at_start, *current)) consortium_history_[log_.size()] = current;
    }
    committed_size_ = log_.size();
  }
  if (open) open_proposals_ = std::move(*open);
  if (entry) applied_entry_ = *entry;
  if (log_.size() > size_before) {
    // The new root from the in-memory frontier (what the checkpoint signs),
    // and the upper tree nodes the block completed.
    remember_root(log_.size(), log_.root());
    tree_cache_.add_committed(new_nodes, log_.size());
  }
  return outcomes;
}

void Ledger::remember_root(uint64_t size, const Hash& root) const {
  std::lock_guard lock(roots_mu_);
  recent_roots_[size] = root;
  // Keep the newest sizes: a checkpoint's is asked for again and again.
  while (recent_roots_.size() > kRecentRoots) recent_roots_.erase(recent_roots_.begin());
}

Result<Hash> Ledger::root_at(uint64_t size) const {
  if (size > this->size())
    return Result<Hash>::error("the log has only " + std::to_string(this->size()) + " entries");
  {
    std::lock_guard lock(roots_mu_);
    if (auto it = recent_roots_.find(size); it != recent_roots_.end()) return it->second;
  }
  auto root = tree().root_at(size);
  if (root) remember_root(size, *root);
  return root;
}

Result<Hash> Ledger::state_root_at(uint64_t size) const {
  if (size > this->size())
    return Result<Hash>::error("the log has only " + std::to_string(this->size()) + " entries");
  return state_map_->root_at(size);
}

Result<StateAnswer> Ledger::state_proof(std::string_view serial, uint64_t size) const {
  if (size > this->size()) {
    return Result<StateAnswer>::error("the log has only " + std::to_string(this->size()) +
                                      " entries");
  }
  return state_map_->prove(serial, size);
}

uint64_t Ledger::oldest_state_size() const { return state_map_->oldest_size(); }

Result<std::optional<SerialRecord>> Ledger::serial(std::string_view serial) const {
  BlockState view(*store_, size(), [this](uint64_t size) { return root_at(size); });
  return view.serial(serial);
}

Result<std::optional<uint64_t>> Ledger::transaction_index(const Hash& txid) const {
  BlockState view(*store_, size(), [this](uint64_t size) { return root_at(size); });
  return view.find_txid(txid);
}

Result<std::vector<uint64_t>> Ledger::history(std::string_view serial, uint64_t size) const {
  std::string prefix(serial);
  prefix.push_back('\0');
  std::vector<uint64_t> out;
  Status st = Status::ok();
  CL_TRY(store_->scan(Column::serial_index, prefix, [&](std::string_view key, std::string_view) {
    auto index = decode_u64_key(key.substr(prefix.size()));
    if (!index) {
      st = index.status();
      return false;
    }
    if (*index >= size) return false;
    out.push_back(*index);
    return true;
  }));
  CL_TRY(st);
  return out;
}

Result<Bytes> Ledger::event(uint64_t index) const {
  if (index >= size()) return Result<Bytes>::error("no event at index " + std::to_string(index));
  auto raw = store_->get(Column::events, encode_u64_key(index));
  if (!raw) return raw.status();
  if (!raw->has_value()) {
    return Result<Bytes>::error("event " + std::to_string(index) + " is missing from storage");
  }
  return Bytes((*raw)->begin(), (*raw)->end());
}

Result<std::vector<Bytes>> Ledger::events(const std::vector<uint64_t>& indices) const {
  using R = Result<std::vector<Bytes>>;
  const uint64_t committed = size();
  std::vector<std::string> keys;
  keys.reserve(indices.size());
  for (uint64_t index : indices) {
    if (index >= committed) return R::error("no event at index " + std::to_string(index));
    keys.push_back(encode_u64_key(index));
  }
  auto raw = store_->multi_get(Column::events, keys);
  if (!raw) return raw.status();
  std::vector<Bytes> out;
  out.reserve(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto& value = (*raw)[i];
    if (!value.has_value()) {
      return R::error("event " + std::to_string(indices[i]) + " is missing from storage");
    }
    out.emplace_back(value->begin(), value->end());
  }
  return out;
}

namespace {
size_t view_bytes(const Ledger::EventView& v) {
  return v.tx.body.size() + v.tx.signature.size() + v.tx_base64.size() + v.view_json.size();
}
}  // namespace

Result<std::vector<std::shared_ptr<const Ledger::EventView>>> Ledger::event_views(
    const std::vector<uint64_t>& indices) const {
  using Ptr = std::shared_ptr<const EventView>;
  using R = Result<std::vector<Ptr>>;
  std::vector<Ptr> out(indices.size());
  std::vector<uint64_t> missing;
  std::vector<size_t> where;
  {
    std::lock_guard lock(views_.mu);
    for (size_t i = 0; i < indices.size(); ++i) {
      auto it = views_.by_index.find(indices[i]);
      if (it == views_.by_index.end()) {
        missing.push_back(indices[i]);
        where.push_back(i);
        continue;
      }
      views_.order.splice(views_.order.begin(), views_.order, it->second.second);
      out[i] = it->second.first;
    }
  }
  if (missing.empty()) return out;
  auto wires = events(missing);
  if (!wires) return wires.status();
  for (size_t j = 0; j < missing.size(); ++j) {
    const Bytes& wire = (*wires)[j];
    auto stx = SignedTransaction::decode(wire);
    if (!stx) {
      return R::error("stored event " + std::to_string(missing[j]) + ": " + stx.reason());
    }
    auto view = std::make_shared<EventView>();
    view->tx_base64 = base64_encode(wire);
    view->view_json = transaction_view(stx->tx).dump();
    view->tx = std::move(*stx);
    out[where[j]] = std::move(view);
  }
  std::lock_guard lock(views_.mu);
  for (size_t j = 0; j < missing.size(); ++j) {
    const Ptr& view = out[where[j]];
    const size_t bytes = view_bytes(*view);
    if (bytes > kEventViewBytes / 4) continue;  // too large to keep
    auto [it, fresh] = views_.by_index.try_emplace(missing[j]);
    if (!fresh) continue;  // another reader put it there meanwhile
    views_.order.push_front(missing[j]);
    it->second = {view, views_.order.begin()};
    views_.bytes += bytes;
    while (views_.by_index.size() > kEventViews || views_.bytes > kEventViewBytes) {
      auto oldest = views_.by_index.find(views_.order.back());
      views_.bytes -= view_bytes(*oldest->second.first);
      views_.by_index.erase(oldest);
      views_.order.pop_back();
    }
  }
  return out;
}

Result<std::vector<Hash>> Ledger::inclusion_proof(uint64_t index, uint64_t size) const {
  if (size > this->size()) {
    return Result<std::vector<Hash>>::error("the log has only " + std::to_string(this->size()) +
                                            " entries");
  }
  return tree().inclusion_proof(index, size);
}

Result<std::vector<Hash>> Ledger::consistency_proof(uint64_t size1, uint64_t size2) const {
  if (size2 > size()) {
    return Result<std::vector<Hash>>::error("the log has only " + std::to_string(size()) +
                                            " entries");
  }
  return tree().consistency_proof(size1, size2);
}

Status Ledger::save_checkpoint(uint64_t size, const std::string& note) {
  WriteBatch batch;
  batch.put(Column::checkpoints, encode_u64_key(size), note);
  return store_->write(batch, /*sync=*/false);
}

Result<std::optional<std::string>> Ledger::checkpoint_at(uint64_t size) const {
  return store_->get(Column::checkpoints, encode_u64_key(size));
}

Result<std::optional<std::string>> Ledger::latest_checkpoint() const {
  return checkpoint_at(size());
}

}  // namespace chipledger

namespace chipledger {

Result<std::optional<LicenseRecord>> Ledger::license(std::string_view id) const {
  return BlockState(*store_, size(), [this](uint64_t size) { return root_at(size); }).license(id);
}

}  // namespace chipledger
