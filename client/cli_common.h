// What the `chipledger` commands share: the parsed arguments, errors that
// stop a command with an exit code, node access, author keys, serial lists
// (--serial / --csv), submission and a progress display. Internal to the
// CLI (client/cli*.cc); exceptions of type CliError stop at run_cli.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/checkpoint_in_force.h"
#include "client/checkpoint_memory.h"
#include "client/node_client.h"
#include "crypto/keys.h"
#include "ledger/transaction.h"

namespace chipledger::cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitRefused = 2;
// A submission whose outcome is still unknown at --timeout (it may land).
inline constexpr int kExitUnknown = 3;
inline constexpr double kDefaultTimeoutSeconds = 10;
inline constexpr size_t kSerialsPerTx = 1000;

// Every option of every command; each command reads the ones it declares.
struct Args {
  // global and author
  std::string node, as, key_file;
  std::string ca_file;            // --ca: the consortium CA (PEM), over the trust file's tls_ca
  std::string state_file;         // --state: the checkpoint memory (CheckpointMemory)
  double receipt_timeout_s = 30;  // how long a submission waits for its receipt
  double timeout_s = -1;  // --timeout (< 0: $CHIPLEDGER_TIMEOUT, else kDefaultTimeoutSeconds)
  bool json_out = false;
  // serials
  std::vector<std::string> serials;
  std::string csv;
  std::string serial;  // the positional SERIAL of status, history, verify
  std::string txid;    // the positional TXID of tx
  // register
  std::string model, eccn, fab_site, country;
  // transfer (and reject, decommission, flag, clear, report)
  std::string to, ship_to, license, reason, kind;
  // install, attest
  std::string site, chip_keys, trust;
  // pack
  std::string unit, unit_model;
  // license
  std::string license_id, exporter, recipient, destination, expires;
  uint64_t quantity = 0;
  int64_t expires_in_days = -1;
  // keygen, devkeys
  std::string out, algorithm;
  uint64_t count = 0, start = 1;
  std::string prefix = "GPU-";
  int digits = 4;
  // verify --csv
  bool list = false;
  // export
  bool epcis = false;
  std::string since;
  // governance: propose (the changes, in this order: --add-member with
  // --name/--roles/--member-country/--member-key, --suspend, --reinstate,
  // --remove, --remove-node, --quorum, then each --changes FILE), vote, proposals, rotate-key
  std::string add_member, member_name, member_country, member_key;
  std::vector<std::string> roles, suspend, reinstate, remove, changes_files;
  std::vector<std::string> remove_node;  // --remove-node ID...
  uint32_t set_quorum = 0;               // --quorum N (0: not given)
  std::string proposal, new_key;
  std::string node_id, node_key;  // rotate-node-key
  bool all = false;
  // trust --out FILE / --check FILE
  std::string check;
  // locate: the landmarks' URLs, and the simulated chip's delay
  std::vector<std::string> landmarks;
  double chip_delay_ms = 0;
  int rounds = 3;              // per chip and landmark; the smallest round trip is kept
  size_t chips_per_tx = 1000;  // locate: chips per locate transaction (and checkpoint)
};

struct CliError {
  std::string message;
  int code = kExitError;
};

template <typename T>
T need(Result<T> r, const std::string& what = "") {
  if (!r) throw CliError{what.empty() ? r.reason() : what + ": " + r.reason()};
  return std::move(r).value();
}
void need_ok(const Status& st, const std::string& what = "");
// A file's whole text; CliError when it cannot be read.
std::string read_file(const std::string& path);

uint64_t now_ms();
// "2026-12-31", "2026-12-31T18:00Z", "2026-12-31T18:00:00Z" (UTC) -> Unix ms.
Result<uint64_t> parse_iso8601(const std::string& s);
std::string format_time(uint64_t ms);      // "2026-11-23 13:35:20Z"
std::string format_duration(uint64_t ms);  // "3 d 4 h", "2 h 5 min", "40 s"
bool stderr_is_tty();

// The nodes to talk to, in order: --node (a comma-separated list), else
// $CHIPLEDGER_NODE, then every API URL of the trust file's nodes; without
// any, https://127.0.0.1:7800.
std::vector<std::string> node_urls(const Args& a);
// How long one call to a node may take: --timeout, else
// $CHIPLEDGER_TIMEOUT, else kDefaultTimeoutSeconds.
std::chrono::milliseconds call_timeout(const Args& a);
// The nodes (node_urls): a read that a node does not answer within the
// timeout goes to the next. https: a certificate must chain to the
// consortium CA (--ca FILE, else the trust file's tls_ca) and name the
// URL's host. http: one warning on stderr that the transport is not
// authenticated.
std::unique_ptr<NodeClient> connect(const Args& a);
PrivateKey author_key(const Args& a);
Transaction base_tx(const Args& a, const std::string& ledger_id, const PrivateKey& key,
                    TxType type);

