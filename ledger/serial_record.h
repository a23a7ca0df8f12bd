// A serial's current state as the ledger keeps it (Column::serials): who
// holds it, whether it is in transit and to whom, where it is, whether it is
// installed, packed, flagged or reported, and the id of its latest event
// (what the next event naming it must give as `prev`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

enum class CustodyStatus : uint8_t { held = 1, in_transit = 2, decommissioned = 3 };
std::string_view custody_status_name(CustodyStatus s);  // "held", "in-transit", "decommissioned"

struct SerialRecord {
  CustodyStatus status = CustodyStatus::held;
  std::string holder;        // custody; the sender while in transit
  std::string pending_to;    // the recipient while in transit, else empty
  std::string manufacturer;  // who registered it (who declared it, for a unit)
  std::string model;
  std::string eccn;
  std::string origin_country;    // where it was registered
  std::string location_country;  // last known country: registration, accepted ship-to, install
  // The transfer under way: ship-to country, license used, kind, start time.
  std::string pending_ship_to;
  std::string pending_license;
  std::string pending_kind;  // "export", "re-export" or "in-country"
  uint64_t transit_since_ms = 0;
  bool installed = false;
  std::string site;                   // install site while installed
  std::string parent;                 // the unit it is packed in, if any
  std::vector<std::string> children;  // the serials packed in it, for a unit
  Bytes device_key;                   // the chip's public key (DER), may be empty
  uint64_t last_attest_ms = 0;
  bool flagged = false;
  std::string flag_reason;
  uint32_t open_reports = 0;
  std::string report_kind;    // the latest open report's kind
  Hash last_event{};          // txid of the latest event
  uint64_t last_index = 0;    // its log index
  uint64_t last_time_ms = 0;  // its signed time
  uint64_t events = 0;        // number of events so far

  std::string encode() const;
  static Result<SerialRecord> decode(std::string_view bytes);
  bool operator==(const SerialRecord&) const = default;
};

}  // namespace chipledger
