#include "verify/location_verdict.h"

#include <algorithm>
#include <cstdio>

namespace chipledger {
namespace {

std::string km(double d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f km", d);
  return text;
}

std::string ms_of(uint64_t round_trip_us) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(round_trip_us) / 1000);
  return text;
}

std::string age(uint64_t ms) {
  const uint64_t h = ms / 3'600'000;
  if (h >= 1) return std::to_string(h) + " h";
  return std::to_string(ms / 60'000) + " min";
}

// Why the record's site cannot be judged, or empty when it can.
std::string site_problem(const Site* site, const SerialRecord& record) {
  if (!site) {
    return "installed at site " + record.site +
           ", which the trust file does not list with coordinates: its position cannot be checked";
  }
  if (site->member != record.holder) {
    return "site " + site->id + " is declared by " + site->member + ", but " + record.holder +
           " installed the chip there";
  }
  if (site->country != record.location_country) {
    return "the install declares country " + record.location_country + ", but site " + site->id +
           " is in " + site->country;
  }
  return "";
}

LocationProof proof_of(const Consortium& c, const Site& site, const RecordedStatement& r,
                       uint64_t install_index, uint64_t now_ms) {
  const LocationPolicy& p = c.location_policy();
  const LocationStatement& st = r.statement;
  LocationProof proof;
  proof.index = r.index;
  proof.landmark = st.landmark;
  proof.round_trip_us = st.round_trip_us;
  proof.bound_km = bound_km(st.round_trip_us, std::max(p.km_per_ms, r.km_per_ms_then));
  proof.time_ms = st.time_ms;
  if (st.checkpoint_size <= install_index) {
    proof.why = "made before the install at log index " + std::to_string(install_index) +
                " (over checkpoint " + std::to_string(st.checkpoint_size) + ")";
    return proof;
  }
  const Landmark* lm = c.landmark(st.landmark);
  const Member* runs = lm ? c.member(lm->member) : nullptr;
  if (!lm || !runs || runs->suspended) {
    proof.why = "landmark " + st.landmark + " is no longer in force";
    return proof;
  }
  if (r.landmark_then &&
      (r.landmark_then->where != lm->where || r.landmark_then->key.key_id() != lm->key.key_id())) {
    proof.why = "landmark " + st.landmark + " was moved or given another key since";
    return proof;
  }
  proof.distance_km = great_circle_km(lm->where, site.where);
  const double bound = static_cast<double>(proof.bound_km);
  const double max = p.max_location_km;
  if (proof.distance_km - bound > max) {
    proof.kind = ProofKind::far;  // at any age: it was not at its site then
  } else if (now_ms > st.time_ms && now_ms - st.time_ms > p.max_location_age_ms) {
    proof.why = "older than the policy's " + age(p.max_location_age_ms);
  } else {
    proof.kind = proof.distance_km + bound <= max ? ProofKind::near : ProofKind::inconclusive;
  }
  return proof;
}

std::string describe_far(const LocationProof& f, const std::string& site, uint32_t max_km) {
  return "landmark " + f.landmark + " proves the chip within " + km(f.bound_km) + " of it (" +
         ms_of(f.round_trip_us) + " round trip, log index " + std::to_string(f.index) +
         "), and it is " + km(f.distance_km) + " from the declared site " + site +
         ": the chip was at least " + km(f.distance_km - static_cast<double>(f.bound_km)) +
         " from its site, over the policy's " + km(max_km);
}

}  // namespace

std::string_view proof_kind_name(ProofKind k) {
  switch (k) {
    case ProofKind::near:
      return "near";
    case ProofKind::far:
      return "far";
    case ProofKind::inconclusive:
      return "inconclusive";
    case ProofKind::not_counted:
      break;
  }
  return "not-counted";
}

std::string_view location_verdict_name(LocationVerdict v) {
  switch (v) {
    case LocationVerdict::proven:
      return "proven";
    case LocationVerdict::unproven:
      return "unproven";
    case LocationVerdict::mismatch:
      return "mismatch";
    case LocationVerdict::not_judged:
      break;
  }
  return "not-judged";
}

const LocationProof* tightest_proof(const std::vector<LocationProof>& proofs, bool near_only) {
  const LocationProof* best = nullptr;
  auto room = [](const LocationProof& p) {
    return p.distance_km + static_cast<double>(p.bound_km);
  };
  for (const auto& p : proofs) {
    if (p.kind == ProofKind::not_counted || (near_only && p.kind != ProofKind::near)) continue;
    if (!best || room(p) < room(*best)) best = &p;
  }
  return best;
}

LocationJudgement judge_location(const Consortium& c, const SerialRecord& record,
                                 const LocationHistory& history, uint64_t now_ms) {
  LocationJudgement j;
  if (c.landmarks().empty() || !record.installed) return j;
  const LocationPolicy& p = c.location_policy();
  const Site* site = c.site(record.site);
  std::string why = site_problem(site, record);
  if (why.empty() && history.site_then && !(*history.site_then == *site)) {
    why = "site " + site->id + " was declared again since the install at log index " +
          std::to_string(history.install_index) + ": the chip's position cannot be judged";
  }
  if (!why.empty()) {
    j.verdict = LocationVerdict::unproven;
    j.reason = std::move(why);
    return j;
  }
  for (const auto& r : history.statements) {
    j.proofs.push_back(proof_of(c, *site, r, history.install_index, now_ms));
  }
  for (const auto& f : j.proofs) {
    if (f.kind != ProofKind::far) continue;
    j.verdict = LocationVerdict::mismatch;
    j.reason = describe_far(f, site->id, p.max_location_km);
    return j;
  }
  const LocationProof* best = tightest_proof(j.proofs, false);
  if (best && best->kind == ProofKind::near) {
    j.verdict = LocationVerdict::proven;
    return j;
  }
  j.verdict = LocationVerdict::unproven;
  const std::string wanted = "within " + km(p.max_location_km) + " of site " + site->id +
                             ", no older than " + age(p.max_location_age_ms);
  if (!best) {
    j.reason = "no landmark's statement since its install proves the chip " + wanted;
  } else {
    j.reason = "no statement proves the chip " + wanted + "; the best, landmark " + best->landmark +
               " (" + km(best->distance_km) + " from the site), bounds it to " +
               km(best->bound_km) + " of the landmark (" + ms_of(best->round_trip_us) +
               " round trip)";
  }
  return j;
}

std::string describe_statements(const Consortium& c, const std::string& site_id,
                                const std::vector<LocationStatement>& statements) {
  const Site* site = c.site(site_id);
  const uint32_t speed = c.location_policy().km_per_ms;
  std::string text = "located by";
  bool first = true;
  for (const auto& st : statements) {
    text += std::string(first ? " " : ", ") + st.landmark + " (round trip " +
            ms_of(st.round_trip_us) + ", within " + km(bound_km(st.round_trip_us, speed));
    const Landmark* lm = c.landmark(st.landmark);
    if (site && lm) text += "; " + km(great_circle_km(lm->where, site->where)) + " from the site";
    text += ")";
    first = false;
  }
  return text;
}

}  // namespace chipledger
