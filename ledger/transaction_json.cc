#include "ledger/transaction_json.h"

#include <nlohmann/json.hpp>

namespace chipledger {

using nlohmann::json;

json transaction_view(const Transaction& tx) {
  json j{{"type", tx_type_name(tx.type)},   {"ledger_id", tx.ledger_id}, {"author", tx.author},
         {"key_id", hex_encode(tx.key_id)}, {"time_ms", tx.time_ms},     {"serials", tx.serials()}};
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
      break;
    }
    case TxType::transfer:
      j.update({{"to", tx.to}, {"ship_to_country", tx.ship_to_country}});
      break;
    case TxType::reject:
      j["reason"] = tx.reason;
      break;
    case TxType::accept:
      break;
  }
  if (!tx.refs.empty()) {
    json refs = json::array();
    for (const auto& r : tx.refs)
      refs.push_back({{"serial", r.serial}, {"prev", hex_encode(r.prev)}});
    j["refs"] = refs;
  }
  return j;
}

json serial_record_view(std::string_view serial, const SerialRecord& rec) {
  return json{{"serial", serial},
              {"status", custody_status_name(rec.status)},
              {"holder", rec.holder},
              {"pending_to", rec.pending_to.empty() ? json() : json(rec.pending_to)},
              {"manufacturer", rec.manufacturer},
              {"model", rec.model},
              {"eccn", rec.eccn},
              {"last_event", hex_encode(rec.last_event)},
              {"last_index", rec.last_index},
              {"last_time_ms", rec.last_time_ms},
              {"events", rec.events}};
}

}  // namespace chipledger