// One line of a serials CSV: the first column, and (with device_keys) the
// chip's device public key, hex of its DER. A header line (first cell
// "serial") names the columns: the one whose name starts with "device"
// holds device keys; without a header, the second column does. Blank lines
// and lines starting with # are skipped.
struct CsvRow {
  std::string serial;
  Bytes device_key;
};
std::vector<CsvRow> read_serials_csv(const std::string& path, bool device_keys);
// --serial S... or --csv FILE (first column), checked.
std::vector<std::string> collect_serials(const Args& a);
// Throws a CliError naming the serial when it is not one the ledger takes
// (check_serial), before anything is sent.
void require_valid_serial(const std::string& serial);

// The latest event of a registered serial, as the node reports it (the
// `prev` the next event must name); throws CliError(kExitRefused) when the
// node does not know the serial.
Hash latest_event(NodeClient& node, const std::string& serial);

// The genesis consortium of the trust file (--trust, else
// $CHIPLEDGER_TRUST), loaded once; throws CliError when none is given or it
// does not load. A derived trust file (client/derived_trust.h) is checked
// and gives the genesis it carries; its checkpoint becomes an anchor of the
// checkpoint memory (memory(a)): every checkpoint accepted must extend it.
const Consortium& trust(const Args& a);
// The genesis file's text, byte for byte (a derived file's: the one it carries).
const std::string& trust_genesis_text(const Args& a);
// The consortium in force as the trust file proves it, for where to
// connect (a derived file's nodes); the genesis for a genesis file.
const Consortium& trust_in_force(const Args& a);
std::string trust_path(const Args& a);  // its path; CliError when none is given
// The checkpoint memory (--state, else the default path), loaded once,
// with the anchors of every derived trust file loaded.
CheckpointMemory& memory(const Args& a);
// A verified checkpoint judged against memory(a) (its anchors and the state
// file's, docs/proofs.md "Checkpoint memory") and remembered; throws
// CliError with the reason, exit stale-checkpoint or split-view, when it
// is older than or does not extend one of them.
void need_extends_memory(const Args& a, NodeClient& node, const Consortium& consortium,
                         const std::string& note, const Checkpoint& checkpoint);
// The node's latest checkpoint for chips to sign (attest, locate): verified
// by the nodes in force at its size, fresh, extending memory(a); prints
// it (not with --json). Throws CliError otherwise.
CheckpointInForce need_checkpoint_to_sign(const Args& a, NodeClient& node,
                                          const Consortium& consortium);
// DIR/SERIAL.pem (the serial percent-encoded): a simulated chip's device key.
std::filesystem::path chip_key_path(const std::string& dir, const std::string& serial);

// Signs and submits one transaction. Refused: prints the ledger's reason
// and returns false. Accepted: believed only with a receipt (receipt.h)
// checked against the trust file within --receipt-timeout; prints the
// outcome and receipt unless quiet (--json: one JSON line). A node that
// says "accepted" without a receipt that checks is an error saying that
// the outcome is unknown.
bool submit(const Args& a, NodeClient& node, const Transaction& tx, const PrivateKey& key,
            bool quiet);

class Progress {
 public:
  Progress(std::string what, size_t total);
  ~Progress();
  void advance(size_t n);

 private:
  std::string what_;
  size_t total_;
  size_t done_ = 0;
  bool tty_;
};

// The commands (client/cli_*.cc); each returns the exit code.
int cmd_keygen(const Args& a);
int cmd_devkeys(const Args& a);
int cmd_register(const Args& a);
int cmd_serial_event(const Args& a, TxType type);  // transfer, accept, reject, install, ...
int cmd_pack(const Args& a);
int cmd_license(const Args& a);
int cmd_attest(const Args& a);
int cmd_locate(const Args& a);  // client/cli_locate.cc
int cmd_status(const Args& a);
// `tx TXID`: whether a transaction is in the ledger, with its receipt.
int cmd_tx(const Args& a);
int cmd_history(const Args& a);
int cmd_license_show(const Args& a);
int cmd_verify(const Args& a);
int cmd_export(const Args& a);   // client/cli_export.cc
int cmd_propose(const Args& a);  // client/cli_governance.cc
int cmd_vote(const Args& a);
int cmd_proposals(const Args& a);
int cmd_rotate_key(const Args& a);
int cmd_rotate_node_key(const Args& a);
int cmd_trust(const Args& a);

}  // namespace chipledger::cli
