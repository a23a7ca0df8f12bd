// Location statements and bounds (ledger/location.h, docs/location.md):
// coordinates, great-circle distances, the bound a round trip proves, the
// statement's encoding (byte for byte as tests/vectors/location.json) and
// signatures, and the trust file's landmarks, sites and location policy.
// Regenerate the vector file (only after a deliberate format change) with:
//   ledger_tests "[.generate-location-vectors]" | sed -n "/^{/,/^}/p" > tests/vectors/location.json
#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "ledger/consortium.h"
#include "ledger/location.h"
#include "tests/test_seed.h"

namespace chipledger {
namespace {

using nlohmann::json;

// RFC 8032's first test seed for the landmark, its second for the chip.
constexpr const char* kLandmarkSeed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr const char* kChipSeed =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

PrivateKey seeded(const char* hex) { return *PrivateKey::ed25519_from_seed(*hex_decode(hex)); }

Hash filled(uint8_t b) {
  Hash h{};
  h.fill(b);
  return h;
}

// The vector's statement, signed by the chip and the landmark.
LocationStatement vector_statement() {
  LocationStatement s;
  s.ledger_id = "chipledger.dev/vectors";
  s.landmark = "lm-ashburn";
  s.serial = "GPU-0001";
  s.nonce = filled(0x4e);
  s.checkpoint_size = 42;
  s.checkpoint_root = filled(0x52);
  s.round_trip_us = 1234;
  s.time_ms = 1790000000000;
  s.chip_signature = *seeded(kChipSeed).sign(s.chip_message());
  return *sign_statement(s, seeded(kLandmarkSeed));
}

json vector_json() {
  LocationStatement s = vector_statement();
  return json{{"landmark_seed", kLandmarkSeed},
              {"chip_seed", kChipSeed},
              {"chip_message", hex_encode(s.chip_message())},
              {"statement", hex_encode(*s.encode())},
              {"round_trip_us", s.round_trip_us},
              {"bound_km_at_200", bound_km(s.round_trip_us, 200)}};
}

json load_vector() {
  std::ifstream in(std::string(CHIPLEDGER_TEST_VECTORS) + "/location.json");
  REQUIRE(in);
  return json::parse(in);
}

}  // namespace

TEST_CASE("generate location vectors", "[.generate-location-vectors]") {
  std::cout << vector_json().dump(2) << "\n";
}

TEST_CASE("location: the statement encodes byte for byte as the checked-in vector",
          "[location][encoding]") {
  json file = load_vector();
  CHECK(vector_json() == file);
  auto bytes = hex_decode(file["statement"].get<std::string>());
  REQUIRE(bytes);
  auto s = LocationStatement::decode(*bytes);
  REQUIRE(s);
  CHECK(*s == vector_statement());
  CHECK(verify_statement_signatures(*s, seeded(kLandmarkSeed).public_key(),
                                    seeded(kChipSeed).public_key()));
}

TEST_CASE("location: every changed byte of a statement is refused", "[location][property]") {
  const uint64_t seed = testing::test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const PrivateKey landmark = seeded(kLandmarkSeed);
  const PrivateKey chip = seeded(kChipSeed);
  const Bytes good = *vector_statement().encode();
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= static_cast<uint8_t>(1 + rng() % 255);
    auto s = LocationStatement::decode(bad);
    if (!s) continue;  // refused as malformed
    INFO("byte " << i);
    CHECK_FALSE(verify_statement_signatures(*s, landmark.public_key(), chip.public_key()));
  }
  // Truncated anywhere, or with a byte after: malformed.
  for (size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(LocationStatement::decode(ByteView(good).first(n)));
  }
  Bytes longer = good;
  longer.push_back(0);
  CHECK_FALSE(LocationStatement::decode(longer));
}

TEST_CASE("location: the signatures name what fails", "[location]") {
  LocationStatement s = vector_statement();
  const PrivateKey other = *PrivateKey::generate(KeyAlgorithm::ed25519);
  Status by_other_landmark =
      verify_statement_signatures(s, other.public_key(), seeded(kChipSeed).public_key());
  CHECK(by_other_landmark.reason().find("not signed by landmark lm-ashburn's key") !=
        std::string::npos);
  Status by_other_chip =
      verify_statement_signatures(s, seeded(kLandmarkSeed).public_key(), other.public_key());
  CHECK(by_other_chip.reason().find("not signed by the device key of GPU-0001") !=
        std::string::npos);
  // A round trip changed after signing (a forged, smaller one): the
  // landmark's signature no longer verifies.
  s.round_trip_us = 1;
  CHECK_FALSE(verify_landmark_signature(s, seeded(kLandmarkSeed).public_key()));
  // A landmark signs only with Ed25519.
  CHECK_FALSE(sign_statement(s, *PrivateKey::generate(KeyAlgorithm::ecdsa_p256)));
}

