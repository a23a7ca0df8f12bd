// Keys, and the chips' side: keygen (a member's key), devkeys (simulated
// chips with their own device keys) and attest (each chip signs a verified
// checkpoint with its device key, as its secure element would; the holder
// countersigns).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/checkpoint_in_force.h"
#include "client/cli_common.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"

namespace chipledger::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// DIR/SERIAL.pem, with '/', ':' and '%' escaped as in URLs.
std::string numbered_serial(const std::string& prefix, uint64_t n, int digits) {
  std::string num = std::to_string(n);
  if (static_cast<int>(num.size()) < digits) num.insert(0, digits - num.size(), '0');
  return prefix + num;
}

// What an attestation of `serial` names: its latest event, and the chips
// it covers (the chips packed in it, for a unit, or the serial itself).
struct Attested {
  Hash prev{};
  std::vector<std::string> chips;
};

Attested attested(NodeClient& node, const std::string& serial) {
  auto state = need(node.chip(serial));
  if (!state) throw CliError{"serial " + serial + " is not registered", kExitRefused};
  Attested out;
  const json& s = *state;
  if (!s.contains("last_event") || !s["last_event"].is_string()) {
    throw CliError{"the node's state of " + serial + " has no last_event"};
  }
  out.prev = need(hash_from_hex(s["last_event"].get<std::string>()), "last_event of " + serial);
  if (s.contains("children") && s["children"].is_array()) {
    for (const auto& c : s["children"]) {
      if (c.is_string()) out.chips.push_back(c.get<std::string>());
    }
  }
  if (out.chips.empty()) out.chips.push_back(serial);
  return out;
}

}  // namespace

int cmd_keygen(const Args& a) {
  auto algorithm = need(algorithm_from_name(a.algorithm.empty() ? "ed25519" : a.algorithm));
  auto key = need(PrivateKey::generate(algorithm));
  need_ok(key.save_file(a.out));
  std::cout << "wrote " << algorithm_name(algorithm) << " private key to " << a.out
            << " (mode 0600)\n"
            << "key id: " << hex_encode(key.public_key().key_id()) << "\n"
            << key.public_key().pem();
  return 0;
}

int cmd_devkeys(const Args& a) {
  if (a.count == 0 || a.count > kMaxSerialsPerTx) {
    throw CliError{"--count must be 1.." + std::to_string(kMaxSerialsPerTx)};
  }
  if (a.digits < 1 || a.digits > 18) throw CliError{"--digits must be 1..18"};
  auto algorithm = need(algorithm_from_name(a.algorithm.empty() ? "ecdsa-p256" : a.algorithm));
  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) throw CliError{"cannot create " + a.out + ": " + ec.message()};
  fs::path csv_path = fs::path(a.out) / "devices.csv";
  std::ofstream csv(csv_path, std::ios::trunc);
  if (!csv) throw CliError{"cannot write " + csv_path.string()};
  csv << "serial,device_public_key_hex_der\n";
  Progress progress("generating device keys", a.count);
  std::string first, last;
  for (uint64_t i = 0; i < a.count; ++i) {
    std::string serial = numbered_serial(a.prefix, a.start + i, a.digits);
    need_ok(check_serial(serial), "serial '" + serial + "'");
    auto key = need(PrivateKey::generate(algorithm));
    need_ok(key.save_file(chip_key_path(a.out, serial).string()));
    csv << serial << "," << hex_encode(key.public_key().der()) << "\n";
    if (i == 0) first = serial;
    last = serial;
    progress.advance(1);
  }
  csv.close();
  if (!csv) throw CliError{"cannot write " + csv_path.string()};
  std::cout << "simulated " << a.count << " chips " << first << " .. " << last << " with "
            << algorithm_name(algorithm) << " device keys:\n"
            << "  private keys (the chips' secure elements): " << a.out << "/SERIAL.pem (0600)\n"
            << "  public keys for registration:              " << csv_path.string() << "\n";
  return 0;
}

int cmd_attest(const Args& a) {
  auto serials = collect_serials(a);
  if (a.chip_keys.empty()) throw CliError{"give the chips' key folder with --chip-keys DIR"};
  const Consortium& consortium = trust(a);
  auto key = author_key(a);
  auto node = connect(a);
  const CheckpointInForce in_force = need_checkpoint_to_sign(a, *node, consortium);
  const Checkpoint& checkpoint = in_force.checkpoint.checkpoint;

  Progress progress("attesting", serials.size());
  size_t chip_count = 0;
  for (size_t i = 0; i < serials.size(); i += kSerialsPerTx) {
    Transaction tx = base_tx(a, consortium.ledger_id(), key, TxType::attest);
    tx.site = a.site;
    tx.checkpoint_size = checkpoint.size;
    tx.checkpoint_root = checkpoint.root;
    for (size_t j = i; j < std::min(serials.size(), i + kSerialsPerTx); ++j) {
      const std::string& serial = serials[j];
      Attested what = attested(*node, serial);
      tx.refs.push_back({serial, what.prev});
      for (const auto& chip : what.chips) {
        fs::path path = chip_key_path(a.chip_keys, chip);
        auto chip_key = need(PrivateKey::load_file(path.string()), "device key of chip " + chip);
        Bytes msg =
            attestation_message(tx.ledger_id, chip, a.site, checkpoint.size, checkpoint.root);
        tx.chip_signatures.push_back({chip, need(chip_key.sign(msg), "chip " + chip)});
      }
    }
    if (!submit(a, *node, tx, key, false)) return kExitRefused;
    chip_count += tx.chip_signatures.size();
    progress.advance(tx.refs.size());
  }
  std::cout << chip_count << " chip" << (chip_count == 1 ? "" : "s") << " signed checkpoint "
            << checkpoint.size << " at site " << a.site << " with their own device keys\n";
  return 0;
}

}  // namespace chipledger::cli
