#include "client/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/custody_verifier.h"
#include "client/node_client.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "ledger/transaction.h"

namespace chipledger {
namespace {

using nlohmann::json;

constexpr int kExitError = 1;
constexpr int kExitRefused = 2;
constexpr size_t kSerialsPerTx = 1000;

struct Common {
  std::string node;
  std::string as;
  std::string key_file;
  bool json_out = false;
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

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string format_time(uint64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream os;
  os << std::put_time(&tm, "%Y-%m-%d %H:%M:%S") << "Z";
  return os.str();
}

std::string node_url(const Common& c) {
  if (!c.node.empty()) return c.node;
  const char* env = std::getenv("CHIPLEDGER_NODE");
  return env && *env ? env : "http://127.0.0.1:7800";
}

std::unique_ptr<NodeClient> connect(const Common& c) {
  return need(NodeClient::connect_to(node_url(c)));
}

PrivateKey author_key(const Common& c) {
  if (c.as.empty() || c.key_file.empty()) {
    throw CliError{"give the author with --as MEMBER --key FILE"};
  }
  return need(PrivateKey::load_file(c.key_file), "author key");
}

Transaction base_tx(const Common& c, NodeClient& node, const PrivateKey& key, TxType type) {
  Transaction tx;
  tx.type = type;
  tx.ledger_id = need(node.ledger_id());
  tx.author = c.as;
  tx.key_id = key.public_key().key_id();
  tx.time_ms = now_ms();
  return tx;
}

std::vector<std::string> read_csv_column(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError{"cannot read " + path};
  std::vector<std::string> out;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string first = line.substr(0, line.find(','));
    if (first.empty() || first[0] == '#') continue;
    if (lineno == 1 && first == "serial") continue;  // header
    if (auto st = check_serial(first); !st) {
      throw CliError{path + " line " + std::to_string(lineno) + ": " + st.reason()};
    }
    out.push_back(first);
  }
  if (out.empty()) throw CliError{path + " lists no serial"};
  return out;
}

class Progress {
 public:
  Progress(std::string what, size_t total) : what_(std::move(what)), total_(total) {}
  void advance(size_t n) {
    done_ += n;
    if (!tty_) return;
    std::cerr << "\r" << what_ << " " << done_ << "/" << total_ << " (" << (100 * done_ / total_)
              << "%)" << std::flush;
  }
  ~Progress() {
    if (tty_) std::cerr << "\n";
  }

