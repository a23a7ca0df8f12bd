// The submission endpoint against malformed and hostile input over raw
// HTTP (HttpClient, no CLI): every bad request gets its documented status and
// reason, and only valid transactions ever reach the log.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"
#include "tests/integration/tx_builder.h"

namespace chipledger::integ {
namespace {

std::string error_of(const HttpReply& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("error", "") : "";
}

// What a careful HTTP client does with an oversized request: send the body
// while watching for an early answer, stop sending once the server answers
// or resets, and read the answer. Returns the raw response text ("" if none).
std::string post_watching_for_early_answer(uint16_t port, const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req =
      "POST /v1/transactions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  bool writing = true;
  std::string answer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
      writing = false;  // answered early: stop sending
      continue;
    }
    if (writing && (p.revents & POLLOUT)) {
      ssize_t n =
          send(fd, req.data() + sent, std::min<size_t>(req.size() - sent, 1 << 16), MSG_NOSIGNAL);
      if (n < 0 && errno != EINTR && errno != EAGAIN) writing = false;
      if (n > 0) sent += static_cast<size_t>(n);
      if (sent == req.size()) writing = false;
    }
  }
  close(fd);
  return answer;
}

TEST_CASE("HTTP API: a body over max_body_bytes gets 413", "[integration]") {
  const std::string big = "{\"tx\": \"" + std::string(17u << 20, 'A') + "\"}";  // 17 MiB
  {
    // The node answers 413 as soon as it reads the Content-Length: seen on
    // the raw socket of a plain HTTP node.
    NodeProcess plain("", {"--plain-http"});
    plain.start();
    std::string raw = post_watching_for_early_answer(plain.port(), big);
    INFO("raw answer: " << raw.substr(0, 300));
    CHECK(raw.rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(raw.find("request body over 16777216 bytes") != std::string::npos);
    CHECK(plain.stop() == 0);
  }

  // Over HTTPS too.
  NodeProcess node;
  node.start();

  // The project's own HttpClient must surface that 413 too.
  auto r = node.http().post("/v1/transactions", big);
  INFO("HttpClient, 17 MiB POST: " << (r ? std::to_string(r->status) + " " + r->body : r.reason()));
  CHECK(r);
  if (r) {
    CHECK(r->status == 413);
    CHECK(error_of(*r).find("request body over") != std::string::npos);
  }
  // Nothing reached the log, and the client and node carry on.
  CHECK(node.log_size() == 0);
  CHECK(node.stop() == 0);
}

TEST_CASE("HTTP API: malformed, forged, replayed and stale submissions", "[integration]") {
  NodeProcess node;
  node.start();
  const std::string ledger = node.ledger_id();
  const Author maker("maker", node.key_file("maker"));
  const Author distributor("distributor", node.key_file("distributor"));
  HttpClient& http = node.http();
  uint64_t accepted = 0;

  auto post = [&](const std::string& body) {
    auto r = http.post("/v1/transactions", body);
    INFO("POST /v1/transactions: " + r.reason());
    REQUIRE(r);
    return *r;
  };
  auto expect = [&](const std::string& body, int status, const std::string& reason) {
    auto r = post(body);
    INFO("body " << body.substr(0, 200) << "\nanswer " << r.status << " " << r.body);
    CHECK(r.status == status);
    CHECK(error_of(r).find(reason) != std::string::npos);
    return r;
  };

  const auto reg = sign(register_tx(ledger, maker, {"HTTP-0001"}), maker);
  const Bytes wire = reg.wire();

  // 400: syntax.
  expect("this is not json", 400, "not valid JSON");
  expect("{\"tx\": ", 400, "not valid JSON");
  expect("{\"txn\": \"AAAA\"}", 400, "expected {\"tx\"");
  expect("{\"tx\": 42}", 400, "expected {\"tx\"");
  expect("[\"tx\"]", 400, "expected {\"tx\"");
  expect("{\"tx\": \"***not base64***\"}", 400, "field tx");
  expect(submit_body(ByteView(wire).first(wire.size() / 2)), 400, "malformed transaction");
  expect(submit_body(ByteView(wire).first(wire.size() - 1)), 400, "malformed transaction");
  expect(submit_body(ByteView(wire).first(3)), 400, "malformed transaction");
  expect("{\"tx\": \"\"}", 400, "malformed transaction");

  // 422: a forged signature (last signature byte flipped).
  {
    Bytes forged = wire;
    forged.back() ^= 0x01;
    auto r = expect(submit_body(forged), 422, "signature does not verify");
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["accepted"] == false);
    CHECK(j["txid"] == hex_encode(reg.txid));  // the txid covers the body only
  }
  // 422: for another ledger.
  {
    auto other = sign(register_tx("chipledger.dev/some-other-ledger", maker, {"HTTP-0009"}), maker);
    expect(submit_body(other.wire()), 422, "the transaction is for ledger");
  }
  // 422: the author's clock far from the ledger's.
  {
    auto tx = register_tx(ledger, maker, {"HTTP-0008"});
    tx.time_ms = 1000;
    expect(submit_body(sign(tx, maker).wire()), 422, "away from the ledger's clock");
  }

  // The valid transaction is accepted once; the same bytes again are
  // answered with the index they landed at, and not applied twice.
  {
    auto r = post(submit_body(wire));
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["accepted"] == true);
    CHECK(j["index"] == accepted);
    CHECK(j["txid"] == hex_encode(reg.txid));
    ++accepted;
  }
  {
    auto r = post(submit_body(wire));
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["outcome"] == "accepted");
    CHECK(j["duplicate"] == "in-ledger");
    CHECK(j["index"] == 0);
  }

  // Stale prev: a transfer naming a hash that is not the serial's latest event.
  expect(submit_body(sign(move_tx(ledger, maker, TxType::transfer, "HTTP-0001",
                                  sha256(std::string_view("not an event")), "distributor"),
                          maker)
                         .wire()),
         422, "stale prev for serial HTTP-0001");
  const auto transfer =
      sign(move_tx(ledger, maker, TxType::transfer, "HTTP-0001", reg.txid, "distributor"), maker);
  {
    auto r = post(submit_body(transfer.wire()));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(nlohmann::json::parse(r.body)["index"] == accepted);
    ++accepted;
  }
  // The register is no longer the latest event: accepting against it is stale.
  expect(submit_body(
             sign(move_tx(ledger, distributor, TxType::accept, "HTTP-0001", reg.txid), distributor)
                 .wire()),
         422, "stale prev for serial HTTP-0001");
  {
    auto ok =
        sign(move_tx(ledger, distributor, TxType::accept, "HTTP-0001", transfer.txid), distributor);
    auto r = post(submit_body(ok.wire()));
    INFO(r.body);
    CHECK(r.status == 200);
    if (r.status == 200) ++accepted;
  }

  // 404 and 405.
  auto status_of = [&](const std::string& method, const std::string& target) {
    auto r = method == "GET" ? http.get(target) : http.post(target, "{}");
    INFO(method << " " << target << ": " << r.reason());
    REQUIRE(r);
    INFO(method << " " << target << " -> " << r->status << " " << r->body);
    CHECK(!error_of(*r).empty());
    return r->status;
  };
  CHECK(status_of("GET", "/v1/nothing") == 404);
  CHECK(status_of("GET", "/v2/health") == 404);
  CHECK(status_of("GET", "/nothing") == 404);  // (/ redirects to the explorer: explorer_test)
  CHECK(status_of("POST", "/v1/chips") == 404);
  CHECK(status_of("GET", "/v1/chips/NEVER-REGISTERED") == 404);
  CHECK(status_of("GET", "/v1/transactions") == 405);
  CHECK(status_of("POST", "/v1/health") == 405);
  CHECK(status_of("POST", "/v1/checkpoint") == 405);

  // Only the accepted transactions are in the log.
  CHECK(node.log_size() == accepted);
  CHECK(accepted == 3);
  auto chip = node.get_json("/v1/chips/HTTP-0001");
  CHECK(chip["holder"] == "distributor");
  CHECK(chip["events"] == 3);
  CHECK(node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
