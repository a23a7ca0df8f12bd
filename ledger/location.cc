#include "ledger/location.h"

#include <cmath>

#include "ledger/codec.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

constexpr std::string_view kLocateDomain{"chipledger-locate-v1\0", 21};
constexpr std::string_view kStatementDomain{"chipledger-location-statement-v1\0", 33};
constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kPi = 3.14159265358979323846;

// Text fields as transactions limit them (docs/encoding.md).
Status check_field(std::string_view value, const char* what) {
  if (value.empty()) return Status::error(std::string(what) + " is missing");
  if (value.size() > kMaxFieldBytes) {
    return Status::error(std::string(what) + " is longer than " + std::to_string(kMaxFieldBytes) +
                         " bytes");
  }
  return Status::ok();
}

Status check_fields(const LocationStatement& s) {
  CL_TRY(check_field(s.ledger_id, "the statement's ledger id"));
  CL_TRY(check_member_id(s.landmark).context("the statement's landmark"));
  CL_TRY(check_serial(s.serial).context("the statement's serial"));
  if (s.round_trip_us > kMaxRoundTripUs) {
    return Status::error("a round trip of " + std::to_string(s.round_trip_us) +
                         " us is over the limit of " + std::to_string(kMaxRoundTripUs));
  }
  if (s.chip_signature.empty() || s.chip_signature.size() > kMaxSignatureBytes) {
    return Status::error("the chip's signature must be 1 to " + std::to_string(kMaxSignatureBytes) +
                         " bytes");
  }
  return Status::ok();
}

double radians(int32_t e6) { return degrees(e6) * kPi / 180.0; }

}  // namespace

Result<GeoPoint> geo_point(double latitude, double longitude) {
  using R = Result<GeoPoint>;
  if (!std::isfinite(latitude) || latitude < -90.0 || latitude > 90.0) {
    return R::error("latitude must be a number from -90 to 90 degrees");
  }
  if (!std::isfinite(longitude) || longitude < -180.0 || longitude > 180.0) {
    return R::error("longitude must be a number from -180 to 180 degrees");
  }
  return GeoPoint{static_cast<int32_t>(std::llround(latitude * 1e6)),
                  static_cast<int32_t>(std::llround(longitude * 1e6))};
}

double great_circle_km(const GeoPoint& a, const GeoPoint& b) {
  const double phi1 = radians(a.lat_e6), phi2 = radians(b.lat_e6);
  const double dphi = phi2 - phi1;
  const double dlambda = radians(b.lon_e6) - radians(a.lon_e6);
  const double h = std::sin(dphi / 2) * std::sin(dphi / 2) +
                   std::cos(phi1) * std::cos(phi2) * std::sin(dlambda / 2) * std::sin(dlambda / 2);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, h)));
}

Status check_location_policy(const LocationPolicy& p) {
  if (p.max_location_km == 0 || p.max_location_km > 20000) {
    return Status::error("location.max_location_km must be 1 to 20000");
  }
  if (p.max_location_age_ms == 0) {
    return Status::error("location.max_location_age_seconds must be positive");
  }
  if (p.km_per_ms == 0 || p.km_per_ms > kMaxKmPerMs) {
    return Status::error(
        "location.km_per_ms must be 1 to 300 (light in vacuum covers 299.8 km/ms)");
  }
  if (p.statement_window_ms == 0 || p.statement_window_ms > 3600 * 1000) {
    return Status::error("location.statement_window_seconds must be 1 to 3600");
  }
  return Status::ok();
}

uint64_t bound_km(uint64_t round_trip_us, uint32_t km_per_ms) {
  const uint64_t rtt = std::min(round_trip_us, kMaxRoundTripUs);
  return (rtt * km_per_ms + 1999) / 2000;
}

Bytes locate_chip_message(std::string_view ledger_id, std::string_view landmark,
                          std::string_view serial, const Hash& nonce, uint64_t checkpoint_size,
                          const Hash& checkpoint_root) {
  Writer w;
  w.raw(as_bytes(kLocateDomain)).str(ledger_id).str(landmark).str(serial).hash(nonce);
  w.u64(checkpoint_size).hash(checkpoint_root);
  return w.take();
}

