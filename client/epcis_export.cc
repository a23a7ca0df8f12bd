#include "client/epcis_export.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "ledger/utc_time.h"
#include "net/percent_encoding.h"

namespace chipledger {

namespace {

using nlohmann::ordered_json;

constexpr const char* kContext = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";
constexpr const char* kOwnContext = "https://chipledger.dev/epcis/";

std::string urn(const std::string& kind, const std::string& ledger_id, const std::string& id) {
  return "urn:chipledger:" + kind + ":" + percent_encode_segment(ledger_id) + ":" +
         percent_encode_segment(id);
}

// One transaction's rows, from every exported serial it concerns.
struct Gathered {
  const ChainRow* row = nullptr;
  std::vector<std::string> serials;
};

// What kind of EPCIS event a ledger event becomes (docs/epcis.md, "Events").
struct Mapping {
  const char* type = "ObjectEvent";
  const char* action = "OBSERVE";
  const char* biz_step = nullptr;
  const char* disposition = nullptr;
};

Mapping mapping_of(const ChainRow& r) {
  const std::string& t = r.type;
  if (t == "register") return {"ObjectEvent", "ADD", "commissioning", "active"};
  if (t == "transfer") {
    return {r.license.empty() ? "ObjectEvent" : "TransactionEvent",
            r.license.empty() ? "OBSERVE" : "ADD", "shipping", "in_transit"};
  }
  if (t == "accept") return {"ObjectEvent", "OBSERVE", "receiving", "in_progress"};
  if (t == "reject") return {"ObjectEvent", "OBSERVE", "void_shipping", "returned"};
  if (t == "install") return {"ObjectEvent", "OBSERVE", "installing", "active"};
  if (t == "attest" || t == "locate") return {"ObjectEvent", "OBSERVE", "inspecting", nullptr};
  if (t == "pack") return {"AggregationEvent", "ADD", "packing", "in_progress"};
  if (t == "unpack") return {"AggregationEvent", "DELETE", "unpacking", "in_progress"};
  if (t == "decommission") {
    return {"ObjectEvent", "DELETE", r.kind == "destroyed" ? "destroying" : "decommissioning",
            r.kind == "destroyed" ? "destroyed" : "inactive"};
  }
  if (t == "flag") return {"ObjectEvent", "OBSERVE", "holding", "non_sellable_other"};
  if (t == "clear") return {"ObjectEvent", "OBSERVE", "inspecting", "active"};
  if (t == "report") {
    const char* d = r.kind == "stolen" ? "stolen" : r.kind == "tampered" ? "damaged" : "unknown";
    return {"ObjectEvent", "OBSERVE", "inspecting", d};
  }
  return {nullptr, nullptr, nullptr, nullptr};  // license, governance: not custody events
}

ordered_json party(const char* type, const std::string& ledger_id, const std::string& member,
                   const char* key) {
  return ordered_json{{"type", type}, {key, urn("member", ledger_id, member)}};
}

ordered_json event_of(const Gathered& g, const EpcisExportOptions& o) {
  const ChainRow& r = *g.row;
  const Mapping m = mapping_of(r);
  ordered_json e;
  e["type"] = m.type;
  e["eventTime"] = rfc3339_utc_ms(r.time_ms);
  e["eventTimeZoneOffset"] = "+00:00";
  e["eventID"] = "urn:chipledger:tx:" + r.txid;
  std::vector<std::string> epcs;
  for (const auto& s : g.serials) epcs.push_back(epc_of(o.ledger_id, s));
  if (std::string(m.type) == "AggregationEvent") {
    e["parentID"] = epc_of(o.ledger_id, r.unit);
    std::vector<std::string> children;
    for (const auto& s : g.serials) {
      if (s != r.unit) children.push_back(epc_of(o.ledger_id, s));
    }
    e["childEPCs"] = children;
  } else {
    e["epcList"] = epcs;
  }
  e["action"] = m.action;
  e["bizStep"] = m.biz_step;
  if (m.disposition) e["disposition"] = m.disposition;
  if (!r.site.empty()) {
    e["readPoint"] = {{"id", urn("site", o.ledger_id, r.site)}};
    e["bizLocation"] = {{"id", urn("site", o.ledger_id, r.site)}};
  }
  if (!r.license.empty()) {
    e["bizTransactionList"] = ordered_json::array(
        {{{"type", "cert"}, {"bizTransaction", urn("license", o.ledger_id, r.license)}}});
  }
  if (r.type == "transfer" || r.type == "accept" || r.type == "reject") {
    e["sourceList"] =
        ordered_json::array({party("owning_party", o.ledger_id, r.from, "source"),
                             party("possessing_party", o.ledger_id, r.from, "source")});
    const std::string& to = r.type == "reject" ? r.from : r.to;
    ordered_json dest =
        ordered_json::array({party("owning_party", o.ledger_id, to, "destination")});
    if (!r.ship_to.empty()) {
      dest.push_back(
          {{"type", "location"}, {"destination", "urn:chipledger:country:" + r.ship_to}});
    }
    e["destinationList"] = dest;
  }
  e["chipledger:logIndex"] = r.index;
  e["chipledger:txid"] = r.txid;
  e["chipledger:eventType"] = r.type;
  e["chipledger:signedBy"] = urn("member", o.ledger_id, r.member);
  e["chipledger:signerCountry"] = r.country;
  return e;
}

}  // namespace

std::string epc_of(const std::string& ledger_id, const std::string& serial) {
  return urn("serial", ledger_id, serial);
}

nlohmann::ordered_json epcis_document(const std::vector<VerifyReport>& reports,
                                      const EpcisExportOptions& options) {
  // By log index: one EPCIS event per transaction, in ledger order.
  std::map<uint64_t, Gathered> by_index;
  for (const auto& report : reports) {
    for (const auto& row : report.chain) {
      if (!mapping_of(row).type) continue;
      if (options.since_ms && row.time_ms < *options.since_ms) continue;
      Gathered& g = by_index[row.index];
      g.row = &row;
      if (std::find(g.serials.begin(), g.serials.end(), report.serial) == g.serials.end()) {
        g.serials.push_back(report.serial);
      }
    }
  }
  ordered_json events = ordered_json::array();
  for (const auto& [index, g] : by_index) events.push_back(event_of(g, options));
  ordered_json doc;
  doc["@context"] = ordered_json::array({kContext, {{"chipledger", kOwnContext}}});
  doc["type"] = "EPCISDocument";
  doc["schemaVersion"] = "2.0";
  doc["creationDate"] = rfc3339_utc_ms(options.created_ms);
  doc["chipledger:ledger"] = options.ledger_id;
  doc["chipledger:checkpoint"] = {{"size", options.checkpoint_size},
                                  {"root", options.checkpoint_root_hex}};
  doc["epcisBody"] = {{"eventList", events}};
  return doc;
}

}  // namespace chipledger