 private:
  std::string what_;
  size_t total_;
  size_t done_ = 0;
  bool tty_ = isatty(STDERR_FILENO) != 0;
};

// Signs and submits one transaction; prints the outcome; false if refused.
bool submit(NodeClient& node, const Transaction& tx, const PrivateKey& key, bool quiet) {
  auto stx = need(sign_transaction(tx, key));
  auto r = need(node.submit(stx));
  if (!r.accepted) {
    std::cerr << "refused: " << r.error << "\n";
    return false;
  }
  if (!quiet) {
    std::cout << tx_type_name(tx.type) << " accepted at log index " << r.index << " ("
              << tx.serials().size() << " serial" << (tx.serials().size() == 1 ? "" : "s")
              << ", txid " << r.txid.substr(0, 16) << "…)\n";
  }
  return true;
}

std::vector<std::string> collect_serials(const std::vector<std::string>& serials,
                                         const std::string& csv) {
  if (!csv.empty()) return read_csv_column(csv);
  if (serials.empty()) throw CliError{"give --serial SERIAL (one or more) or --csv FILE"};
  for (const auto& s : serials) {
    if (auto st = check_serial(s); !st) throw CliError{"serial '" + s + "': " + st.reason()};
  }
  return serials;
}

struct RegisterArgs {
  std::vector<std::string> serials;
  std::string csv, model, eccn, fab_site, country;
};

int cmd_register(const Common& c, const RegisterArgs& a) {
  auto serials = collect_serials(a.serials, a.csv);
  auto key = author_key(c);
  auto node = connect(c);
  Progress progress("registering", serials.size());
  bool many = serials.size() > kSerialsPerTx;
  for (size_t i = 0; i < serials.size(); i += kSerialsPerTx) {
    Transaction tx = base_tx(c, *node, key, TxType::register_chips);
    tx.model = a.model;
    tx.eccn = a.eccn;
    tx.fab_site = a.fab_site;
    tx.country = a.country;
    for (size_t j = i; j < std::min(serials.size(), i + kSerialsPerTx); ++j) {
      tx.registrations.push_back({serials[j], {}});
    }
    if (!submit(*node, tx, key, many)) return kExitRefused;
    progress.advance(tx.registrations.size());
  }
  if (many) std::cout << "registered " << serials.size() << " serials\n";
  return 0;
}

// transfer / accept / reject: each serial's prev comes from the node's state.
struct MoveArgs {
  std::vector<std::string> serials;
  std::string csv, to, ship_to, reason;
};

int cmd_move(const Common& c, TxType type, const MoveArgs& a) {
  auto serials = collect_serials(a.serials, a.csv);
  auto key = author_key(c);
  auto node = connect(c);
  Progress progress(std::string(tx_type_name(type)), serials.size());
  for (size_t i = 0; i < serials.size(); i += kSerialsPerTx) {
    Transaction tx = base_tx(c, *node, key, type);
    tx.to = a.to;
    tx.ship_to_country = a.ship_to;
    tx.reason = a.reason;
    for (size_t j = i; j < std::min(serials.size(), i + kSerialsPerTx); ++j) {
      auto state = need(node->chip(serials[j]));
      if (!state) throw CliError{"serial " + serials[j] + " is not registered", kExitRefused};
      auto prev = need(hash_from_hex((*state)["last_event"].get<std::string>()));
      tx.refs.push_back({serials[j], prev});
    }
    if (!submit(*node, tx, key, false)) return kExitRefused;
    progress.advance(tx.refs.size());
  }
  return 0;
}

int cmd_keygen(const std::string& out, const std::string& alg) {
  auto algorithm = need(algorithm_from_name(alg));
  auto key = need(PrivateKey::generate(algorithm));
  if (auto st = key.save_file(out); !st) throw CliError{st.reason()};
  std::cout << "wrote " << algorithm_name(algorithm) << " private key to " << out
            << " (mode 0600)\n"
            << "key id: " << hex_encode(key.public_key().key_id()) << "\n"
            << key.public_key().pem();
  return 0;
}

int cmd_status(const Common& c, const std::string& serial) {
  auto node = connect(c);
  auto state = need(node->chip(serial));
  if (!state) {
    std::cerr << "serial " << serial << " is not registered\n";
    return finding_exit_code(Finding::not_registered);
  }
  if (c.json_out) {
    std::cout << state->dump(2) << "\n";
    return 0;
  }
  const json& s = *state;
  std::cout << "serial       " << serial << "\n"
            << "status       " << s["status"].get<std::string>() << "\n"
            << "holder       " << s["holder"].get<std::string>() << "\n";
  if (!s["pending_to"].is_null())
    std::cout << "in transit to " << s["pending_to"].get<std::string>() << "\n";
  std::cout << "model        " << s["model"].get<std::string>() << "\n"
            << "manufacturer " << s["manufacturer"].get<std::string>() << "\n"
            << "events       " << s["events"].get<uint64_t>() << " (latest at log index "
            << s["last_index"].get<uint64_t>() << ", "
            << format_time(s["last_time_ms"].get<uint64_t>()) << ")\n";
  return 0;
}

int cmd_history(const Common& c, const std::string& serial) {
  auto node = connect(c);
  auto history = need(node->history(serial, std::nullopt));
  if (!history) {
    std::cerr << "serial " << serial << " has no events\n";
    return finding_exit_code(Finding::not_registered);
  }
  if (c.json_out) {
    std::cout << history->dump(2) << "\n";
    return 0;
  }
  std::cout << "history of " << serial << " (unverified; use `chipledger verify` for proof)\n";
  for (const auto& e : (*history)["events"]) {
    const json& ev = e["event"];
    std::cout << std::setw(8) << e["index"].get<uint64_t>() << "  " << std::setw(9) << std::left
              << ev["type"].get<std::string>() << std::right << "  by "
              << ev["author"].get<std::string>() << "  "
              << format_time(ev["time_ms"].get<uint64_t>());
    if (ev.contains("to")) std::cout << "  to " << ev["to"].get<std::string>();
    std::cout << "\n";
  }
  return 0;
}

void print_report(const VerifyReport& r) {
  std::cout << "custody chain of " << r.serial << "\n";
  std::cout << std::left << std::setw(8) << "index" << std::setw(44) << "event" << std::setw(13)
            << "member" << std::setw(14) << "role" << std::setw(9) << "country"
            << "time (UTC)\n";
  for (const auto& row : r.chain) {
    std::cout << std::left << std::setw(8) << row.index << std::setw(44) << row.event
              << std::setw(13) << row.member << std::setw(14) << row.role << std::setw(9)
              << row.country << format_time(row.time_ms) << "\n";
  }
  std::cout << std::right;
  if (!r.checkpoint_signers.empty()) {
    std::cout << "checkpoint: log size " << r.checkpoint_size << ", signed by";
    for (const auto& s : r.checkpoint_signers) std::cout << " " << s;
    std::cout << "\n";
  }
  for (const auto& [finding, reason] : r.findings) {
    std::cout << "finding " << finding_name(finding) << ": " << reason << "\n";
  }
  if (r.ok()) {
    std::cout << "verdict: ok — " << r.chain.size() << " events, every signature, prev link and "
              << "inclusion proof checks; held by " << r.holder << "\n";
  } else {
    std::cout << "verdict: " << r.verdict() << "\n";
  }
}

int cmd_verify(const Common& c, const std::string& serial, const std::string& trust) {
  if (trust.empty()) throw CliError{"give the consortium trust file with --trust FILE"};
  auto consortium = need(Consortium::load_file(trust));
  auto node = connect(c);
  std::string note = need(node->checkpoint());
  // The history is asked for at the checkpoint's size so proofs match it.
  auto size = Checkpoint::parse(note.substr(0, note.find("\n\n") + 1));
  std::optional<json> history;
  if (size) history = need(node->history(serial, size->size));
  VerifyReport report = verify_custody(consortium, serial, note, history, now_ms());
  if (c.json_out) {
    std::cout << report.to_json().dump(2) << "\n";
  } else {
    print_report(report);
  }
  return report.exit_code();
}

void add_author(CLI::App* cmd, Common& c) {
  cmd->add_option("--as", c.as, "member id of the author");
  cmd->add_option("--key", c.key_file, "the author's private key (PEM)");
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"chipledger: register, move and verify chips on a chipledger ledger"};
  app.require_subcommand(1);
  Common c;
  app.add_option("--node", c.node, "node URL (default $CHIPLEDGER_NODE or http://127.0.0.1:7800)");
  app.add_flag("--json", c.json_out, "print JSON instead of text");

