// Commands that write custody events: register, the events naming serials
// by their prev (transfer, accept, reject, install, unpack, decommission,
// flag, clear, report), pack and license.
#include <ctime>
#include <iostream>

#include "client/cli_common.h"

namespace chipledger::cli {
namespace {

constexpr uint64_t kDayMs = 24 * 3600 * 1000ull;

// The type-specific fields of a serial event, from the arguments.
void fill_fields(const Args& a, TxType type, Transaction& tx) {
  switch (type) {
    case TxType::transfer:
      tx.to = a.to;
      tx.ship_to_country = a.ship_to;
      tx.license_id = a.license;
      return;
    case TxType::install:
      tx.site = a.site;
      tx.country = a.country;
      return;
    case TxType::decommission:
    case TxType::report:
      tx.kind = a.kind;
      tx.reason = a.reason;
      return;
    case TxType::reject:
    case TxType::flag:
    case TxType::clear:
      tx.reason = a.reason;
      return;
    default:
      return;
  }
}

}  // namespace

int cmd_register(const Args& a) {
  std::vector<CsvRow> rows;
  if (!a.csv.empty()) {
    if (!a.serials.empty()) throw CliError{"give --serial or --csv, not both"};
    rows = read_serials_csv(a.csv, true);
  } else {
    for (const auto& s : collect_serials(a)) rows.push_back({s, {}});
  }
  auto key = author_key(a);
  auto node = connect(a);
  std::string ledger_id = need(node->ledger_id());
  Progress progress("registering", rows.size());
  bool many = rows.size() > kSerialsPerTx;
  size_t with_keys = 0;
  for (size_t i = 0; i < rows.size(); i += kSerialsPerTx) {
    Transaction tx = base_tx(a, ledger_id, key, TxType::register_chips);
    tx.model = a.model;
    tx.eccn = a.eccn;
    tx.fab_site = a.fab_site;
    tx.country = a.country;
    for (size_t j = i; j < std::min(rows.size(), i + kSerialsPerTx); ++j) {
      with_keys += rows[j].device_key.empty() ? 0 : 1;
      tx.registrations.push_back({rows[j].serial, rows[j].device_key});
    }
    if (!submit(a, *node, tx, key, many)) return kExitRefused;
    progress.advance(tx.registrations.size());
  }
  if (many || with_keys > 0) {
    std::cout << "registered " << rows.size() << " serial" << (rows.size() == 1 ? "" : "s");
    if (with_keys > 0) std::cout << ", " << with_keys << " with a device key";
    std::cout << "\n";
  }
  return 0;
}

// Each serial's prev comes from the node's current state; at most
// kSerialsPerTx serials per transaction.
int cmd_serial_event(const Args& a, TxType type) {
  auto serials = collect_serials(a);
  auto key = author_key(a);
  auto node = connect(a);
  std::string ledger_id = need(node->ledger_id());
  Progress progress(std::string(tx_type_name(type)), serials.size());
  for (size_t i = 0; i < serials.size(); i += kSerialsPerTx) {
    Transaction tx = base_tx(a, ledger_id, key, type);
    fill_fields(a, type, tx);
    for (size_t j = i; j < std::min(serials.size(), i + kSerialsPerTx); ++j) {
      tx.refs.push_back({serials[j], latest_event(*node, serials[j])});
    }
    if (!submit(a, *node, tx, key, false)) return kExitRefused;
    progress.advance(tx.refs.size());
  }
  return 0;
}

// A unit the node does not know is declared (unit_prev all zero, with its
// model); a known one names its latest event.
int cmd_pack(const Args& a) {
  auto serials = collect_serials(a);
  if (auto st = check_serial(a.unit); !st) throw CliError{"unit '" + a.unit + "': " + st.reason()};
  auto key = author_key(a);
  auto node = connect(a);
  std::string ledger_id = need(node->ledger_id());
  Transaction tx = base_tx(a, ledger_id, key, TxType::pack);
  tx.unit = a.unit;
  auto unit = need(node->chip(a.unit));
  if (unit) {
    tx.unit_prev = latest_event(*node, a.unit);
  } else if (a.unit_model.empty()) {
    throw CliError{"unit " + a.unit +
                   " is not on the ledger yet: declare it with --unit-model MODEL"};
  } else {
    tx.model = a.unit_model;
  }
  for (const auto& s : serials) tx.refs.push_back({s, latest_event(*node, s)});
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  std::cout << (unit ? "packed " : "declared unit " + a.unit + " and packed ") << serials.size()
            << " serial" << (serials.size() == 1 ? "" : "s") << " into " << a.unit << "\n";
  return 0;
}

int cmd_license(const Args& a) {
  if (a.model.empty() == a.eccn.empty()) {
    throw CliError{"give what the license covers: --model MODEL or --eccn ECCN (one of them)"};
  }
  if (a.expires.empty() == (a.expires_in_days < 0)) {
    throw CliError{"give the expiry: --expires 2026-12-31[T18:00:00Z] or --expires-in-days N"};
  }
  auto key = author_key(a);
  auto node = connect(a);
  Transaction tx = base_tx(a, need(node->ledger_id()), key, TxType::license);
  uint64_t expiry = a.expires.empty()
                        ? tx.time_ms + static_cast<uint64_t>(a.expires_in_days) * kDayMs
                        : need(parse_iso8601(a.expires), "--expires");
  tx.license = LicenseTerms{a.license_id, a.exporter, a.recipient,   a.model,
                            a.eccn,       a.quantity, a.destination, expiry};
  if (!submit(a, *node, tx, key, false)) return kExitRefused;
  std::cout << "license " << a.license_id << ": " << a.exporter << " may ship " << a.quantity
            << " x " << (a.model.empty() ? a.eccn : a.model) << " to " << a.recipient << " in "
            << a.destination << " until " << format_time(expiry) << "\n";
  return 0;
}

}  // namespace chipledger::cli
