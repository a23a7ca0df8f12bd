// node/json_limits.h: a JSON body's depth, element count and string lengths
// are bounded by one scan of the raw bytes before a document is built. Each
// bound is tried just under and just over; strings hide brackets and quotes
// from the scan; a randomised test checks the element count against a
// document walk (the seed is printed; CHIPLEDGER_TEST_SEED replays it).
#include "node/json_limits.h"
#include "tests/test_seed.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace chipledger {
namespace {

using json = nlohmann::json;

using chipledger::testing::test_seed;

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += "{\"k\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

std::string reason(const Status& s) { return s.is_ok() ? "ok" : s.reason(); }

TEST_CASE("json limits: nesting up to max_depth passes, one more is refused", "[json_limits]") {
  JsonLimits limits;  // depth 32
  CHECK(check_json_limits(nested_arrays(32), limits));
  CHECK(reason(check_json_limits(nested_arrays(33), limits)) == "JSON nesting deeper than 32");
  CHECK(parse_json_body(nested_objects(32), limits));
  CHECK(reason(check_json_limits(nested_objects(33), limits)) == "JSON nesting deeper than 32");
  // Depth is the nesting, not the count of brackets (300 * 31 + 1 elements).
  std::string wide = "[";
  for (int i = 0; i < 300; ++i) wide += std::string(i ? "," : "") + nested_arrays(31);
  wide += "]";
  CHECK(parse_json_body(wide, limits));
}

TEST_CASE("json limits: a 16 MiB body of open brackets is refused at byte 33", "[json_limits]") {
  const std::string hostile(16u << 20, '[');
  auto r = parse_json_body(hostile, JsonLimits{});
  REQUIRE_FALSE(r);
  CHECK(r.reason() == "JSON nesting deeper than 32");
  // And a flat one of 16 MiB of elements on its element count.
  std::string flat = "[";
  while (flat.size() < (16u << 20)) flat += "0,";
  CHECK(reason(check_json_limits(flat, JsonLimits{})) == "JSON with more than 10000 elements");
}

TEST_CASE("json limits: element count counts values and keys, just under and over",
          "[json_limits]") {
  JsonLimits limits{32, 5, 100};
  CHECK(check_json_limits("[1,2,3,4]", limits));  // the array and 4 numbers
  CHECK(reason(check_json_limits("[1,2,3,4,5]", limits)) == "JSON with more than 5 elements");
  CHECK(check_json_limits(R"({"a":1,"b":2})", limits));  // object, 2 keys, 2 values
  CHECK_FALSE(check_json_limits(R"({"a":1,"b":[2]})", limits));
  CHECK(check_json_limits(R"([true, false, null, -1.5e3])", limits));
  CHECK_FALSE(check_json_limits(R"([true, false, null, -1.5e3, "x"])", limits));
  CHECK(check_json_limits(" [ 12345678901234567890 ] ", limits));  // one long number is one
  CHECK(check_json_limits("", limits));                            // empty: the parse refuses
}

TEST_CASE("json limits: string length, just under and over, escapes counted as sent",
          "[json_limits]") {
  JsonLimits limits{32, 100, 8};
  CHECK(check_json_limits(R"(["12345678"])", limits));
  CHECK(reason(check_json_limits(R"(["123456789"])", limits)) == "JSON string longer than 8 bytes");
  CHECK(check_json_limits(R"({"12345678":"12345678"})", limits));  // keys too
  CHECK_FALSE(check_json_limits(R"({"123456789":1})", limits));
  CHECK(check_json_limits(R"(["123456\""])", limits));                     // 8 bytes as sent
  CHECK_FALSE(check_json_limits(R"(["1234567\""])", limits));              // 9
  CHECK_FALSE(check_json_limits("[\"" + std::string(1000, 'x'), limits));  // never closed
  CHECK(check_json_limits("[\"\\", limits));  // a lone escape at the end: the parse refuses
  // A long string is refused without scanning it to its end.
  const std::string huge = "[\"" + std::string(16u << 20, 'x') + "\"]";
  CHECK(reason(check_json_limits(huge, JsonLimits{})) == "JSON string longer than 1048576 bytes");
}

TEST_CASE("json limits: brackets, quotes and commas inside strings are not structure",
          "[json_limits]") {
  JsonLimits limits{2, 4, 100};
  CHECK(check_json_limits(R"(["[[[[{{{{,,,,", "\"]]]]", "\\"])", limits));
  auto doc = parse_json_body(R"({"k":["[[[[\"{{"]})", limits);
  REQUIRE(doc);
  CHECK((*doc)["k"][0] == "[[[[\"{{");
}

TEST_CASE("json limits: not JSON within the limits is refused by the parse", "[json_limits]") {
  auto r = parse_json_body("{\"tx\": ", JsonLimits{});
  REQUIRE_FALSE(r);
  CHECK(r.reason() == "the request body is not valid JSON");
  CHECK_FALSE(parse_json_body("]]]]", JsonLimits{}));  // closing more than opened
  CHECK_FALSE(parse_json_body("", JsonLimits{}));
}

// A random document of values and keys, at most `depth` deep.
json random_doc(std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 0 ? 6 : 4);
  switch (kind(rng)) {
    case 0:
      return json(static_cast<int64_t>(rng() % 100000) - 50000);
    case 1:
      return json(std::string(rng() % 12, "ab\"\\[{,:}]"[rng() % 10]));
    case 2:
      return json(rng() % 2 == 0);
    case 3:
      return json(nullptr);
    case 4:
      return json(static_cast<double>(rng() % 1000) / 7.0);
    case 5: {
      json a = json::array();
      for (size_t n = rng() % 6; n > 0; --n) a.push_back(random_doc(rng, depth - 1));
      return a;
    }
    default: {
      json o = json::object();
      for (size_t n = rng() % 6; n > 0; --n) {
        o["k" + std::to_string(rng() % 50) + "\"["] = random_doc(rng, depth - 1);
      }
      return o;
    }
  }
}

size_t elements_of(const json& j) {
  size_t n = 1;
  if (j.is_array()) {
    for (const auto& v : j) n += elements_of(v);
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) n += 1 + elements_of(v);
  }
  return n;
}

size_t depth_of(const json& j) {
  if (!j.is_structured()) return 0;
  size_t d = 0;
  for (const auto& v : j) d = std::max(d, depth_of(v));
  return d + 1;
}

TEST_CASE("json limits: random documents are counted as a document walk counts them",
          "[json_limits]") {
  uint64_t seed = test_seed();
  WARN("json limits seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 300; ++round) {
    json doc = random_doc(rng, 6);
    std::string text = round % 2 ? doc.dump() : doc.dump(2);
    size_t elements = elements_of(doc);
    size_t depth = depth_of(doc);
    INFO("round " << round << ": " << text);
    CHECK(parse_json_body(text, JsonLimits{depth, elements, 100}));
    CHECK_FALSE(check_json_limits(text, JsonLimits{depth, elements - 1, 100}));
    if (depth > 0) CHECK_FALSE(check_json_limits(text, JsonLimits{depth - 1, elements, 100}));
  }
}

// Found by tests/fuzz/json_body_fuzz.cc: nlohmann's lexer stops at a NUL.
TEST_CASE("json limits: a body with a NUL byte is not JSON", "[json_limits]") {
  using namespace std::string_literals;
  auto r = parse_json_body("{\"tx\": \"AAAA\"}\0trailing garbage"s, JsonLimits{});
  REQUIRE_FALSE(r);
  CHECK(r.reason() == "the request body is not valid JSON");
  CHECK_FALSE(parse_json_body("[1,\0 2]"s, JsonLimits{}));
  CHECK(parse_json_body(R"({"tx": "\u0000"})", JsonLimits{}));  // an escaped NUL is fine
}

}  // namespace
}  // namespace chipledger