Bytes LocationStatement::chip_message() const {
  return locate_chip_message(ledger_id, landmark, serial, nonce, checkpoint_size, checkpoint_root);
}

Result<Bytes> LocationStatement::body() const {
  CL_TRY(check_fields(*this));
  Writer w;
  w.raw(as_bytes(kStatementDomain)).str(ledger_id).str(landmark).str(serial).hash(nonce);
  w.u64(checkpoint_size).hash(checkpoint_root).u64(round_trip_us).u64(time_ms);
  w.bytes(chip_signature);
  return w.take();
}

Result<Bytes> LocationStatement::encode() const {
  auto b = body();
  if (!b) return b;
  if (landmark_signature.size() != 64) {
    return Result<Bytes>::error("a landmark's signature is 64 bytes (Ed25519)");
  }
  Writer w;
  w.raw(*b).bytes(landmark_signature);
  return w.take();
}

Result<LocationStatement> LocationStatement::decode(ByteView bytes) {
  using R = Result<LocationStatement>;
  if (bytes.size() < kStatementDomain.size() ||
      !std::equal(kStatementDomain.begin(), kStatementDomain.end(), bytes.begin(),
                  [](char c, uint8_t b) { return static_cast<uint8_t>(c) == b; })) {
    return R::error("not a location statement (wrong prefix)");
  }
  Reader r(bytes.subspan(kStatementDomain.size()));
  LocationStatement s;
  auto text = [&r](const char* what, std::string& out) -> Status {
    auto v = r.str(what, kMaxFieldBytes);
    if (!v) return v.status();
    out = std::move(*v);
    return Status::ok();
  };
  CL_TRY(text("ledger id", s.ledger_id));
  CL_TRY(text("landmark", s.landmark));
  CL_TRY(text("serial", s.serial));
  auto nonce = r.hash("nonce");
  if (!nonce) return nonce.status();
  s.nonce = *nonce;
  auto size = r.u64("checkpoint size");
  if (!size) return size.status();
  s.checkpoint_size = *size;
  auto root = r.hash("checkpoint root");
  if (!root) return root.status();
  s.checkpoint_root = *root;
  auto rtt = r.u64("round trip");
  if (!rtt) return rtt.status();
  s.round_trip_us = *rtt;
  auto time = r.u64("time");
  if (!time) return time.status();
  s.time_ms = *time;
  auto chip = r.bytes("chip signature", kMaxSignatureBytes);
  if (!chip) return chip.status();
  s.chip_signature = std::move(*chip);
  auto sig = r.bytes("landmark signature", 64);
  if (!sig) return sig.status();
  s.landmark_signature = std::move(*sig);
  CL_TRY(r.expect_end("location statement"));
  CL_TRY(check_fields(s));
  if (s.landmark_signature.size() != 64) {
    return R::error("a landmark's signature is 64 bytes (Ed25519)");
  }
  return s;
}

Result<LocationStatement> sign_statement(LocationStatement s, const PrivateKey& landmark_key) {
  using R = Result<LocationStatement>;
  if (landmark_key.algorithm() != KeyAlgorithm::ed25519) {
    return R::error("a landmark signs with an Ed25519 key");
  }
  auto body = s.body();
  if (!body) return body.status();
  auto sig = landmark_key.sign(*body);
  if (!sig) return sig.status().context("signing the statement");
  s.landmark_signature = std::move(*sig);
  return s;
}

Status verify_landmark_signature(const LocationStatement& s, const PublicKey& landmark_key) {
  auto body = s.body();
  if (!body) return body.status();
  if (landmark_key.algorithm() != KeyAlgorithm::ed25519 ||
      !landmark_key.verify(*body, s.landmark_signature)) {
    return Status::error("the statement is not signed by landmark " + s.landmark + "'s key");
  }
  return Status::ok();
}

Status verify_statement_signatures(const LocationStatement& s, const PublicKey& landmark_key,
                                   const PublicKey& device_key) {
  CL_TRY(verify_landmark_signature(s, landmark_key));
  if (!device_key.verify(s.chip_message(), s.chip_signature)) {
    return Status::error("the chip's answer to landmark " + s.landmark +
                         " is not signed by the device key of " + s.serial);
  }
  return Status::ok();
}

}  // namespace chipledger
