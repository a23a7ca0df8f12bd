// The trust file's location entries as JSON (docs/location.md, section 2):
// landmarks, sites and the location policy. Each reader refuses what is
// malformed or out of range, naming the entry and the field.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "crypto/result.h"
#include "ledger/location.h"

namespace chipledger {

Result<Landmark> landmark_from_json(const nlohmann::json& j);
nlohmann::json landmark_to_json(const Landmark& l);
Result<Site> site_from_json(const nlohmann::json& j);
nlohmann::json site_to_json(const Site& s);
Result<LocationPolicy> location_policy_from_json(const nlohmann::json& j);
nlohmann::json location_policy_to_json(const LocationPolicy& p);

}  // namespace chipledger
