// The custody engine: one serial's state change under one signed
// transaction, with every authority check that decides it. A pure,
// deterministic function of (consortium, the serial's record before, the
// transaction, its log index, how the transaction concerns the serial, the
// proven context it needs) to the serial's new SerialRecord or a refusal.
// The ledger calls it for every serial a transaction changes when it applies
// a block (custody_rules); the client's verifier calls it for every event of
// a serial's history when it replays it. So a verifier replaying a serial's
// events obtains exactly the record the ledger stored, field for field.
// Every rule uses the transaction's signed time (tx.time_ms), never the
// block's: the block's time is not in the log, the signed time is covered by
// the inclusion proof (docs/rules.md). Checks that need the whole ledger
// (replay, clock skew, license quantity, the attested checkpoint, a chip
// signature for a chip the attestation does not cover, chips already in a
// unit being flagged) stay in custody_rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/consortium.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

// How a transaction concerns a serial.
enum class ConcernKind : uint8_t {
  registered,    // a register transaction lists it
  named,         // it is in the transaction's refs (with its prev)
  via_unit,      // it is packed in `unit`, which the transaction names
  unit_of_pack,  // it is a pack's unit: declared (all-zero unit_prev) or named by unit_prev
  packed_into,   // a pack puts it into `unit`
};
struct Concern {
  ConcernKind kind = ConcernKind::named;
  std::string unit;  // via_unit, packed_into: the unit
  // registered: the serial's entry in the transaction's registrations, when
  // the caller knows it (a lookup saved: a register names up to 100,000
  // serials); not part of what the concern is.
  const RegisterItem* item = nullptr;
  bool operator==(const Concern& o) const { return kind == o.kind && unit == o.unit; }
};

// The concerns of `serial` in `tx` given its record before (nullopt: none),
// in the order the rules apply them (refs order); empty when the
// transaction does not concern it. A license concerns no serial.
std::vector<Concern> concerns_of(const Transaction& tx, std::string_view serial,
                                 const std::optional<SerialRecord>& before);

// Whether events of this type naming a unit apply to every chip packed in it.
bool applies_to_unit(TxType type);

// What a failed check was about.
enum class RefusalKind : uint8_t {
  none,
  rule,            // a custody rule or an authority check
  stale_prev,      // `prev` is not the serial's latest event
  export_license,  // a needed export license is missing or does not cover the chip
};

// How the export-license rule is applied. `enforce` (the ledger): a needed
// license that is missing or does not cover the chip refuses the event.
// `report` (a verifier whose trust file may be stricter than the policy the
// ledger enforced): the failure is listed in StepOutcome::export_findings and
// the record is computed all the same. The record never depends on it.
enum class LicenseRule : uint8_t { enforce, report };

// Proven context an event needs beyond the serial's own record.
struct EventContext {
  // The terms of the license a transfer names (tx.license_id), when known:
  // the ledger's license record, or the license event in the serial's
  // history. nullptr: no such license.
  const LicenseTerms* license = nullptr;
  LicenseRule license_rule = LicenseRule::enforce;
};

struct StepOutcome {
  std::optional<SerialRecord> record;  // the new record, when accepted
  RefusalKind refusal = RefusalKind::none;
  std::string reason;  // why it was refused
  // LicenseRule::report: why a needed export license did not cover it.
  std::vector<std::string> export_findings;
  // Whether the shipment this event starts needed an export license (a
  // controlled chip to a restricted destination), and the destination.
  bool license_needed = false;
  std::string destination;

  bool ok() const { return record.has_value(); }
};

// Applies `stx` (its signature checked: the author is a member) at
// `log_index` to `serial`, whose record before it is `before`, concerned as
// `concerns` (concerns_of). The new record has the event as its latest
// (last_event, last_index, last_time_ms = the signed time, events + 1).
StepOutcome apply_event(const Consortium& consortium, std::string_view serial,
                        const std::optional<SerialRecord>& before, const SignedTransaction& stx,
                        uint64_t log_index, const std::vector<Concern>& concerns,
                        const EventContext& context = {});

// The checks of a license event that need no ledger state: issued by a
// regulator, exporter and recipient members that may hold custody, expiry
// after the license's signed time. (That its id is new is the ledger's.)
Status check_license_issue(const Consortium& consortium, const Transaction& tx);

// "export", "re-export" or "in-country" for a transfer shipping to `ship_to`
// of a chip last located in `location` and registered in `origin`.
std::string_view transfer_kind(std::string_view origin, std::string_view location,
                               std::string_view ship_to);

}  // namespace chipledger
