// LandmarkService (node/landmark_service.h) driven by a test clock: the
// round trip it signs is what its clock measured between handing out the
// nonce and receiving the answer; a nonce is answered once and only in
// time; pending challenges are bounded; bad requests change nothing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/location.h"
#include "node/landmark_service.h"

namespace chipledger {
namespace {

using json = nlohmann::json;

struct World {
  uint64_t now_us = 1'000'000;
  uint64_t wall_ms = 1790000000000;
  uint8_t next_nonce = 1;
  PrivateKey landmark_key = *PrivateKey::generate(KeyAlgorithm::ed25519);
  PrivateKey chip_key = *PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  LandmarkService service;

  explicit World(size_t max_pending = 4, size_t per_address = 4)
      : service(
            LandmarkOptions{"lm-test", max_pending, per_address, std::chrono::milliseconds(5000)},
            landmark_key, [this] { return now_us; }, [this] { return wall_ms; },
            [this] {
              Hash h{};
              h.fill(next_nonce++);
              return Result<Hash>(h);
            }) {}

  HttpResponse post(const std::string& path, const json& body) {
    return service.handle(HttpRequest{"POST", path, body.dump()});
  }
  json challenge_body(const std::string& serial = "GPU-0001") const {
    Hash root{};
    root.fill(0x52);
    return json{{"ledger_id", "test-ledger"},
                {"serial", serial},
                {"checkpoint_size", 7},
                {"checkpoint_root", hex_encode(root)}};
  }
  // A challenge, then the chip's answer after `delay_us`.
  HttpResponse round(uint64_t delay_us, const std::string& serial = "GPU-0001") {
    auto c = post("/v1/location/challenge", challenge_body(serial));
    REQUIRE(c.status == 200);
    auto nonce_hex = json::parse(c.body)["nonce"].get<std::string>();
    Hash root{};
    root.fill(0x52);
    Bytes msg =
        locate_chip_message("test-ledger", "lm-test", serial, *hash_from_hex(nonce_hex), 7, root);
    now_us += delay_us;
    return post("/v1/location/answer",
                {{"nonce", nonce_hex}, {"signature", hex_encode(*chip_key.sign(msg))}});
  }
};

}  // namespace

TEST_CASE("landmark: the signed round trip is the measured one", "[landmark]") {
  World w;
  auto a = w.round(1234);
  INFO(a.body);
  REQUIRE(a.status == 200);
  auto j = json::parse(a.body);
  CHECK(j["round_trip_us"] == 1234);
  CHECK(j["bound_km_at_200"] == 124);
  auto s = LocationStatement::decode(*hex_decode(j["statement"].get<std::string>()));
  REQUIRE(s);
  CHECK(s->round_trip_us == 1234);
  CHECK(s->time_ms == w.wall_ms);
  CHECK(s->landmark == "lm-test");
  CHECK(s->serial == "GPU-0001");
  CHECK(s->checkpoint_size == 7);
  CHECK(verify_statement_signatures(*s, w.landmark_key.public_key(), w.chip_key.public_key()));
  CHECK(w.service.pending() == 0);
  // A slower chip gets a larger round trip, never a smaller one.
  auto slow = json::parse(w.round(30'000).body);
  CHECK(slow["round_trip_us"] == 30000);
  CHECK(slow["bound_km_at_200"] == 3000);
}

TEST_CASE("landmark: a nonce is answered once and only in time", "[landmark]") {
  World w;
  auto c = w.post("/v1/location/challenge", w.challenge_body());
  const std::string nonce = json::parse(c.body)["nonce"];
  const json answer{{"nonce", nonce}, {"signature", "00ff"}};
  REQUIRE(w.post("/v1/location/answer", answer).status == 200);
  auto again = w.post("/v1/location/answer", answer);
  CHECK(again.status == 404);
  CHECK_THAT(again.body, Catch::Contains("each is answered once"));
  auto unknown =
      w.post("/v1/location/answer", {{"nonce", std::string(64, 'a')}, {"signature", "00"}});
  CHECK(unknown.status == 404);

  auto late = w.post("/v1/location/challenge", w.challenge_body());
  w.now_us += 5'000'001;
  auto r = w.post("/v1/location/answer",
                  {{"nonce", json::parse(late.body)["nonce"]}, {"signature", "00"}});
  CHECK(r.status == 410);
  CHECK_THAT(r.body, Catch::Contains("later than the 5000 ms allowed"));
  CHECK(w.service.pending() == 0);
}

TEST_CASE("landmark: pending challenges are bounded and expire", "[landmark]") {
  World w(2);
  CHECK(w.post("/v1/location/challenge", w.challenge_body()).status == 200);
  CHECK(w.post("/v1/location/challenge", w.challenge_body()).status == 200);
  auto full = w.post("/v1/location/challenge", w.challenge_body());
  CHECK(full.status == 503);
  CHECK_THAT(full.body, Catch::Contains("too many challenges"));
  w.now_us += 6'000'000;  // both expired: room again
  CHECK(w.post("/v1/location/challenge", w.challenge_body()).status == 200);
  CHECK(w.service.pending() == 1);
}

TEST_CASE("landmark: one client address cannot take every pending slot", "[landmark]") {
  World w(8, 2);
  auto from = [&](const std::string& address) {
    return w.service.handle(HttpRequest{"POST", "/v1/location/challenge", w.challenge_body().dump(),
                                        false, "", address});
  };
  CHECK(from("10.0.0.1").status == 200);
  CHECK(from("10.0.0.1").status == 200);
  auto third = from("10.0.0.1");
  CHECK(third.status == 503);
  CHECK_THAT(third.body, Catch::Contains("too many challenges from 10.0.0.1"));
  CHECK(from("10.0.0.2").status == 200);  // another client still gets one
  w.now_us += 6'000'000;                  // expired: the first client's slots are free again
  CHECK(from("10.0.0.1").status == 200);
  CHECK(w.service.pending() == 1);
}

TEST_CASE("landmark: malformed requests are refused with reasons, nothing kept", "[landmark]") {
  World w;
  auto bad = [&](const std::string& path, const std::string& body) {
    auto r = w.service.handle(HttpRequest{"POST", path, body});
    return std::to_string(r.status) + " " + r.body;
  };
  CHECK_THAT(bad("/v1/location/challenge", "not json"), Catch::StartsWith("400"));
  json no_root = w.challenge_body();
  no_root.erase("checkpoint_root");
  CHECK_THAT(bad("/v1/location/challenge", no_root.dump()), Catch::Contains("checkpoint_root"));
  json bad_serial = w.challenge_body("has space");
  CHECK_THAT(bad("/v1/location/challenge", bad_serial.dump()), Catch::StartsWith("400"));
  CHECK_THAT(bad("/v1/location/challenge", std::string(5000, ' ')), Catch::StartsWith("413"));
  CHECK_THAT(bad("/v1/location/answer", R"({"nonce":"zz","signature":"00"})"),
             Catch::StartsWith("400"));
  CHECK_THAT(bad("/v1/location/answer", "{\"nonce\":\"" + std::string(64, 'a') + "\"}"),
             Catch::Contains("signature"));
  CHECK(w.service.pending() == 0);
  auto r = w.service.handle(HttpRequest{"GET", "/v1/landmark", ""});
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["key"] == w.landmark_key.public_key().pem());
  CHECK(w.service.handle(HttpRequest{"GET", "/nope", ""}).status == 404);
}

}  // namespace chipledger
