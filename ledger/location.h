// Location proofs (docs/location.md): landmarks and sites with coordinates,
// the location policy, what a chip signs for a landmark's challenge, the
// landmark's signed statement of the round trip, and the distance bound it
// proves. Pure: the ledger, the landmark program and `verify` all use this
// one definition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/keys.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

// A point on Earth in integer microdegrees (the trust file's decimal
// degrees, rounded half away from zero), so every node holds the same.
struct GeoPoint {
  int32_t lat_e6 = 0;  // -90,000,000 .. 90,000,000
  int32_t lon_e6 = 0;  // -180,000,000 .. 180,000,000
  bool operator==(const GeoPoint&) const = default;
};
// From decimal degrees; refuses what is out of range or not finite.
Result<GeoPoint> geo_point(double latitude, double longitude);
inline double degrees(int32_t e6) { return static_cast<double>(e6) / 1e6; }
// Great-circle distance in km on a sphere of the mean Earth radius
// (6,371.0088 km), by the haversine formula.
double great_circle_km(const GeoPoint& a, const GeoPoint& b);

// A machine at a known place that times chips' answers (trust file
// "landmarks").
struct Landmark {
  std::string id;      // 1-64 of [a-z0-9._-]
  std::string member;  // who runs it
  PublicKey key;       // Ed25519: signs statements
  GeoPoint where;
  std::string country;  // ISO 3166-1 alpha-2
  std::string url;      // where it serves the protocol; a hint, may be empty
};

// An install site's declared position (trust file "sites"), by the site
// text an install names.
struct Site {
  std::string id;      // 1-64 bytes, as `install --site` gives it
  std::string member;  // the operator that declares it
  GeoPoint where;
  std::string country;
  bool operator==(const Site&) const = default;
};

inline constexpr size_t kMaxLandmarks = 256;
inline constexpr size_t kMaxSites = 4096;
inline constexpr uint32_t kMaxKmPerMs = 300;  // light in vacuum: 299.79 km/ms

// What a location proof must show (trust file "location").
struct LocationPolicy {
  uint32_t max_location_km = 500;
  uint64_t max_location_age_ms = 7 * 24 * 3600 * 1000ull;
  uint32_t km_per_ms = 200;
  uint64_t statement_window_ms = 600 * 1000;
  bool operator==(const LocationPolicy&) const = default;
};
Status check_location_policy(const LocationPolicy& p);

// ceil(round_trip_us * km_per_ms / 2000): how far the chip's key was from
// the landmark at most. round_trip_us is at most kMaxRoundTripUs.
inline constexpr uint64_t kMaxRoundTripUs = 1'000'000'000;  // 1,000 s
uint64_t bound_km(uint64_t round_trip_us, uint32_t km_per_ms);

// What a chip's device key signs to answer a landmark's nonce:
// "chipledger-locate-v1" || 0x00 || str ledger_id || str landmark ||
// str serial || hash nonce || u64 checkpoint_size || hash checkpoint_root.
Bytes locate_chip_message(std::string_view ledger_id, std::string_view landmark,
                          std::string_view serial, const Hash& nonce, uint64_t checkpoint_size,
                          const Hash& checkpoint_root);

// A landmark's signed statement of one timed round (docs/location.md,
// section 3).
struct LocationStatement {
  std::string ledger_id;
  std::string landmark;
  std::string serial;
  Hash nonce{};
  uint64_t checkpoint_size = 0;
  Hash checkpoint_root{};
  uint64_t round_trip_us = 0;
  uint64_t time_ms = 0;  // the landmark's clock when the answer arrived
  Bytes chip_signature;
  Bytes landmark_signature;  // Ed25519 over body()

  // The signed bytes; refuses fields over their limits.
  Result<Bytes> body() const;
  Result<Bytes> encode() const;  // body || bytes landmark_signature
  // Refuses truncation, trailing bytes, a wrong prefix, over-long fields.
  static Result<LocationStatement> decode(ByteView bytes);
  bool operator==(const LocationStatement&) const = default;

  // The message the chip signed for this statement.
  Bytes chip_message() const;
};

// Signs `s` (its landmark_signature replaced) with the landmark's key.
Result<LocationStatement> sign_statement(LocationStatement s, const PrivateKey& landmark_key);
// The landmark's signature, then the chip's (by `device_key`); the reason
// says which fails.
Status verify_statement_signatures(const LocationStatement& s, const PublicKey& landmark_key,
                                   const PublicKey& device_key);
Status verify_landmark_signature(const LocationStatement& s, const PublicKey& landmark_key);

}  // namespace chipledger