TEST_CASE("location: bounds and great-circle distances", "[location]") {
  CHECK(bound_km(0, 200) == 0);
  CHECK(bound_km(1, 200) == 1);  // rounded up: never smaller than proven
  CHECK(bound_km(1000, 200) == 100);
  CHECK(bound_km(30000, 200) == 3000);
  CHECK(bound_km(30000, 100) == 1500);
  CHECK(bound_km(kMaxRoundTripUs * 4, 300) == bound_km(kMaxRoundTripUs, 300));

  auto at = [](double lat, double lon) { return *geo_point(lat, lon); };
  CHECK(great_circle_km(at(0, 0), at(0, 0)) == 0.0);
  CHECK(great_circle_km(at(0, 0), at(0, 1)) == Approx(111.195).epsilon(0.001));
  CHECK(great_circle_km(at(90, 0), at(-90, 0)) == Approx(20015.1).epsilon(0.001));
  // Ashburn (VA) to Frankfurt: about 6,540 km.
  CHECK(great_circle_km(at(39.0438, -77.4874), at(50.1109, 8.6821)) == Approx(6540).epsilon(0.01));
  CHECK(great_circle_km(at(10, 179.5), at(10, -179.5)) == Approx(109.5).epsilon(0.01));

  CHECK(at(39.0438, -77.4874) == GeoPoint{39043800, -77487400});
  CHECK(at(0.0000005, -0.0000005) == GeoPoint{1, -1});  // half away from zero
  CHECK_FALSE(geo_point(90.1, 0));
  CHECK_FALSE(geo_point(0, -180.5));
  CHECK_FALSE(geo_point(std::nan(""), 0));
}

TEST_CASE("location: landmarks, sites and the policy in the trust file", "[location][consortium]") {
  const PrivateKey lm = seeded(kLandmarkSeed);
  const PrivateKey member = *PrivateKey::generate(KeyAlgorithm::ed25519);
  json base{{"ledger_id", "loc"},
            {"members",
             {{{"id", "reg"},
               {"name", "Regulator"},
               {"roles", {"regulator"}},
               {"country", "US"},
               {"keys", {member.public_key().pem()}}}}}};
  json landmark{{"id", "lm-ashburn"},
                {"member", "reg"},
                {"key", lm.public_key().pem()},
                {"latitude", 39.0438},
                {"longitude", -77.4874},
                {"country", "US"},
                {"url", "http://127.0.0.1:7700"}};
  json site{{"id", "iad-7"},
            {"member", "reg"},
            {"latitude", 39.05},
            {"longitude", -77.49},
            {"country", "US"}};
  json with = base;
  with["landmarks"] = {landmark};
  with["sites"] = {site};
  with["location"] = {{"max_location_km", 300}, {"km_per_ms", 180}};
  auto c = Consortium::from_json(with.dump());
  INFO((c ? "" : c.reason()));
  REQUIRE(c);
  REQUIRE(c->landmarks().size() == 1);
  CHECK(c->landmark("lm-ashburn")->where == GeoPoint{39043800, -77487400});
  CHECK(c->landmark("lm-ashburn")->url == "http://127.0.0.1:7700");
  CHECK(c->landmark("lm-other") == nullptr);
  REQUIRE(c->site("iad-7"));
  CHECK(c->site("iad-7")->country == "US");
  CHECK(c->location_policy().max_location_km == 300);
  CHECK(c->location_policy().km_per_ms == 180);
  CHECK(c->location_policy().statement_window_ms == LocationPolicy{}.statement_window_ms);
  // Round trip through the JSON, field for field.
  auto again = Consortium::from_json(c->to_json());
  REQUIRE(again);
  CHECK(again->to_json() == c->to_json());
  CHECK(again->landmark("lm-ashburn")->where == c->landmark("lm-ashburn")->where);
  // No location entries: none written.
  auto plain = Consortium::from_json(base.dump());
  REQUIRE(plain);
  CHECK(json::parse(plain->to_json()).contains("landmarks") == false);
  CHECK(json::parse(plain->to_json()).contains("location") == false);

  auto refused = [&](json j) {
    auto r = Consortium::from_json(j.dump());
    return r ? std::string("accepted") : r.reason();
  };
  auto edit = [&](const char* what, const json& value) {
    json j = with;
    j["landmarks"][0][what] = value;
    return refused(j);
  };
  CHECK_THAT(edit("member", "nobody"), Catch::Contains("landmark lm-ashburn names unknown member"));
  CHECK_THAT(edit("latitude", 91.0), Catch::Contains("latitude must be a number from -90 to 90"));
  CHECK_THAT(edit("country", "usa"), Catch::Contains("landmark lm-ashburn"));
  CHECK_THAT(edit("key", "not a key"), Catch::Contains("landmark lm-ashburn"));
  CHECK_THAT(edit("key", PrivateKey::generate(KeyAlgorithm::ecdsa_p256)->public_key().pem()),
             Catch::Contains("must be Ed25519"));
  CHECK_THAT(edit("id", "LM Ashburn"), Catch::Contains("landmark id"));
  json twice = with;
  twice["landmarks"].push_back(landmark);
  CHECK_THAT(refused(twice), Catch::Contains("landmark lm-ashburn is listed twice"));
  json fast = with;
  fast["location"]["km_per_ms"] = 301;
  CHECK_THAT(refused(fast), Catch::Contains("km_per_ms must be 1 to 300"));
  json unknown = with;
  unknown["location"]["max_km"] = 3;
  CHECK_THAT(refused(unknown), Catch::Contains("unknown field 'max_km'"));
  // A member removed takes its landmarks and sites with it.
  Consortium without = *c;
  REQUIRE(without.add_member(
      Member{"dc", "DC", {Role::operator_}, "US", {member.public_key()}, false}));
  REQUIRE(without.remove_member("reg"));
  CHECK(without.landmarks().empty());
  CHECK(without.site("iad-7") == nullptr);
  CHECK(without.validate());
  json bad_site = with;
  bad_site["sites"][0]["member"] = "nobody";
  CHECK_THAT(refused(bad_site), Catch::Contains("site iad-7 names unknown member"));
}

}  // namespace chipledger
