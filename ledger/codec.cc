#include "ledger/codec.h"

#include <cstring>

namespace chipledger {

Writer& Writer::u8(uint8_t v) {
  out_.push_back(v);
  return *this;
}

Writer& Writer::u32(uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(v >> s));
  return *this;
}

Writer& Writer::u64(uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(v >> s));
  return *this;
}

Writer& Writer::hash(const Hash& h) { return raw(h); }

Writer& Writer::bytes(ByteView b) {
  u32(static_cast<uint32_t>(b.size()));
  return raw(b);
}

Writer& Writer::raw(ByteView b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

Result<ByteView> Reader::take(size_t n, const char* what) {
  if (remaining() < n) {
    return Result<ByteView>::error(std::string("truncated: input ends inside ") + what);
  }
  ByteView v = in_.subspan(pos_, n);
  pos_ += n;
  return v;
}

Result<uint8_t> Reader::u8(const char* what) {
  auto b = take(1, what);
  if (!b) return b.status();
  return (*b)[0];
}

Result<uint32_t> Reader::u32(const char* what) {
  auto b = take(4, what);
  if (!b) return b.status();
  uint32_t v = 0;
  for (uint8_t x : *b) v = v << 8 | x;
  return v;
}

Result<uint64_t> Reader::u64(const char* what) {
  auto b = take(8, what);
  if (!b) return b.status();
  uint64_t v = 0;
  for (uint8_t x : *b) v = v << 8 | x;
  return v;
}

Result<Hash> Reader::hash(const char* what) {
  auto b = take(32, what);
  if (!b) return b.status();
  Hash h{};
  std::memcpy(h.data(), b->data(), 32);
  return h;
}

Result<Bytes> Reader::bytes(const char* what, size_t max_len) {
  auto len = u32(what);
  if (!len) return len.status();
  if (*len > max_len) {
    return Result<Bytes>::error(std::string(what) + " is " + std::to_string(*len) +
                                " bytes, over the limit of " + std::to_string(max_len));
  }
  auto b = take(*len, what);
  if (!b) return b.status();
  return Bytes(b->begin(), b->end());
}

Result<std::string> Reader::str(const char* what, size_t max_len) {
  auto b = bytes(what, max_len);
  if (!b) return b.status();
  return std::string(b->begin(), b->end());
}

Result<uint32_t> Reader::count(const char* what, uint32_t max_count) {
  auto n = u32(what);
  if (!n) return n.status();
  if (*n > max_count) {
    return Result<uint32_t>::error(std::string(what) + " count " + std::to_string(*n) +
                                   " is over the limit of " + std::to_string(max_count));
  }
  return *n;
}

Status Reader::expect_end(const char* what) const {
  if (remaining() != 0) {
    return Status::error(std::to_string(remaining()) + " unexpected trailing bytes after " + what);
  }
  return Status::ok();
}

}  // namespace chipledger
