#include "ledger/state_map.h"

#include <algorithm>
#include <set>

namespace chipledger {

using NodeVal = std::pair<Hash, uint8_t>;  // hash, leaves under it capped at 2

// One block's old values: what a read at an earlier size puts back.
struct StateMap::Undo {
  uint64_t size_before = 0;
  uint64_t size_after = 0;
  std::unordered_map<uint64_t, NodeVal> nodes;  // node_id(level, index) -> old
  std::map<Hash, std::optional<Hash>> leaves;   // key -> old value hash (none: new)
  std::unordered_map<std::string, std::optional<std::string>> records;  // serial -> old
  size_t bytes = 0;
};

namespace {

// The state column's leaf count (u64 key encoding) under the empty key,
// which sorts before every 32-byte leaf key. Written with every block and
// last by a rebuild: present means the column is complete.
constexpr std::string_view kCountKey = "";
constexpr size_t kRebuildChunk = 65536;
constexpr int kDepthLimit = 24;

uint64_t node_id(int level, uint64_t index) { return (static_cast<uint64_t>(level) << 32) | index; }

// The first d bits of k (d <= 32) as a number.
uint64_t prefix_of(const Hash& k, int d) {
  if (d == 0) return 0;
  uint32_t top = (static_cast<uint32_t>(k[0]) << 24) | (static_cast<uint32_t>(k[1]) << 16) |
                 (static_cast<uint32_t>(k[2]) << 8) | k[3];
  return top >> (32 - d);
}

std::string range_start(int d, uint64_t i) {
  std::string s(32, '\0');
  const uint32_t top = static_cast<uint32_t>(i << (32 - d));
  for (int b = 0; b < 4; ++b) s[static_cast<size_t>(b)] = static_cast<char>(top >> (24 - 8 * b));
  return s;
}

// The keys under prefix i of d bits.
KeyRange prefix_range(int d, uint64_t i) {
  KeyRange r{range_start(d, i), ""};
  if (i + 1 < (uint64_t{1} << d)) r.end = range_start(d, i + 1);
  return r;
}

NodeVal combine(const NodeVal& l, const NodeVal& r) {
  const int total = l.second + r.second;
  if (total == 0) return {Hash{}, 0};
  if (total == 1) return {l.second ? l.first : r.first, 1};  // a lone leaf moves up
  return {state_node_hash(l.first, r.first), 2};
}

NodeVal bucket_value(std::span<const StateLeaf> leaves, int depth) {
  return {state_subtree_hash(leaves, depth),
          static_cast<uint8_t>(std::min<size_t>(2, leaves.size()))};
}

std::string raw(const Hash& h) { return std::string(h.begin(), h.end()); }

Result<StateLeaf> leaf_of(std::string_view key, std::string_view value) {
  if (key.size() != 32 || value.size() != 32) {
    return Result<StateLeaf>::error("a state column entry is not 32 + 32 bytes");
  }
  StateLeaf l;
  std::copy(key.begin(), key.end(), l.first.begin());
  std::copy(value.begin(), value.end(), l.second.begin());
  return l;
}

Result<std::optional<uint64_t>> stored_count(const KvStore& store) {
  auto raw_count = store.get(Column::state, kCountKey);
  if (!raw_count) return raw_count.status();
  if (!raw_count->has_value()) return std::optional<uint64_t>();
  auto n = decode_u64_key(**raw_count);
  if (!n) return n.status().context("the state column's leaf count");
  return std::optional<uint64_t>(*n);
}

void fold_up(StateMap::Levels& lv) {
  for (int d = lv.depth - 1; d >= 0; --d) {
    const auto du = static_cast<size_t>(d);
    for (size_t i = 0; i < lv.hash[du].size(); ++i) {
      NodeVal v = combine({lv.hash[du + 1][2 * i], lv.count[du + 1][2 * i]},
                          {lv.hash[du + 1][2 * i + 1], lv.count[du + 1][2 * i + 1]});
      lv.hash[du][i] = v.first;
      lv.count[du][i] = v.second;
    }
  }
}

// The arrays of depth D from one scan of the state column.
Result<StateMap::Levels> build_levels(const KvStore& store, int depth,
                                      StateMap::BucketCache* fill) {
  StateMap::Levels lv;
  lv.depth = depth;
  for (int d = 0; d <= depth; ++d) {
    lv.hash.emplace_back(size_t{1} << d);
    lv.count.emplace_back(size_t{1} << d, uint8_t{0});
  }
  const auto du = static_cast<size_t>(depth);
  std::vector<StateLeaf> bucket;
  uint64_t current = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    NodeVal v = bucket_value(bucket, depth);
    lv.hash[du][current] = v.first;
    lv.count[du][current] = v.second;
    lv.leaves += bucket.size();
    if (fill != nullptr && !fill->full()) fill->put(current, bucket);
    bucket.clear();
  };
  Status bad = Status::ok();
  CL_TRY(store.scan(Column::state, "", [&](std::string_view key, std::string_view value) {
    if (key == kCountKey) return true;
    auto leaf = leaf_of(key, value);
    if (!leaf) {
      bad = leaf.status();
      return false;
    }
    const uint64_t b = prefix_of(leaf->first, depth);
    if (b != current) {
      flush();
      current = b;
    }
    bucket.push_back(*leaf);
    return true;
  }));
  CL_TRY(bad);
  flush();
  fold_up(lv);
  return lv;
}

// Writes the state column from Column::serials, in chunks, the count last
// (synced): a crash before it leaves no count, and open() builds again.
Result<uint64_t> build_column(KvStore& store) {
  uint64_t n = 0;
  std::string from;
  for (;;) {
    WriteBatch batch;
    std::string last;
    CL_TRY(store.scan_ranges(Column::serials, {KeyRange{from, ""}},
                             [&](size_t, std::string_view serial, std::string_view record) {
                               batch.put(Column::state, raw(state_key(serial)),
                                         raw(state_value_hash(record)));
                               last = serial;
                               return batch.size() < kRebuildChunk;
                             }));
    n += batch.size();
    const bool end = batch.size() < kRebuildChunk;
    if (end) batch.put(Column::state, std::string(kCountKey), encode_u64_key(n));
    CL_TRY(store.write(batch, /*sync=*/end));
    if (end) return n;
    from = last + '\0';  // the next key after `last`
  }
}

}  // namespace

