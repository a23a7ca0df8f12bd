#include "ledger/license_record.h"

#include "ledger/codec.h"

namespace chipledger {

namespace {
constexpr uint8_t kLicenseVersion = 1;
}

std::string LicenseRecord::encode() const {
  Writer w;
  w.u8(kLicenseVersion);
  w.str(terms.id).str(terms.exporter).str(terms.recipient).str(terms.model).str(terms.eccn);
  w.u64(terms.quantity).str(terms.destination).u64(terms.expiry_ms);
  w.str(issuer).u64(used).u64(index);
  const Bytes& b = w.data();
  return std::string(b.begin(), b.end());
}

Result<LicenseRecord> LicenseRecord::decode(std::string_view bytes) {
  Reader r(as_bytes(bytes));
  auto version = r.u8("license record version");
  if (!version) return version.status();
  if (*version != kLicenseVersion) return Result<LicenseRecord>::error("unknown license version");
  LicenseRecord rec;
  for (auto* s : {&rec.terms.id, &rec.terms.exporter, &rec.terms.recipient, &rec.terms.model,
                  &rec.terms.eccn}) {
    auto v = r.str("license field", kMaxFieldBytes);
    if (!v) return v.status();
    *s = std::move(*v);
  }
  auto read_u64 = [&](uint64_t& out) {
    auto v = r.u64("license number");
    if (!v) return v.status();
    out = *v;
    return Status::ok();
  };
  auto read_str = [&](std::string& out) {
    auto v = r.str("license field", kMaxFieldBytes);
    if (!v) return v.status();
    out = std::move(*v);
    return Status::ok();
  };
  CL_TRY(read_u64(rec.terms.quantity));
  CL_TRY(read_str(rec.terms.destination));
  CL_TRY(read_u64(rec.terms.expiry_ms));
  CL_TRY(read_str(rec.issuer));
  CL_TRY(read_u64(rec.used));
  CL_TRY(read_u64(rec.index));
  CL_TRY(r.expect_end("the license record"));
  return rec;
}

}  // namespace chipledger
