#include "client/cli_common.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "client/checkpoint_in_force.h"
#include "client/derived_trust.h"
#include "client/receipt.h"
#include "client/submission.h"
#include "net/percent_encoding.h"
#include "net/tls_context.h"
#include "net/url.h"
#include "verify/custody_verifier.h"

namespace chipledger::cli {

using nlohmann::json;

void need_ok(const Status& st, const std::string& what) {
  if (!st) throw CliError{what.empty() ? st.reason() : what + ": " + st.reason()};
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

std::string format_duration(uint64_t ms) {
  uint64_t s = ms / 1000;
  uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  if (d > 0) return std::to_string(d) + " d " + std::to_string(h) + " h";
  if (h > 0) return std::to_string(h) + " h " + std::to_string(m) + " min";
  if (m > 0) return std::to_string(m) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s) + " s";
}

bool stderr_is_tty() { return isatty(STDERR_FILENO) != 0; }

namespace {

bool trust_file_given(const Args& a) {
  const char* env = std::getenv("CHIPLEDGER_TRUST");
  return !a.trust.empty() || (env != nullptr && *env != '\0');
}

// The CA the node's HTTPS certificate must chain to: --ca, else the trust
// file's tls_ca.
std::string consortium_ca(const Args& a, const std::string& url) {
  if (!a.ca_file.empty()) return need(read_pem_file(a.ca_file, "CA"), "--ca");
  if (trust_file_given(a)) {
    const Consortium& c = trust(a);
    if (!c.tls_ca().empty()) return c.tls_ca();
    throw CliError{url +
                   ": the node's certificate is checked against the consortium CA, and the trust "
                   "file names none (no tls_ca): give --ca FILE"};
  }
  throw CliError{url +
                 ": the node's certificate is checked against the consortium CA: give the trust "
                 "file (--trust FILE or CHIPLEDGER_TRUST, with tls_ca) or --ca FILE"};
}

}  // namespace

namespace {

std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string url = list.substr(start, comma - start);
    if (!url.empty()) out.push_back(url);
    start = comma + 1;
  }
  return out;
}

void add_unique(std::vector<std::string>& urls, const std::string& url) {
  if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
}

}  // namespace

std::vector<std::string> node_urls(const Args& a) {
  std::vector<std::string> urls;
  const char* env = std::getenv("CHIPLEDGER_NODE");
  for (const auto& u : split_urls(!a.node.empty() ? a.node : env ? env : "")) add_unique(urls, u);
  if (trust_file_given(a)) {
    // The nodes in force as the trust file proves them (a derived file's).
    for (const auto& n : trust_in_force(a).nodes()) {
      if (!n.api.empty()) add_unique(urls, n.api);
    }
  }
  if (urls.empty()) urls.push_back("https://127.0.0.1:7800");
  return urls;
}

std::chrono::milliseconds call_timeout(const Args& a) {
  double seconds = a.timeout_s;
  std::string from = "--timeout";
  if (seconds < 0) {
    const char* env = std::getenv("CHIPLEDGER_TIMEOUT");
    seconds = kDefaultTimeoutSeconds;
    if (env != nullptr && *env != '\0') {
      from = "CHIPLEDGER_TIMEOUT";
      char* end = nullptr;
      seconds = std::strtod(env, &end);
      if (end == env || *end != '\0') seconds = 0;
    }
  }
  if (!(seconds > 0) || seconds > 24 * 3600) {
    throw CliError{from + " must be more than 0 and at most 86400 seconds"};
  }
  return std::max(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)),
                  std::chrono::milliseconds(1));
}

std::unique_ptr<NodeClient> connect(const Args& a) {
  const std::vector<std::string> urls = node_urls(a);
  HttpClientOptions options;
  options.timeout = call_timeout(a);
  bool any_https = false;
  for (const auto& url : urls) {
    auto parts = parse_url(url);
    if (parts && parts->scheme == "https" && !any_https) {
      options.tls = need(make_client_context(consortium_ca(a, url), nullptr), "TLS");
      any_https = true;
    } else if (parts && parts->scheme == "http") {
      static bool warned = false;
      if (!warned) {
        std::cerr << "chipledger: warning: " << url
                  << " is plain HTTP: the transport is not authenticated (anyone on the path can "
                     "rewrite answers; proofs are still checked)"
                  << std::endl;
        warned = true;
      }
    }
  }
  return need(NodeClient::connect_to(urls, options));
}

