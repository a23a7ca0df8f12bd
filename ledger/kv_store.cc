#include "ledger/kv_store.h"

namespace chipledger {

std::string_view column_name(Column c) {
  switch (c) {
    case Column::meta:
      return "meta";
    case Column::events:
      return "events";
    case Column::serials:
      return "serials";
    case Column::serial_index:
      return "serial_index";
    case Column::tree:
      return "tree";
    case Column::checkpoints:
      return "checkpoints";
    case Column::txids:
      return "txids";
    case Column::licenses:
      return "licenses";
    case Column::state:
      return "state";
    case Column::governance:
      return "governance";
  }
  return "unknown";
}

Result<std::vector<std::optional<std::string>>> KvStore::multi_get(
    Column column, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    auto got = get(column, key);
    if (!got) return got.status();
    out.push_back(std::move(*got));
  }
  return out;
}

Status KvStore::checkpoint_to(const std::string& dir) const {
  return Status::error("this store cannot be copied into " + dir +
                       " (only a RocksDB store makes checkpoints)");
}

Status KvStore::scan_ranges(
    Column column, const std::vector<KeyRange>& ranges,
    const std::function<bool(size_t, std::string_view, std::string_view)>& fn) const {
  bool go_on = true;
  for (size_t i = 0; i < ranges.size() && go_on; ++i) {
    const KeyRange& r = ranges[i];
    size_t common = 0;
    if (!r.end.empty()) {
      while (common < r.begin.size() && common < r.end.size() && r.begin[common] == r.end[common])
        ++common;
    }
    CL_TRY(scan(column, std::string_view(r.begin).substr(0, common),
                [&](std::string_view key, std::string_view value) {
                  if (key < r.begin) return true;
                  if (!r.end.empty() && key >= r.end) return false;
                  go_on = fn(i, key, value);
                  return go_on;
                }));
  }
  return Status::ok();
}

std::string encode_u64_key(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

Result<uint64_t> decode_u64_key(std::string_view key) {
  if (key.size() != 8) {
    return Result<uint64_t>::error("u64 key must be 8 bytes, got " + std::to_string(key.size()));
  }
  uint64_t v = 0;
  for (char c : key) {
    v = (v << 8) | static_cast<uint8_t>(c);
  }
  return v;
}

}  // namespace chipledger
