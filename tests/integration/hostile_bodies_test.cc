// Hostile request bodies against a real node (issue 11, item 5): a 16 MiB
// body of '[' is answered 400 at once without the node's memory growing by
// more than a stated bound, and health checks keep answering meanwhile; a
// ~10 MB checkpoint note with 100 signature lines naming a listed node's key
// hash is refused within milliseconds, before any signature is checked; the
// old single-node-key membership endpoint is gone. Each test prints what it measured (peak RSS,
// time).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "crypto/keys.h"
#include "crypto/signed_note.h"
#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

using Clock = std::chrono::steady_clock;

// A field of /proc/PID/status in kB (VmHWM: peak RSS, VmRSS: current).
uint64_t proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  throw std::runtime_error("no " + field + " in /proc/" + std::to_string(pid) + "/status");
}

std::string error_of(const HttpReply& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("error", "") : "";
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A note of `text` and `lines` signature lines, each naming `v` with its
// real key hash and 64 bytes that are no signature but make Ed25519 hash
// the whole text to find out (R: the key's own point, S: 0).
std::string hostile_note(const NoteVerifier& v, const std::string& text, size_t lines) {
  auto hash = v.key_hash();
  auto raw = v.key.raw_ed25519();
  if (!hash || !raw) throw std::runtime_error("node key: " + hash.reason() + raw.reason());
  Bytes sig(raw->begin(), raw->end());
  sig.resize(64, 0);
  SignedNote note{text, {}};
  for (size_t i = 0; i < lines; ++i) note.signatures.push_back(NoteSignature{v.name, *hash, sig});
  return format_note(note);
}

// A membership change's four lines, the ledger id line `bytes` long: the
// form the node used to accept before it checked the signatures.
std::string change_text(size_t bytes) {
  return "chipledger membership change v1\n" + std::string(bytes, 'x') + "\nremove 1\n0\n";
}

NoteVerifier node_verifier(const NodeProcess& node) {
  auto key = PrivateKey::load_file(node.key_file("node-maker"));
  if (!key) throw std::runtime_error(key.reason());
  return NoteVerifier{"node-maker", key->public_key()};
}

TEST_CASE("hostile bodies: 16 MiB of open brackets is refused without the memory",
          "[integration]") {
  NodeProcess node;
  node.start();
  uint64_t before_kb = proc_status_kb(node.pid(), "VmHWM");
  const std::string body(16u << 20, '[');  // exactly [api] max_body_bytes

  auto hostile = std::async(std::launch::async, [&] {
    auto client = node.new_http(60s);
    auto t0 = Clock::now();
    auto r = client->post("/v1/transactions", body);
    return std::make_pair(std::move(r), ms_since(t0));
  });
  // Health checks answer while the hostile body is read and refused.
  double slowest_health_ms = 0;
  auto health_client = node.new_http(10s);
  while (hostile.wait_for(0ms) != std::future_status::ready) {
    auto t0 = Clock::now();
    auto h = health_client->get("/v1/health");
    REQUIRE(h);
    CHECK(h->status == 200);
    slowest_health_ms = std::max(slowest_health_ms, ms_since(t0));
  }
  auto [r, took_ms] = hostile.get();
  uint64_t peak_kb = proc_status_kb(node.pid(), "VmHWM");
  WARN("16 MiB of '[': answered in " << took_ms << " ms; VmHWM " << before_kb / 1024 << " -> "
                                     << peak_kb / 1024 << " MB; slowest health check "
                                     << slowest_health_ms << " ms");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(error_of(*r) == "JSON nesting deeper than 32");
  // The body itself is held (by the HTTP parser, then the request): a few
  // copies of 16 MiB at most, never a document of 16 M arrays (1.28 GB).
  CHECK(peak_kb < before_kb + 160 * 1024);
  CHECK(slowest_health_ms < 1000);
  CHECK(node.log_size() == 0);
  CHECK(node.get_json("/v1/health")["status"] == "ok");
  CHECK(node.stop() == 0);
}

TEST_CASE("hostile bodies: the single-node-key membership endpoint is gone", "[integration]") {
  NodeProcess node;
  node.start();
  // Raft membership changes only by governance votes (docs/governance.md,
  // section 6): a note signed by one node key, even from a node's
  // certificate, finds no endpoint and changes nothing.
  const std::string note = hostile_note(node_verifier(node), change_text(20), 1);
  auto peer = node.new_peer_http();
  auto r = peer->post("/v1/admin/membership", note, "text/plain; charset=utf-8");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 404);
  auto health = node.get_json("/v1/health");
  CHECK(health["status"] == "ok");
  CHECK(health["raft"]["members"].size() == 1);
  CHECK(node.stop() == 0);
}

TEST_CASE("hostile bodies: a 10 MB checkpoint note with 100 signature lines is refused at once",
          "[integration]") {
  NodeProcess node;
  node.start();
  const std::string note =
      hostile_note(node_verifier(node),
                   node.ledger_id() + "\n" + std::string(10'000'000, '1') + "\nroot\n", 100);
  auto t0 = Clock::now();
  auto peer = node.new_peer_http();
  auto r = peer->post("/v1/checkpoint/signatures", note, "text/plain; charset=utf-8");
  double took_ms = ms_since(t0);
  WARN("10 MB checkpoint note, 100 signature lines: answered in " << took_ms << " ms");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 413);
  CHECK(error_of(*r).find("checkpoint note over") != std::string::npos);
  CHECK(took_ms < 500 * kSanitizerSlowdown);  // before the bounds: 18 s (Release)
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