const std::vector<StateLeaf>* StateMap::BucketCache::find(uint64_t bucket) {
  auto it = map_.find(bucket);
  if (it == map_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.second);
  return &it->second.first;
}

void StateMap::BucketCache::put(uint64_t bucket, std::vector<StateLeaf> leaves) {
  if (budget_ == 0) return;
  auto [it, fresh] = map_.try_emplace(bucket);
  if (fresh) {
    order_.push_front(bucket);
    it->second.second = order_.begin();
  } else {
    bytes_ -= cost(it->second.first);
    order_.splice(order_.begin(), order_, it->second.second);
  }
  bytes_ += cost(leaves);
  it->second.first = std::move(leaves);
  while (bytes_ > budget_ && !order_.empty()) {
    auto oldest = map_.find(order_.back());
    bytes_ -= cost(oldest->second.first);
    map_.erase(oldest);
    order_.pop_back();
  }
}

void StateMap::BucketCache::clear() {
  map_.clear();
  order_.clear();
  bytes_ = 0;
}

int StateMap::depth_for(uint64_t leaves) const {
  int d = 0;
  while ((uint64_t{8} << d) < leaves && d < kDepthLimit) ++d;
  return std::clamp(d, options_.min_depth, options_.max_depth);
}

Result<std::unique_ptr<StateMap>> StateMap::open(KvStore& store, uint64_t size, Options options) {
  options.max_depth = std::clamp(options.max_depth, 1, kDepthLimit);
  options.min_depth = std::clamp(options.min_depth, 1, options.max_depth);
  options.max_undo_blocks = std::max<size_t>(options.max_undo_blocks, 1);
  auto map = std::unique_ptr<StateMap>(new StateMap(store, options));
  auto count = stored_count(store);
  if (!count) return count.status();
  std::optional<uint64_t> expected = *count;
  if (!expected) {
    // No count: a fresh ledger (no serials either), or a store made before
    // the map or whose build was cut short.
    bool any = false;
    CL_TRY(store.scan(Column::serials, "", [&](std::string_view, std::string_view) {
      any = true;
      return false;
    }));
    if (!any) expected = 0;
  }
  if (expected) {
    auto lv = build_levels(store, map->depth_for(*expected), &map->cache_);
    if (!lv) return lv.status().context("reading the state map");
    if (lv->leaves == *expected) {
      map->levels_ = std::move(*lv);
      map->size_ = size;
      return map;
    }
  }
  auto n = build_column(store);
  if (!n) return n.status().context("building the state map from the serial records");
  map->cache_.clear();
  auto lv = build_levels(store, map->depth_for(*n), &map->cache_);
  if (!lv) return lv.status().context("reading the state map");
  map->levels_ = std::move(*lv);
  map->size_ = size;
  return map;
}