  std::string out, alg = "ed25519";
  auto* keygen = app.add_subcommand("keygen", "generate a private key");
  keygen->add_option("--out", out, "where to write the private key (PEM, mode 0600)")->required();
  keygen->add_option("--algorithm", alg, "ed25519 or ecdsa-p256");

  RegisterArgs reg;
  auto* regcmd = app.add_subcommand("register", "register new serials (manufacturer)");
  add_author(regcmd, c);
  regcmd->add_option("--serial", reg.serials, "serial(s) to register");
  regcmd->add_option("--csv", reg.csv, "CSV file whose first column lists serials");
  regcmd->add_option("--model", reg.model, "chip model")->required();
  regcmd->add_option("--eccn", reg.eccn, "export classification, e.g. 3A090");
  regcmd->add_option("--fab-site", reg.fab_site, "fab site")->required();
  regcmd->add_option("--country", reg.country, "country of manufacture (ISO alpha-2)")->required();

  MoveArgs mv;
  auto add_move = [&](const char* name, const char* help) {
    auto* cmd = app.add_subcommand(name, help);
    add_author(cmd, c);
    cmd->add_option("--serial", mv.serials, "serial(s)");
    cmd->add_option("--csv", mv.csv, "CSV file whose first column lists serials");
    return cmd;
  };
  auto* transfer = add_move("transfer", "send serials you hold to another member");
  transfer->add_option("--to", mv.to, "recipient member id")->required();
  transfer->add_option("--ship-to", mv.ship_to, "ship-to country (ISO alpha-2)")->required();
  auto* accept = add_move("accept", "accept serials in transit to you");
  auto* reject = add_move("reject", "refuse serials in transit to you");
  reject->add_option("--reason", mv.reason, "why");

  std::string serial, trust;
  auto* status = app.add_subcommand("status", "a serial's current state (from the node)");
  status->add_option("serial", serial, "serial")->required();
  auto* history = app.add_subcommand("history", "a serial's events (from the node)");
  history->add_option("serial", serial, "serial")->required();
  auto* verify = app.add_subcommand("verify", "verify a serial's custody chain");
  verify->add_option("serial", serial, "serial")->required();
  verify->add_option("--trust", trust, "the consortium trust file");

  for (auto* sub : app.get_subcommands({})) sub->add_flag("--json", c.json_out, "print JSON");
  try {
    app.parse(argc, argv);
    if (*keygen) return cmd_keygen(out, alg);
    if (*regcmd) return cmd_register(c, reg);
    if (*transfer) return cmd_move(c, TxType::transfer, mv);
    if (*accept) return cmd_move(c, TxType::accept, mv);
    if (*reject) return cmd_move(c, TxType::reject, mv);
    if (*status) return cmd_status(c, serial);
    if (*history) return cmd_history(c, serial);
    if (*verify) return cmd_verify(c, serial, trust);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CliError& e) {
    std::cerr << "chipledger: " << e.message << "\n";
    return e.code;
  }
  return kExitError;
}

}  // namespace chipledger