PrivateKey author_key(const Args& a) {
  if (a.as.empty() || a.key_file.empty()) {
    throw CliError{"give the author with --as MEMBER --key FILE"};
  }
  return need(PrivateKey::load_file(a.key_file), "author key");
}

Transaction base_tx(const Args& a, const std::string& ledger_id, const PrivateKey& key,
                    TxType type) {
  Transaction tx;
  tx.type = type;
  tx.ledger_id = ledger_id;
  tx.author = a.as;
  tx.key_id = key.public_key().key_id();
  tx.time_ms = now_ms();
  return tx;
}

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string cell = line.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.pop_back();
    size_t first = cell.find_first_not_of(" \t");
    cells.push_back(first == std::string::npos ? "" : cell.substr(first));
    if (comma == std::string::npos) return cells;
    start = comma + 1;
  }
}

}  // namespace

std::vector<CsvRow> read_serials_csv(const std::string& path, bool device_keys) {
  std::ifstream in(path);
  if (!in) throw CliError{"cannot read " + path};
  std::vector<CsvRow> out;
  std::string line;
  size_t lineno = 0;
  std::optional<size_t> key_column;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    // A UTF-8 byte-order mark, as spreadsheet programs write one, is not
    // part of the first serial.
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto cells = split_csv_line(line);
    const std::string& first = cells[0];
    if (first.empty() || first[0] == '#') continue;
    std::string where = path + " line " + std::to_string(lineno);
    if (out.empty() && !header && first == "serial") {
      header = true;
      for (size_t i = 1; i < cells.size(); ++i) {
        if (cells[i].rfind("device", 0) == 0) key_column = i;
      }
      continue;
    }
    if (!header && !key_column && cells.size() >= 2) key_column = 1;
    if (auto st = check_serial(first); !st) throw CliError{where + ": " + st.reason()};
    CsvRow row{first, {}};
    if (device_keys && key_column && *key_column < cells.size() && !cells[*key_column].empty()) {
      auto der = hex_decode(cells[*key_column]);
      if (!der) throw CliError{where + ": device key: " + der.reason()};
      if (auto key = PublicKey::from_der(*der); !key) {
        throw CliError{where + ": device key: " + key.reason()};
      }
      row.device_key = std::move(*der);
    }
    out.push_back(std::move(row));
  }
  if (out.empty()) throw CliError{path + " lists no serial"};
  return out;
}

std::vector<std::string> collect_serials(const Args& a) {
  if (!a.csv.empty() && !a.serials.empty()) throw CliError{"give --serial or --csv, not both"};
  if (!a.csv.empty()) {
    std::vector<std::string> out;
    for (auto& row : read_serials_csv(a.csv, false)) out.push_back(std::move(row.serial));
    return out;
  }
  if (a.serials.empty()) throw CliError{"give --serial SERIAL (one or more) or --csv FILE"};
  for (const auto& s : a.serials) require_valid_serial(s);
  return a.serials;
}

void require_valid_serial(const std::string& serial) {
  if (auto st = check_serial(serial); !st)
    throw CliError{"serial '" + serial + "': " + st.reason()};
}