Result<StateMap::Update> StateMap::prepare(const std::vector<Change>& changes, uint64_t size_after,
                                           WriteBatch& batch) const {
  // The writer is the only thread changing levels_, so it reads them unlocked.
  const Levels& lv = levels_;
  const int depth = lv.depth;
  Update up;
  up.undo_ = std::make_shared<Undo>();
  Undo& undo = *up.undo_;
  undo.size_before = size_;
  undo.size_after = size_after;
  std::map<Hash, Hash> by_key;  // the block's new leaves; the last record per serial wins
  for (const auto& c : changes) {
    by_key[state_key(c.serial)] = state_value_hash(c.record);
    undo.records.try_emplace(c.serial, c.old_record);  // the first one's old is the committed one
  }
  // The changed buckets' leaves: from the cache, the others with one scan.
  std::vector<uint64_t> buckets;
  for (const auto& [k, v] : by_key) {
    const uint64_t b = prefix_of(k, depth);
    if (buckets.empty() || buckets.back() != b) buckets.push_back(b);
  }
  std::vector<std::vector<StateLeaf>> current(buckets.size());
  std::vector<KeyRange> ranges;
  std::vector<size_t> ranged;  // the bucket of each range
  for (size_t r = 0; r < buckets.size(); ++r) {
    if (const auto* cached = cache_.find(buckets[r])) {
      current[r] = *cached;
      continue;
    }
    ranges.push_back(prefix_range(depth, buckets[r]));
    ranged.push_back(r);
  }
  Status bad = Status::ok();
  CL_TRY(store_.scan_ranges(Column::state, ranges,
                            [&](size_t r, std::string_view key, std::string_view value) {
                              auto leaf = leaf_of(key, value);
                              if (!leaf) {
                                bad = leaf.status();
                                return false;
                              }
                              current[ranged[r]].push_back(*leaf);
                              return true;
                            }));
  CL_TRY(bad);

  uint64_t added = 0;
  std::vector<std::pair<uint64_t, NodeVal>> level;  // changed nodes of one level, by index
  auto next = by_key.begin();
  for (size_t r = 0; r < buckets.size(); ++r) {
    std::vector<StateLeaf> merged;
    const auto& old = current[r];
    auto o = old.begin();
    for (; next != by_key.end() && prefix_of(next->first, depth) == buckets[r]; ++next) {
      while (o != old.end() && o->first < next->first) merged.push_back(*o++);
      if (o != old.end() && o->first == next->first) {
        undo.leaves.emplace(next->first, o->second);
        ++o;
      } else {
        undo.leaves.emplace(next->first, std::nullopt);
        ++added;
      }
      merged.emplace_back(next->first, next->second);
      batch.put(Column::state, raw(next->first), raw(next->second));
    }
    merged.insert(merged.end(), o, old.end());
    level.emplace_back(buckets[r], bucket_value(merged, depth));
    up.buckets_.emplace_back(buckets[r], std::move(merged));
  }
  up.leaves_after_ = lv.leaves + added;
  if (!changes.empty()) {
    batch.put(Column::state, std::string(kCountKey), encode_u64_key(up.leaves_after_));
  }

  // Up the levels: each changed node's parent from its two children.
  for (int d = depth; d >= 0 && !level.empty(); --d) {
    const auto du = static_cast<size_t>(d);
    for (const auto& [i, v] : level) {
      undo.nodes.emplace(node_id(d, i), NodeVal{lv.hash[du][i], lv.count[du][i]});
      up.nodes_.emplace_back(node_id(d, i), v);
    }
    if (d == 0) {
      up.root_ = level.front().second.first;
      break;
    }
    auto child = [&](uint64_t i) {
      auto it = std::lower_bound(level.begin(), level.end(), i,
                                 [](const auto& e, uint64_t x) { return e.first < x; });
      if (it != level.end() && it->first == i) return it->second;
      return NodeVal{lv.hash[du][i], lv.count[du][i]};
    };
    std::vector<std::pair<uint64_t, NodeVal>> parents;
    for (const auto& e : level) {
      const uint64_t p = e.first >> 1;
      if (!parents.empty() && parents.back().first == p) continue;
      parents.emplace_back(p, combine(child(2 * p), child(2 * p + 1)));
    }
    level = std::move(parents);
  }
  if (changes.empty()) up.root_ = lv.hash[0][0];
  size_t record_bytes = 0;
  for (const auto& [serial, rec] : undo.records) {
    record_bytes += 64 + serial.size() + (rec ? rec->size() : 0);
  }
  undo.bytes = 128 + undo.nodes.size() * 64 + undo.leaves.size() * 112 + record_bytes;
  return up;
}

