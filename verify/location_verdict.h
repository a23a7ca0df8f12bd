// Where an installed chip is proven to be (docs/location.md, section 8):
// the recorded location statements of a chip since its latest install,
// judged against its declared site's coordinates by the consortium in force
// at the checkpoint. Every bound is recomputed from the signed round trip
// and every distance from the trust file's coordinates; nothing rests on a
// number a node or the ledger states. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/consortium.h"
#include "ledger/location.h"
#include "ledger/serial_record.h"

namespace chipledger {

// One statement of the chip's history, as recorded at a log index, with
// its landmark as the consortium in force there listed it.
struct RecordedStatement {
  uint64_t index = 0;  // the locate event's
  LocationStatement statement;
  std::optional<Landmark> landmark_then;
  uint32_t km_per_ms_then = 0;  // the location policy's speed at that index
};

// What a chip's history says of its location since its latest install.
struct LocationHistory {
  uint64_t install_index = 0;                 // the latest install's log index
  std::optional<Site> site_then;              // the install's site as listed at that index
  std::vector<RecordedStatement> statements;  // recorded after it, in log order
};

// What one statement shows about the declared site (d: the landmark's
// distance from the site, R: the bound):
//   near:          d + R <= max_location_km: everywhere the chip can be is
//                  within the allowed distance of the site;
//   far:           d - R > max_location_km: the chip is nearer the landmark
//                  than its site could be;
//   inconclusive:  neither;
//   not_counted:   too old, made before the install, or its landmark is no
//                  longer in force (or was moved or given another key since).
enum class ProofKind { near, far, inconclusive, not_counted };
std::string_view proof_kind_name(ProofKind k);  // "near", "far", ...

struct LocationProof {
  uint64_t index = 0;
  std::string landmark;
  uint64_t round_trip_us = 0;
  uint64_t bound_km = 0;
  double distance_km = 0;  // landmark to declared site (0 without coordinates)
  uint64_t time_ms = 0;    // the landmark's signed time
  ProofKind kind = ProofKind::not_counted;
  std::string why;  // for not_counted: the reason
};

enum class LocationVerdict {
  not_judged,  // the consortium lists no landmark, or the chip is not installed
  proven,      // a recent statement puts it near its declared site
  unproven,    // none does (or the site has no coordinates)
  mismatch,    // a statement since its install puts it far from its site
};

std::string_view location_verdict_name(LocationVerdict v);

// The counted proof that leaves the chip the least room around its site
// (smallest distance + bound), or null; with `near_only`, among "near" ones.
const LocationProof* tightest_proof(const std::vector<LocationProof>& proofs,
                                    bool near_only);  // "not-judged", "proven", ...

struct LocationJudgement {
  LocationVerdict verdict = LocationVerdict::not_judged;
  std::string reason;  // for unproven and mismatch: why, naming site and landmarks
  std::vector<LocationProof> proofs;
};

// A "far" statement is a mismatch at any age (the chip was not where it was
// declared while installed there); only a statement no older than
// max_location_age at `now_ms` proves it near. A statement counts only when
// the chip signed it over a checkpoint that already held the install (so
// it was made after the install, whatever the clocks), its landmark is
// listed as it was then, and the site is listed as it was at the install.
// Its bound is taken at the faster of the speeds in force then and now
// (the larger bound: the cautious one for near and far alike).
LocationJudgement judge_location(const Consortium& in_force, const SerialRecord& record,
                                 const LocationHistory& history, uint64_t now_ms);

// "located by lm-1 (round trip 0.305 ms, within 31 km; 12 km from site
// iad-7)": the chain row of a locate event, by the consortium in force at
// its index and the site the chip was installed at then.
std::string describe_statements(const Consortium& at_index, const std::string& site,
                                const std::vector<LocationStatement>& statements);

}  // namespace chipledger