Hash latest_event(NodeClient& node, const std::string& serial) {
  auto state = need(node.chip(serial));
  if (!state) throw CliError{"serial " + serial + " is not registered", kExitRefused};
  const json& s = *state;
  if (!s.contains("last_event") || !s["last_event"].is_string()) {
    throw CliError{"the node's state of " + serial + " has no last_event"};
  }
  return need(hash_from_hex(s["last_event"].get<std::string>()), "last_event of " + serial);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError{"cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trust_path(const Args& a) {
  std::string path = a.trust;
  if (path.empty()) {
    const char* env = std::getenv("CHIPLEDGER_TRUST");
    path = env && *env ? env : "";
  }
  if (path.empty()) {
    throw CliError{
        "give the consortium trust file with --trust FILE (or CHIPLEDGER_TRUST): "
        "a submission counts as accepted only with a receipt checked against it"};
  }
  return path;
}

namespace {

struct LoadedTrust {
  std::string genesis_text;
  Consortium genesis;
  Consortium in_force;  // a derived file's consortium; the genesis for a genesis file
};

using Anchor = std::pair<std::string, RememberedCheckpoint>;  // memory key, checkpoint

// The checkpoint memories loaded (by state file path), and the anchors of
// the derived trust files loaded: each memory gets every anchor, whichever
// is loaded first (an offline command never reads the state file).
std::map<std::string, CheckpointMemory>& memories() {
  static std::map<std::string, CheckpointMemory> loaded;
  return loaded;
}
std::vector<Anchor>& anchors() {
  static std::vector<Anchor> loaded;
  return loaded;
}

// A genesis file as it is; a derived one checked, its genesis taken, and its
// checkpoint made an anchor of the checkpoint memory.
LoadedTrust load_trust(const std::string& path) {
  std::string text = read_file(path);
  if (!is_derived_trust(text)) {
    auto genesis = Consortium::from_json(text);
    if (!genesis) throw CliError{"trust file " + path + ": " + genesis.reason()};
    Consortium in_force = *genesis;
    return {std::move(text), std::move(*genesis), std::move(in_force)};
  }
  auto derived = check_derived_trust(text);
  if (!derived) {
    throw CliError{"trust file " + path +
                   " is a derived trust file that does not check: " + derived.reason()};
  }
  const Checkpoint& cp = derived->checkpoint.checkpoint;
  Anchor anchor{memory_key(derived->genesis),
                {cp.size, cp.root, derived->note, "of the derived trust file " + path,
                 derived->checkpoint.signers}};
  for (auto& [_, m] : memories()) m.add_anchor(anchor.first, anchor.second);
  anchors().push_back(std::move(anchor));
  return {std::move(derived->genesis_text), std::move(derived->genesis),
          std::move(derived->consortium)};
}

const LoadedTrust& loaded_trust(const Args& a) {
  static std::map<std::string, LoadedTrust> loaded;
  const std::string path = trust_path(a);
  auto it = loaded.find(path);
  if (it == loaded.end()) it = loaded.emplace(path, load_trust(path)).first;
  return it->second;
}

}  // namespace

const Consortium& trust(const Args& a) { return loaded_trust(a).genesis; }
const std::string& trust_genesis_text(const Args& a) { return loaded_trust(a).genesis_text; }
const Consortium& trust_in_force(const Args& a) { return loaded_trust(a).in_force; }

CheckpointMemory& memory(const Args& a) {
  std::string path = a.state_file.empty() ? CheckpointMemory::default_path() : a.state_file;
  auto it = memories().find(path);
  if (it == memories().end()) {
    it = memories().emplace(path, need(CheckpointMemory::load(path))).first;
    for (const auto& [key, cp] : anchors()) it->second.add_anchor(key, cp);
  }
  return it->second;
}

void need_extends_memory(const Args& a, NodeClient& node, const Consortium& consortium,
                         const std::string& note, const Checkpoint& checkpoint) {
  CheckpointMemory& m = memory(a);
  const std::string key = memory_key(consortium);
  auto judged = need(judge_against_memory(m, key, checkpoint,
                                          [&node](uint64_t from, uint64_t to) {
                                            return node.consistency(from, to);
                                          }),
                     "the consistency proof");
  const CheckpointJudgement& j = judged.judgement;
  if (!j.acceptable()) {
    throw CliError{j.reason, finding_exit_code(j.relation == CheckpointRelation::forked
                                                   ? Finding::split_view
                                                   : Finding::stale_checkpoint)};
  }
  need_ok(m.remember(key, {checkpoint.size, checkpoint.root, note, "", {}}), "the state file");
}

CheckpointInForce need_checkpoint_to_sign(const Args& a, NodeClient& node,
                                          const Consortium& consortium) {
  // The chips sign only a checkpoint the trust file vouches for.
  std::string note = need(node.checkpoint());
  // Judged as verify judges it: by the nodes in force at its size.
  auto in_force = need(verify_checkpoint_in_force(node, consortium, note),
                       "the node's checkpoint does not verify");
  const VerifiedCheckpoint& cp = in_force.checkpoint;
  // A stale checkpoint may be a lying node's old state: the chips do not
  // sign it (docs/checkpoint.md, "Freshness").
  uint64_t now = now_ms();
  need_ok(checkpoint_age_status(cp, in_force.consortium.policy(), now),
          "the node's checkpoint is not fresh; the chips sign only a fresh one");
  // Nor one older than, or not extending, what this client verified before
  // or its derived trust file's checkpoint: a fork's or an old view's.
  need_extends_memory(a, node, consortium, note, cp.checkpoint);
  if (a.json_out) return in_force;  // stdout holds only JSON then
  std::cout << "checkpoint verified: log size " << cp.checkpoint.size << ", root "
            << hex_encode(cp.checkpoint.root).substr(0, 16) << "…, signed by";
  for (const auto& s : cp.signers) std::cout << " " << s;
  std::cout << ", " << format_duration(cp.age_ms(now)) << " ago\n";
  return in_force;
}

std::filesystem::path chip_key_path(const std::string& dir, const std::string& serial) {
  return std::filesystem::path(dir) / (percent_encode_segment(serial) + ".pem");
}

bool submit(const Args& a, NodeClient& node, const Transaction& tx, const PrivateKey& key,
            bool quiet) {
  const Consortium& consortium = trust(a);
  auto stx = need(sign_transaction(tx, key));
  const std::string txid = hex_encode(stx.txid);
  // The whole submission, retries and the resolution of an unknown outcome
  // included, within --timeout; one node gets at most a third of it.
  const auto budget = call_timeout(a);
  const auto per_call = std::max(budget / 3, std::min(budget, std::chrono::milliseconds(1000)));
  const auto before = node.call_timeout();
  SubmitOutcome r =
      submit_and_resolve(node, stx, std::chrono::steady_clock::now() + budget, per_call);
  node.set_call_timeout(before);
  using K = SubmitOutcome::Kind;
  if (r.kind == K::refused) {
    std::cerr << "refused: " << r.reason << "\n";
    return false;
  }
  if (r.kind == K::not_submitted) {
    throw CliError{"not submitted (nothing was done): " + r.reason + " (txid " + txid + ")"};
  }
  if (r.kind == K::unknown) {
    std::string trail;
    for (const auto& line : r.trail) trail += "\n  " + line;
    throw CliError{"the outcome of " + std::string(tx_type_name(tx.type)) + " (txid " + txid +
                       ") is unknown after " +
                       std::to_string(budget.count() / 1000.0).substr(0, 4) +
                       " s: it may still land; ask later with `chipledger tx " + txid +
                       "` (the ledger takes a transaction once, never twice):" + trail,
                   kExitUnknown};
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(a.receipt_timeout_s * 1000));
  auto receipt = check_receipt(node, consortium, stx.wire(), r.index, &memory(a), deadline);
  if (!receipt) {
    throw CliError{"the node says " + std::string(tx_type_name(tx.type)) +
                       " was accepted at log index " + std::to_string(r.index) +
                       ", but gives no receipt that checks: " + receipt.reason() +
                       "; the outcome is unknown (txid " + txid + ")",
                   kExitUnknown};
  }
  if (quiet) return true;
  if (a.json_out) {
    json out{{"type", tx_type_name(tx.type)},
             {"accepted", true},
             {"index", r.index},
             {"already_in_ledger", r.duplicate},
             {"attempts", r.attempts},
             {"txid", hex_encode(stx.txid)},
             {"serials", tx.serials().size()},
             {"receipt", receipt->to_json()}};
    std::cout << out.dump() << "\n";
    return true;
  }
  size_t n = tx.serials().size();
  std::cout << tx_type_name(tx.type) << " accepted at log index " << r.index;
  if (tx.type == TxType::license) {
    std::cout << " (license " << tx.license.id;
  } else if (is_governance(tx.type)) {
    std::cout << " (governance";
  } else {
    std::cout << " (" << n << " serial" << (n == 1 ? "" : "s");
  }
  std::cout << ", txid " << hex_encode(stx.txid).substr(0, 16)
            << "…; receipt checked against checkpoint " << receipt->checkpoint_size << " signed by";
  for (const auto& s : receipt->signers) std::cout << " " << s;
  std::cout << ")\n";
  if (r.was_unknown || r.duplicate) {
    std::cout << "  (" << (r.duplicate ? "it was in the ledger already" : "resolved") << " after "
              << r.attempts << " submission" << (r.attempts == 1 ? "" : "s");
    for (const auto& line : r.trail) std::cout << "; " << line;
    std::cout << ")\n";
  }
  return true;
}

int cmd_tx(const Args& a) {
  const Consortium& consortium = trust(a);
  const Hash id = need(hash_from_hex(a.txid), "txid");
  auto node = connect(a);
  // Any node that has applied it will do: ask each in turn.
  std::string asked;
  bool waiting = false;
  for (size_t i = 0; i < node->node_count(); ++i, node->switch_to_next()) {
    TxLookup l = node->lookup(id);
    if (l.kind == TxLookup::Kind::waiting) waiting = true;
    if (l.kind != TxLookup::Kind::accepted) {
      asked += "\n  " + node->url() + ": " +
               (l.kind == TxLookup::Kind::waiting ? "on its way"
                : l.kind == TxLookup::Kind::not_found
                    ? "not in its ledger (size " + std::to_string(l.size) + ")"
                    : l.reason);
      continue;
    }
    auto stx = SignedTransaction::decode(l.tx);
    if (!stx || stx->txid != id) {
      throw CliError{node->url() + " says transaction " + a.txid + " is at log index " +
                     std::to_string(l.index) + " but gives other bytes"};
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(a.receipt_timeout_s * 1000));
    auto receipt = check_receipt(*node, consortium, l.tx, l.index, &memory(a), deadline);
    if (!receipt) {
      throw CliError{node->url() + " says transaction " + a.txid + " is at log index " +
                         std::to_string(l.index) +
                         ", but gives no receipt that checks: " + receipt.reason(),
                     kExitUnknown};
    }
    if (a.json_out) {
      std::cout << json{{"txid", a.txid},           {"outcome", "accepted"},
                        {"index", l.index},         {"type", tx_type_name(stx->tx.type)},
                        {"author", stx->tx.author}, {"receipt", receipt->to_json()}}
                       .dump()
                << "\n";
    } else {
      std::cout << "transaction " << a.txid.substr(0, 16) << "… (" << tx_type_name(stx->tx.type)
                << " by " << stx->tx.author << ") is in the ledger at log index " << l.index
                << "; receipt checked against checkpoint " << receipt->checkpoint_size
                << " signed by";
      for (const auto& s : receipt->signers) std::cout << " " << s;
      std::cout << "\n";
    }
    return 0;
  }
  throw CliError{"transaction " + a.txid + " is not in the ledger " +
                     (waiting ? "yet (on its way: ask again shortly)"
                              : "of any node asked (a node's word, not proven): it did not land, "
                                "or not yet") +
                     ":" + asked,
                 kExitUnknown};
}

Progress::Progress(std::string what, size_t total)
    : what_(std::move(what)), total_(total), tty_(stderr_is_tty()) {}

Progress::~Progress() {
  if (tty_ && done_ > 0) std::cerr << "\n";
}

void Progress::advance(size_t n) {
  done_ += n;
  if (!tty_ || total_ == 0) return;
  std::cerr << "\r" << what_ << " " << done_ << "/" << total_ << " (" << (100 * done_ / total_)
            << "%)" << std::flush;
}

// "2026-12-31", "2026-12-31T18:00Z", "2026-12-31T18:00:00Z" (UTC) -> Unix ms.
Result<uint64_t> parse_iso8601(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  bool date_only = std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 &&
                   n == static_cast<int>(s.size());
  bool with_seconds =
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
      n == static_cast<int>(s.size());
  bool with_minutes =
      !with_seconds &&
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &n) == 5 &&
      n == static_cast<int>(s.size());
  if (!date_only && !with_seconds && !with_minutes) {
    return Result<uint64_t>::error("'" + s +
                                   "' is not a UTC time like 2026-12-31 or 2026-12-31T18:00:00Z");
  }
  if (!date_only && !with_seconds) sec = 0;
  if (date_only) h = mi = sec = 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970) {
    return Result<uint64_t>::error("'" + s + "' is not a valid date and time");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  if (t < 0) return Result<uint64_t>::error("'" + s + "' is before 1970");
  return static_cast<uint64_t>(t) * 1000;
}

}  // namespace chipledger::cli