void StateMap::publish_undo(Update& update) {
  std::unique_lock turn(turnstile_);
  std::unique_lock lock(mu_);
  turn.unlock();
  undo_bytes_ += update.undo_->bytes;
  undo_.push_back(update.undo_);
  while (undo_.size() > 1 &&
         (undo_.size() > options_.max_undo_blocks || undo_bytes_ > options_.max_undo_bytes)) {
    undo_bytes_ -= undo_.front()->bytes;
    undo_.pop_front();
  }
}

Status StateMap::commit(Update update) {
  const uint64_t size_after = update.undo_->size_after;
  const int depth = depth_for(update.leaves_after_);
  if (depth != levels_.depth) {
    // D grows (a few times in a ledger's life): new arrays from one scan,
    // built while readers still use the old ones with the undo log; the
    // undo of the old depth is dropped with them.
    cache_.clear();
    auto lv = build_levels(store_, depth, &cache_);
    if (!lv)
      return lv.status().context("rebuilding the state map at depth " + std::to_string(depth));
    std::unique_lock turn(turnstile_);
    std::unique_lock lock(mu_);
    turn.unlock();
    levels_ = std::move(*lv);
    undo_.clear();
    undo_bytes_ = 0;
    size_ = size_after;
    return Status::ok();
  }
  std::unique_lock turn(turnstile_);
  std::unique_lock lock(mu_);
  turn.unlock();
  for (const auto& [id, v] : update.nodes_) {
    const auto d = static_cast<size_t>(id >> 32);
    const uint64_t i = id & 0xffffffffu;
    levels_.hash[d][i] = v.first;
    levels_.count[d][i] = v.second;
  }
  levels_.leaves = update.leaves_after_;
  size_ = size_after;
  lock.unlock();
  for (auto& [bucket, leaves] : update.buckets_) cache_.put(bucket, std::move(leaves));
  return Status::ok();
}

void StateMap::suspend() {
  std::unique_lock turn(turnstile_);
  std::unique_lock lock(mu_);
  suspended_ = true;
}

Status StateMap::reset(uint64_t size) {
  auto count = stored_count(store_);
  if (!count) return count.status();
  if (!count->has_value()) return Status::error("the state column has no leaf count");
  cache_.clear();
  auto lv = build_levels(store_, depth_for(**count), &cache_);
  if (!lv) return lv.status().context("rebuilding the state map");
  if (lv->leaves != **count) {
    return Status::error("the state column holds " + std::to_string(lv->leaves) +
                         " leaves, its count says " + std::to_string(**count));
  }
  std::unique_lock turn(turnstile_);
  std::unique_lock lock(mu_);
  turn.unlock();
  levels_ = std::move(*lv);
  undo_.clear();
  undo_bytes_ = 0;
  size_ = size;
  suspended_ = false;
  return Status::ok();
}

void StateMap::add_leaves_for_serials(WriteBatch& batch) {
  std::vector<std::pair<std::string, std::string>> leaves;
  for (const auto& op : batch.ops()) {
    if (op.column != Column::serials) continue;
    leaves.emplace_back(raw(state_key(op.key)), raw(state_value_hash(op.value)));
  }
  for (auto& [k, v] : leaves) batch.put(Column::state, std::move(k), std::move(v));
  batch.put(Column::state, std::string(kCountKey), encode_u64_key(leaves.size()));
}

// A read at one size: the current values, and for anything a later block
// changed the old value the earliest such block recorded. The caller holds
// the shared lock for the Reading's life.
class StateMap::Reading {
 public:
  Reading(const StateMap& map, size_t first) : map_(map), first_(first) {}

  NodeVal node(int d, uint64_t i) const {
    const uint64_t id = node_id(d, i);
    for (size_t j = first_; j < map_.undo_.size(); ++j) {
      const auto& nodes = map_.undo_[j]->nodes;
      if (auto it = nodes.find(id); it != nodes.end()) return it->second;
    }
    const auto du = static_cast<size_t>(d);
    return {map_.levels_.hash[du][i], map_.levels_.count[du][i]};
  }

  Result<std::vector<StateLeaf>> leaves(const KeyRange& range) const {
    std::map<Hash, Hash> now;
    Status bad = Status::ok();
    CL_TRY(map_.store_.scan_ranges(Column::state, {range},
                                   [&](size_t, std::string_view key, std::string_view value) {
                                     auto leaf = leaf_of(key, value);
                                     if (!leaf) {
                                       bad = leaf.status();
                                       return false;
                                     }
                                     now.insert(*leaf);
                                     return true;
                                   }));
    CL_TRY(bad);
    std::set<Hash> decided;
    Hash begin{};
    std::copy(range.begin.begin(), range.begin.end(), begin.begin());
    for (size_t j = first_; j < map_.undo_.size(); ++j) {
      const auto& undone = map_.undo_[j]->leaves;
      for (auto it = undone.lower_bound(begin); it != undone.end(); ++it) {
        if (!range.end.empty() && raw(it->first) >= range.end) break;
        if (!decided.insert(it->first).second) continue;
        if (it->second) {
          now[it->first] = *it->second;
        } else {
          now.erase(it->first);
        }
      }
    }
    return std::vector<StateLeaf>(now.begin(), now.end());
  }

