#include "ledger/transaction_json.h"

#include <nlohmann/json.hpp>

namespace chipledger {

using nlohmann::json;

namespace {

void add_type_fields(json& j, const Transaction& tx) {
  switch (tx.type) {
    case TxType::register_chips: {
      j.update({{"model", tx.model},
                {"eccn", tx.eccn},
                {"fab_site", tx.fab_site},
                {"country", tx.country}});
      json keys = json::object();
      for (const auto& r : tx.registrations) {
        if (!r.device_key.empty()) keys[r.serial] = hex_encode(r.device_key);
      }
      if (!keys.empty()) j["device_keys"] = keys;
      return;
    }
    case TxType::transfer:
      j.update({{"to", tx.to}, {"ship_to_country", tx.ship_to_country}});
      if (!tx.license_id.empty()) j["license_id"] = tx.license_id;
      return;
    case TxType::install:
      j.update({{"site", tx.site}, {"country", tx.country}});
      return;
    case TxType::attest: {
      j.update({{"site", tx.site},
                {"checkpoint_size", tx.checkpoint_size},
                {"checkpoint_root", hex_encode(tx.checkpoint_root)}});
      json sigs = json::object();
      for (const auto& s : tx.chip_signatures) sigs[s.serial] = hex_encode(s.signature);
      j["chip_signatures"] = sigs;
      return;
    }
    case TxType::pack:
      j.update({{"unit", tx.unit}, {"unit_prev", hex_encode(tx.unit_prev)}});
      if (!tx.model.empty()) j["unit_model"] = tx.model;
      return;
    case TxType::decommission:
    case TxType::report:
      j.update({{"kind", tx.kind}, {"reason", tx.reason}});
      return;
    case TxType::reject:
    case TxType::flag:
    case TxType::clear:
      j["reason"] = tx.reason;
      return;
    case TxType::license:
      j["license"] = {{"id", tx.license.id},
                      {"exporter", tx.license.exporter},
                      {"recipient", tx.license.recipient},
                      {"model", tx.license.model},
                      {"eccn", tx.license.eccn},
                      {"quantity", tx.license.quantity},
                      {"destination", tx.license.destination},
                      {"expiry_ms", tx.license.expiry_ms}};
      return;
    case TxType::propose: {
      json changes = json::array();
      for (const auto& c : tx.changes) changes.push_back(change_to_json(c));
      j["changes"] = changes;
      return;
    }
    case TxType::vote:
      j["proposal"] = hex_encode(tx.proposal);
      return;
    case TxType::rotate_key: {
      auto key = PublicKey::from_der(tx.new_key);
      j["new_key"] = key ? key->pem() : std::string();
      j["new_key_id"] = key ? hex_encode(key->key_id()) : std::string();
      return;
    }
    case TxType::rotate_node_key: {
      auto key = PublicKey::from_der(tx.new_key);
      j["node"] = tx.node;
      j["new_key"] = key ? key->pem() : std::string();
      j["new_key_id"] = key ? hex_encode(key->key_id()) : std::string();
      return;
    }
    case TxType::locate: {
      json statements = json::array();
      for (const auto& st : tx.statements) {
        auto bytes = st.encode();
        statements.push_back({{"serial", st.serial},
                              {"landmark", st.landmark},
                              {"round_trip_us", st.round_trip_us},
                              {"time_ms", st.time_ms},
                              {"checkpoint_size", st.checkpoint_size},
                              {"statement", bytes ? hex_encode(*bytes) : std::string()}});
      }
      j["statements"] = statements;
      return;
    }
    case TxType::accept:
    case TxType::unpack:
      return;
  }
}

json nullable(const std::string& s) { return s.empty() ? json() : json(s); }

}  // namespace

json transaction_view(const Transaction& tx) {
  json j{{"type", tx_type_name(tx.type)},   {"ledger_id", tx.ledger_id}, {"author", tx.author},
         {"key_id", hex_encode(tx.key_id)}, {"time_ms", tx.time_ms},     {"serials", tx.serials()}};
  add_type_fields(j, tx);
  if (!tx.refs.empty()) {
    json refs = json::array();
    for (const auto& r : tx.refs) {
      refs.push_back({{"serial", r.serial}, {"prev", hex_encode(r.prev)}});
    }
    j["refs"] = refs;
  }
  return j;
}

json serial_record_view(std::string_view serial, const SerialRecord& rec) {
  return json{{"serial", serial},
              {"status", custody_status_name(rec.status)},
              {"holder", rec.holder},
              {"pending_to", nullable(rec.pending_to)},
              {"pending_ship_to", nullable(rec.pending_ship_to)},
              {"pending_license", nullable(rec.pending_license)},
              {"pending_kind", nullable(rec.pending_kind)},
              {"transit_since_ms", rec.transit_since_ms},
              {"manufacturer", rec.manufacturer},
              {"model", rec.model},
              {"eccn", rec.eccn},
              {"origin_country", rec.origin_country},
              {"location_country", rec.location_country},
              {"installed", rec.installed},
              {"site", nullable(rec.site)},
              {"parent", nullable(rec.parent)},
              {"children", rec.children},
              {"has_device_key", !rec.device_key.empty()},
              {"last_attest_ms", rec.last_attest_ms},
              {"flagged", rec.flagged},
              {"flag_reason", nullable(rec.flag_reason)},
              {"open_reports", rec.open_reports},
              {"report_kind", nullable(rec.report_kind)},
              {"last_event", hex_encode(rec.last_event)},
              {"last_index", rec.last_index},
              {"last_time_ms", rec.last_time_ms},
              {"events", rec.events}};
}

json license_view(const LicenseRecord& lic) {
  return json{{"id", lic.terms.id},
              {"issuer", lic.issuer},
              {"exporter", lic.terms.exporter},
              {"recipient", lic.terms.recipient},
              {"model", lic.terms.model},
              {"eccn", lic.terms.eccn},
              {"quantity", lic.terms.quantity},
              {"used", lic.used},
              {"remaining", lic.remaining()},
              {"destination", lic.terms.destination},
              {"expiry_ms", lic.terms.expiry_ms},
              {"index", lic.index}};
}

}  // namespace chipledger
