#include "ledger/location_json.h"

#include <nlohmann/json.hpp>

#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

Result<std::string> text(const json& j, const char* field, const std::string& where) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > kMaxFieldBytes) {
    return Result<std::string>::error(where + ": field '" + field + "' (a string of 1 to " +
                                      std::to_string(kMaxFieldBytes) + " bytes) is missing");
  }
  return it->get<std::string>();
}

Result<GeoPoint> point(const json& j, const std::string& where) {
  auto lat = j.find("latitude");
  auto lon = j.find("longitude");
  if (lat == j.end() || !lat->is_number() || lon == j.end() || !lon->is_number()) {
    return Result<GeoPoint>::error(where +
                                   ": 'latitude' and 'longitude' (decimal degrees) are missing");
  }
  auto p = geo_point(lat->get<double>(), lon->get<double>());
  if (!p) return p.status().context(where);
  return p;
}

void put_point(json& j, const GeoPoint& p) {
  j["latitude"] = degrees(p.lat_e6);
  j["longitude"] = degrees(p.lon_e6);
}

// A whole number of seconds, stored in ms; absent: `out` unchanged.
Status seconds(const json& j, const char* field, uint64_t& out) {
  if (!j.contains(field)) return Status::ok();
  if (!j[field].is_number_unsigned() || j[field].get<uint64_t>() > (UINT64_MAX / 1000)) {
    return Status::error(std::string("location.") + field + " must be a whole number of seconds");
  }
  out = j[field].get<uint64_t>() * 1000;
  return Status::ok();
}

Status km(const json& j, const char* field, uint32_t& out) {
  if (!j.contains(field)) return Status::ok();
  if (!j[field].is_number_unsigned() || j[field].get<uint64_t>() > UINT32_MAX) {
    return Status::error(std::string("location.") + field + " must be a whole number");
  }
  out = static_cast<uint32_t>(j[field].get<uint64_t>());
  return Status::ok();
}

}  // namespace

Result<Landmark> landmark_from_json(const json& j) {
  using R = Result<Landmark>;
  if (!j.is_object()) return R::error("a landmark must be a JSON object");
  auto id = text(j, "id", "landmark");
  if (!id) return id.status();
  CL_TRY(check_member_id(*id).context("landmark id"));
  const std::string where = "landmark " + *id;
  auto member = text(j, "member", where);
  if (!member) return member.status();
  auto pem = text(j, "key", where);
  if (!pem) return pem.status();
  auto key = PublicKey::from_pem(*pem);
  if (!key) return key.status().context(where);
  if (key->algorithm() != KeyAlgorithm::ed25519) {
    return R::error(where + ": a landmark's key must be Ed25519");
  }
  auto where_at = point(j, where);
  if (!where_at) return where_at.status();
  auto country = text(j, "country", where);
  if (!country) return country.status();
  CL_TRY(check_country(*country).context(where));
  std::string url;
  if (j.contains("url")) {
    auto u = text(j, "url", where);
    if (!u) return u.status();
    url = std::move(*u);
  }
  return Landmark{*id, *member, std::move(*key), *where_at, *country, std::move(url)};
}

json landmark_to_json(const Landmark& l) {
  json j{{"id", l.id}, {"member", l.member}, {"key", l.key.pem()}};
  put_point(j, l.where);
  j["country"] = l.country;
  if (!l.url.empty()) j["url"] = l.url;
  return j;
}

Result<Site> site_from_json(const json& j) {
  using R = Result<Site>;
  if (!j.is_object()) return R::error("a site must be a JSON object");
  auto id = text(j, "id", "site");
  if (!id) return id.status();
  if (id->size() > 64) return R::error("site " + *id + ": a site id is 1 to 64 bytes");
  const std::string where = "site " + *id;
  auto member = text(j, "member", where);
  if (!member) return member.status();
  auto where_at = point(j, where);
  if (!where_at) return where_at.status();
  auto country = text(j, "country", where);
  if (!country) return country.status();
  CL_TRY(check_country(*country).context(where));
  return Site{*id, *member, *where_at, *country};
}

json site_to_json(const Site& s) {
  json j{{"id", s.id}, {"member", s.member}};
  put_point(j, s.where);
  j["country"] = s.country;
  return j;
}

Result<LocationPolicy> location_policy_from_json(const json& j) {
  using R = Result<LocationPolicy>;
  if (!j.is_object()) return R::error("location must be a JSON object");
  for (const auto& [field, _] : j.items()) {
    if (field != "max_location_km" && field != "max_location_age_seconds" && field != "km_per_ms" &&
        field != "statement_window_seconds") {
      return R::error("location: unknown field '" + field + "'");
    }
  }
  LocationPolicy p;
  CL_TRY(km(j, "max_location_km", p.max_location_km));
  CL_TRY(seconds(j, "max_location_age_seconds", p.max_location_age_ms));
  CL_TRY(km(j, "km_per_ms", p.km_per_ms));
  CL_TRY(seconds(j, "statement_window_seconds", p.statement_window_ms));
  CL_TRY(check_location_policy(p));
  return p;
}

json location_policy_to_json(const LocationPolicy& p) {
  return json{{"max_location_km", p.max_location_km},
              {"max_location_age_seconds", p.max_location_age_ms / 1000},
              {"km_per_ms", p.km_per_ms},
              {"statement_window_seconds", p.statement_window_ms / 1000}};
}

}  // namespace chipledger
