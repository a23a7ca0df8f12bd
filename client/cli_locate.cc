// `chipledger locate`: timed rounds between landmarks and chips
// (docs/location.md, section 6). The node's checkpoint is verified as
// attest verifies it; each landmark must be one the trust file lists (in
// force at the checkpoint), and each statement it signs is checked.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "client/cli_common.h"
#include "client/file_write.h"
#include "client/landmark_round.h"
#include "ledger/location.h"

namespace chipledger::cli {
namespace {

using nlohmann::json;

// A landmark's connection and its entry (a copy: the consortium in force
// is fetched again for every chunk).
struct Connected {
  Landmark landmark;
  std::unique_ptr<HttpClient> http;
};

// Each connected landmark as the consortium in force at the chunk's
// checkpoint lists it; one removed meanwhile stops the round.
void refresh(std::vector<Connected>& landmarks, const Consortium& in_force) {
  for (auto& c : landmarks) {
    const Landmark* now = in_force.landmark(c.landmark.id);
    if (!now) {
      throw CliError{"landmark '" + c.landmark.id +
                     "' is no longer listed by the consortium in force at the latest checkpoint"};
    }
    c.landmark = *now;
  }
}

// The landmark at `url`, as the consortium in force names it.
Connected connect_landmark(const Args& a, const Consortium& in_force, const std::string& url) {
  auto http = need(HttpClient::connect_to(url, call_timeout(a)), "--landmark " + url);
  auto reply = need(http->get("/v1/landmark"), "landmark " + url);
  json j = json::parse(reply.body, nullptr, false);
  if (reply.status != 200 || !j.is_object() || !j.contains("id") || !j["id"].is_string()) {
    throw CliError{url + " does not answer as a landmark (GET /v1/landmark: HTTP " +
                   std::to_string(reply.status) + ")"};
  }
  const std::string id = j["id"];
  const Landmark* landmark = in_force.landmark(id);
  if (!landmark) {
    throw CliError{url + " is landmark '" + id + "', which the trust file does not list"};
  }
  return {*landmark, std::move(http)};
}

}  // namespace

int cmd_locate(const Args& a) {
  auto serials = collect_serials(a);
  if (a.chip_keys.empty()) throw CliError{"give the chips' key folder with --chip-keys DIR"};
  if (a.landmarks.empty()) throw CliError{"give at least one --landmark URL"};
  if (a.landmarks.size() > kMaxStatementsPerSerial) {
    throw CliError{"at most " + std::to_string(kMaxStatementsPerSerial) + " landmarks"};
  }
  if (a.chip_delay_ms < 0 || a.chip_delay_ms > 10000) {
    throw CliError{"--chip-delay-ms must be 0 to 10000"};
  }
  if (a.rounds < 1 || a.rounds > 20) throw CliError{"--rounds must be 1 to 20"};
  if (a.chips_per_tx < 1 || a.chips_per_tx > kSerialsPerTx) {
    throw CliError{"--chips-per-tx must be 1 to " + std::to_string(kSerialsPerTx)};
  }
  const bool record = !a.as.empty();  // else only shown (and written with --out)
  const Consortium& consortium = trust(a);
  std::optional<PrivateKey> author;
  if (record) author = author_key(a);
  auto node = connect(a);
  CheckpointInForce in_force = need_checkpoint_to_sign(a, *node, consortium);
  std::vector<Connected> landmarks;
  for (const auto& url : a.landmarks) {
    landmarks.push_back(connect_landmark(a, in_force.consortium, url));
  }
  uint32_t speed = in_force.consortium.location_policy().km_per_ms;
  const auto delay = std::chrono::microseconds(static_cast<int64_t>(a.chip_delay_ms * 1000));

  std::string lines;  // --out: one JSON line per statement
  if (!a.json_out) {
    std::cout << std::left << std::setw(20) << "serial" << std::setw(20) << "landmark"
              << std::setw(14) << "round trip"
              << "bound\n";
  }
  // Rounds and their locate transaction chunk by chunk: a chunk ends after
  // kMaxChunk chips or kMaxChunkTime, whichever comes first, so each
  // statement is recorded well within the policy's windows (statement
  // time, clock skew, checkpoint age: minutes), whatever the network's
  // speed; each chunk signs a checkpoint fetched for it.
  const size_t max_chunk = std::min<size_t>(a.chips_per_tx, kMaxStatementsPerTx / landmarks.size());
  constexpr auto kMaxChunkTime = std::chrono::seconds(60);
  size_t next = 0;
  for (bool first_chunk = true; next < serials.size(); first_chunk = false) {
    if (!first_chunk) {
      in_force = need_checkpoint_to_sign(a, *node, consortium);
      refresh(landmarks, in_force.consortium);
      speed = in_force.consortium.location_policy().km_per_ms;
    }
    const Checkpoint& checkpoint = in_force.checkpoint.checkpoint;
    const auto started = std::chrono::steady_clock::now();
    Transaction tx;
    if (record) tx = base_tx(a, consortium.ledger_id(), *author, TxType::locate);
    const size_t first = next;
    for (size_t i = first; i < serials.size() && i - first < max_chunk &&
                           std::chrono::steady_clock::now() - started < kMaxChunkTime;
         ++i, ++next) {
      const std::string& serial = serials[i];
      auto chip_key = need(PrivateKey::load_file(chip_key_path(a.chip_keys, serial).string()),
                           "device key of chip " + serial);
      if (record) tx.refs.push_back({serial, latest_event(*node, serial)});
      for (auto& [landmark, http] : landmarks) {
        LocateRequest request{consortium.ledger_id(), serial, checkpoint.size, checkpoint.root};
        // Delay only ever adds: the smallest of several rounds is the truest
        // bound, and only that statement is kept.
        std::optional<LocationStatement> best;
        for (int round = 0; round < a.rounds; ++round) {
          auto st = need(run_locate_round(*http, landmark, request, chip_key, delay),
                         "locating " + serial + " from landmark " + landmark.id);
          if (!best || st.round_trip_us < best->round_trip_us) best = std::move(st);
        }
        LocationStatement& st = *best;
        const uint64_t km = bound_km(st.round_trip_us, speed);
        json line{{"serial", serial},
                  {"landmark", landmark.id},
                  {"round_trip_us", st.round_trip_us},
                  {"rounds", a.rounds},
                  {"bound_km", km},
                  {"time_ms", st.time_ms},
                  {"statement", hex_encode(*st.encode())}};
        lines += line.dump() + "\n";
        if (a.json_out) {
          std::cout << line.dump() << "\n";
        } else {
          std::ostringstream rtt;
          rtt << std::fixed << std::setprecision(3) << static_cast<double>(st.round_trip_us) / 1000
              << " ms";
          std::cout << std::left << std::setw(20) << serial << std::setw(20) << landmark.id
                    << std::setw(14) << rtt.str() << "within " << km << " km of " << landmark.id
                    << " (" << landmark.country << ")\n";
        }
        if (record) tx.statements.push_back(std::move(st));
      }
    }
    // Signed as it goes out (its time near its statements'); with --json,
    // the receipt lines stay off stdout (it holds the statements).
    tx.time_ms = now_ms();
    if (record && !submit(a, *node, tx, *author, a.json_out)) return kExitRefused;
  }
  if (!a.out.empty()) {
    need_ok(write_file_atomically(a.out, lines));
    if (!a.json_out) std::cout << "statements written to " << a.out << "\n";
  }
  if (!record && !a.json_out) {
    std::cout << "not recorded in the ledger: give --as MEMBER --key FILE (the chips' holder)\n";
  }
  return 0;
}

}  // namespace chipledger::cli
