#include "ledger/serial_record.h"

#include "ledger/codec.h"

namespace chipledger {

namespace {
constexpr uint8_t kRecordVersion = 2;
constexpr size_t kMaxLen = 256;
constexpr uint32_t kMaxChildren = 100000;

// Visits every field in order, for the encoder and decoder alike.
template <typename V, typename R>
Status visit_record(V& v, R& rec) {
  for (auto* s :
       {&rec.holder, &rec.pending_to, &rec.manufacturer, &rec.model, &rec.eccn, &rec.origin_country,
        &rec.location_country, &rec.pending_ship_to, &rec.pending_license, &rec.pending_kind,
        &rec.site, &rec.parent, &rec.flag_reason, &rec.report_kind}) {
    CL_TRY(v.str(*s));
  }
  CL_TRY(v.strings(rec.children));
  CL_TRY(v.bytes(rec.device_key));
  CL_TRY(v.flag(rec.installed));
  CL_TRY(v.flag(rec.flagged));
  for (auto* n : {&rec.transit_since_ms, &rec.last_attest_ms, &rec.last_index, &rec.last_time_ms,
                  &rec.events}) {
    CL_TRY(v.u64(*n));
  }
  CL_TRY(v.u32(rec.open_reports));
  return v.hash(rec.last_event);
}

struct Enc {
  Writer& w;
  Status str(const std::string& s) { return w.str(s), Status::ok(); }
  Status strings(const std::vector<std::string>& list) {
    w.u32(static_cast<uint32_t>(list.size()));
    for (const auto& s : list) w.str(s);
    return Status::ok();
  }
  Status bytes(const Bytes& b) { return w.bytes(b), Status::ok(); }
  Status flag(bool b) { return w.u8(b ? 1 : 0), Status::ok(); }
  Status u64(uint64_t v) { return w.u64(v), Status::ok(); }
  Status u32(uint32_t v) { return w.u32(v), Status::ok(); }
  Status hash(const Hash& h) { return w.hash(h), Status::ok(); }
};

template <typename T>
Status assign(Result<T> r, T& out) {
  if (!r) return r.status();
  out = std::move(*r);
  return Status::ok();
}

struct Dec {
  Reader& r;
  Status str(std::string& s) { return assign(r.str("record field", kMaxLen), s); }
  Status strings(std::vector<std::string>& list) {
    auto n = r.count("children", kMaxChildren);
    if (!n) return n.status();
    list.resize(*n);
    for (auto& s : list) CL_TRY(str(s));
    return Status::ok();
  }
  Status bytes(Bytes& b) { return assign(r.bytes("device key", 4096), b); }
  Status flag(bool& b) {
    uint8_t v = 0;
    CL_TRY(assign(r.u8("flag"), v));
    if (v > 1) return Status::error("bad boolean in serial record");
    b = v == 1;
    return Status::ok();
  }
  Status u64(uint64_t& v) { return assign(r.u64("record number"), v); }
  Status u32(uint32_t& v) { return assign(r.u32("record number"), v); }
  Status hash(Hash& h) { return assign(r.hash("last event"), h); }
};

}  // namespace

std::string_view custody_status_name(CustodyStatus s) {
  switch (s) {
    case CustodyStatus::in_transit:
      return "in-transit";
    case CustodyStatus::decommissioned:
      return "decommissioned";
    case CustodyStatus::held:
      break;
  }
  return "held";
}

std::string SerialRecord::encode() const {
  Writer w;
  w.u8(kRecordVersion).u8(static_cast<uint8_t>(status));
  Enc e{w};
  (void)visit_record(e, *this);
  const Bytes& b = w.data();
  return std::string(b.begin(), b.end());
}

Result<SerialRecord> SerialRecord::decode(std::string_view bytes) {
  Reader r(as_bytes(bytes));
  auto version = r.u8("record version");
  if (!version) return version.status();
  if (*version != kRecordVersion) {
    return Result<SerialRecord>::error("unknown serial record version " + std::to_string(*version));
  }
  auto status = r.u8("custody status");
  if (!status) return status.status();
  if (*status < 1 || *status > 3) return Result<SerialRecord>::error("bad custody status");
  SerialRecord rec;
  rec.status = static_cast<CustodyStatus>(*status);
  Dec d{r};
  CL_TRY(visit_record(d, rec));
  CL_TRY(r.expect_end("the serial record"));
  return rec;
}

}  // namespace chipledger
