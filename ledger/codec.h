// The canonical binary encoding's primitives (docs/encoding.md): big-endian
// fixed-width integers, u32-length-prefixed byte strings, u32-counted lists.
// One encoding per value, so equal values always give equal bytes. The
// Reader refuses truncated input, trailing bytes and over-long fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

class Writer {
 public:
  Writer& u8(uint8_t v);
  Writer& u32(uint32_t v);
  Writer& u64(uint64_t v);
  Writer& hash(const Hash& h);  // 32 raw bytes, no length
  Writer& bytes(ByteView b);    // u32 length || bytes
  Writer& str(std::string_view s) { return bytes(as_bytes(s)); }
  Writer& raw(ByteView b);  // no length prefix
  const Bytes& data() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  // Each read names the field in its error: "truncated reading <what>".
  Result<uint8_t> u8(const char* what);
  Result<uint32_t> u32(const char* what);
  Result<uint64_t> u64(const char* what);
  Result<Hash> hash(const char* what);
  Result<Bytes> bytes(const char* what, size_t max_len);
  Result<std::string> str(const char* what, size_t max_len);
  // A u32 list count, refused above max_count.
  Result<uint32_t> count(const char* what, uint32_t max_count);
  size_t remaining() const { return in_.size() - pos_; }
  Status expect_end(const char* what) const;

 private:
  Result<ByteView> take(size_t n, const char* what);
  ByteView in_;
  size_t pos_ = 0;
};

}  // namespace chipledger
