// A serial's current state as the ledger keeps it (Column::serials): who
// holds it, whether it is in transit and to whom, and the id of its latest
// event (what the next event must name as `prev`).
#pragma once

#include <cstdint>
#include <string>

#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

enum class CustodyStatus : uint8_t { held = 1, in_transit = 2 };
std::string_view custody_status_name(CustodyStatus s);  // "held", "in-transit"

struct SerialRecord {
  CustodyStatus status = CustodyStatus::held;
  std::string holder;      // custody; the sender while in transit
  std::string pending_to;  // the recipient while in transit, else empty
  std::string manufacturer;
  std::string model;
  std::string eccn;
  Hash last_event{};          // txid of the latest event
  uint64_t last_index = 0;    // its log index
  uint64_t last_time_ms = 0;  // its signed time
  uint64_t events = 0;        // number of events so far

  std::string encode() const;
  static Result<SerialRecord> decode(std::string_view bytes);
  bool operator==(const SerialRecord&) const = default;
};

}  // namespace chipledger