  Result<std::optional<std::string>> record(std::string_view serial) const {
    const std::string key(serial);
    for (size_t j = first_; j < map_.undo_.size(); ++j) {
      const auto& records = map_.undo_[j]->records;
      if (auto it = records.find(key); it != records.end()) return it->second;
    }
    return map_.store_.get(Column::serials, serial);
  }

 private:
  const StateMap& map_;
  size_t first_;
};

namespace {
// The shared lock with the writer's turnstile passed first.
std::shared_lock<std::shared_mutex> read_lock(std::mutex& turnstile, std::shared_mutex& mu) {
  { std::lock_guard turn(turnstile); }
  return std::shared_lock(mu);
}
}  // namespace

uint64_t StateMap::size() const {
  auto lock = read_lock(turnstile_, mu_);
  return size_;
}

uint64_t StateMap::oldest_size() const {
  auto lock = read_lock(turnstile_, mu_);
  return undo_.empty() ? size_ : std::min(size_, undo_.front()->size_before);
}

uint64_t StateMap::leaf_count() const {
  auto lock = read_lock(turnstile_, mu_);
  return levels_.leaves;
}

int StateMap::depth() const {
  auto lock = read_lock(turnstile_, mu_);
  return levels_.depth;
}

Result<Hash> StateMap::root_at(uint64_t size) const {
  auto lock = read_lock(turnstile_, mu_);
  auto first = first_after(size);
  if (!first) return first.status();
  return Reading(*this, *first).node(0, 0).first;
}

Result<size_t> StateMap::first_after(uint64_t size) const {
  using R = Result<size_t>;
  if (suspended_) return R::error("the state map is being rebuilt from a snapshot; try again");
  if (size > size_) {
    return R::error("the state map is at log size " + std::to_string(size_) + ", not yet at " +
                    std::to_string(size));
  }
  const uint64_t oldest = undo_.empty() ? size_ : std::min(size_, undo_.front()->size_before);
  if (size < oldest) {
    return R::error("the state at log size " + std::to_string(size) +
                    " is no longer kept (the oldest kept is " + std::to_string(oldest) + ")");
  }
  auto it = std::lower_bound(undo_.begin(), undo_.end(), size,
                             [](const auto& u, uint64_t s) { return u->size_before < s; });
  const auto first = static_cast<size_t>(it - undo_.begin());
  if (size == size_) return first;
  if (it == undo_.end() || (*it)->size_before != size) {
    return R::error("log size " + std::to_string(size) + " did not end a block");
  }
  return first;
}

Result<StateAnswer> StateMap::prove(std::string_view serial, uint64_t size) const {
  using R = Result<StateAnswer>;
  auto lock = read_lock(turnstile_, mu_);
  auto first = first_after(size);
  if (!first) return first.status();
  Reading at(*this, *first);
  const Hash key = state_key(serial);
  const int depth = levels_.depth;
  StateAnswer a;
  a.root = at.node(0, 0).first;
  for (int d = 0; d <= depth; ++d) {
    const uint64_t i = prefix_of(key, d);
    const NodeVal v = at.node(d, i);
    if (v.second <= 1 || d == depth) {
      std::vector<StateLeaf> leaves;
      if (v.second > 0) {
        auto got = at.leaves(prefix_range(d, i));
        if (!got) return got.status();
        leaves = std::move(*got);
      }
      if (std::min<size_t>(leaves.size(), 2) != v.second) {
        return R::error("the state map's node and its leaves disagree at depth " +
                        std::to_string(d));
      }
      extend_state_proof(leaves, key, d, a.proof);
      break;
    }
    a.proof.siblings.push_back(at.node(d + 1, prefix_of(key, d + 1) ^ 1).first);
  }
  auto record = at.record(serial);
  if (!record) return record.status();
  a.record = std::move(*record);
  // A check of our own: the map and the serial records must agree.
  Status ok = a.record ? verify_state_presence(a.root, serial, *a.record, a.proof)
                       : verify_state_absence(a.root, serial, a.proof);
  if (!ok) return ok.context("the state map disagrees with the serial records");
  return a;
}

}  // namespace chipledger
