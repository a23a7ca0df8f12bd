#include "ledger/serial_record.h"

#include "ledger/codec.h"

namespace chipledger {

namespace {
constexpr uint8_t kRecordVersion = 1;
constexpr size_t kMaxLen = 256;

Status read_into(Reader& r, const char* what, std::string& out) {
  auto s = r.str(what, kMaxLen);
  if (!s) return s.status();
  out = std::move(*s);
  return Status::ok();
}

Status read_u64(Reader& r, const char* what, uint64_t& out) {
  auto v = r.u64(what);
  if (!v) return v.status();
  out = *v;
  return Status::ok();
}
}  // namespace

std::string_view custody_status_name(CustodyStatus s) {
  return s == CustodyStatus::in_transit ? "in-transit" : "held";
}

std::string SerialRecord::encode() const {
  Writer w;
  w.u8(kRecordVersion).u8(static_cast<uint8_t>(status));
  w.str(holder).str(pending_to).str(manufacturer).str(model).str(eccn);
  w.hash(last_event).u64(last_index).u64(last_time_ms).u64(events);
  const Bytes& b = w.data();
  return std::string(b.begin(), b.end());
}

Result<SerialRecord> SerialRecord::decode(std::string_view bytes) {
  Reader r(as_bytes(bytes));
  auto version = r.u8("record version");
  if (!version) return version.status();
  if (*version != kRecordVersion) {
    return Result<SerialRecord>::error("unknown serial record version");
  }
  auto status = r.u8("custody status");
  if (!status) return status.status();
  if (*status != 1 && *status != 2) return Result<SerialRecord>::error("bad custody status");
  SerialRecord rec;
  rec.status = static_cast<CustodyStatus>(*status);
  CL_TRY(read_into(r, "holder", rec.holder));
  CL_TRY(read_into(r, "pending recipient", rec.pending_to));
  CL_TRY(read_into(r, "manufacturer", rec.manufacturer));
  CL_TRY(read_into(r, "model", rec.model));
  CL_TRY(read_into(r, "eccn", rec.eccn));
  auto last = r.hash("last event");
  if (!last) return last.status();
  rec.last_event = *last;
  CL_TRY(read_u64(r, "last index", rec.last_index));
  CL_TRY(read_u64(r, "last time", rec.last_time_ms));
  CL_TRY(read_u64(r, "event count", rec.events));
  CL_TRY(r.expect_end("the serial record"));
  return rec;
}

}  // namespace chipledger
