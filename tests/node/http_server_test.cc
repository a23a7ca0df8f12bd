#include "node/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "node/thread_priority.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// Answers every request with its method, target and body as JSON.
void echo(HttpRequest req, Responder respond) {
  json j{{"method", req.method}, {"target", req.target}, {"body", req.body}};
  respond(HttpResponse{200, "application/json", j.dump()});
}

std::unique_ptr<HttpServer> start_server(HttpHandler handler, size_t max_body = 1 << 20,
                                         uint16_t port = 0) {
  HttpServerOptions options;
  options.port = port;
  options.max_body_bytes = max_body;
  options.threads = 4;
  auto server = HttpServer::bind(options, std::move(handler));
  REQUIRE(server.is_ok());
  (*server)->start();
  return std::move(server).value();
}

std::string url_of(const HttpServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

std::unique_ptr<HttpClient> client_for(const HttpServer& server,
                                       std::chrono::milliseconds timeout = 10s) {
  auto client = HttpClient::connect_to(url_of(server), timeout);
  REQUIRE(client.is_ok());
  return std::move(client).value();
}

// A plain socket, to send bytes no HTTP client would.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void send_all(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until the peer closes (or 10 s pass).
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `needle` has arrived (or the peer closes).
  std::string read_until(const std::string& needle) {
    std::string out;
    char c;
    while (out.find(needle) == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) out.push_back(c);
    return out;
  }

 private:
  int fd_ = -1;
};

std::string body_of(const std::string& raw_response) {
  const size_t at = raw_response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : raw_response.substr(at + 4);
}

// Established connections the server accepted on `port` (its side of each
// connection), from /proc. TIME_WAIT leftovers of other processes that once
// used the same port number are not counted.
int accepted_connections_on(uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  int count = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    auto port_of = [](const std::string& addr) {
      return static_cast<uint16_t>(std::stoul(addr.substr(addr.find(':') + 1), nullptr, 16));
    };
    if (state == "01" && port_of(local) == port) ++count;
  }
  return count;
}

// A handler that hands each request's Responder to the test.
struct HeldRequests {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<HttpRequest, Responder>> held;

  HttpHandler handler() {
    return [this](HttpRequest req, Responder respond) {
      std::lock_guard lock(mu);
      held.emplace_back(std::move(req), std::move(respond));
      cv.notify_all();
    };
  }
  bool wait_for(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return held.size() >= n; });
  }
};

TEST_CASE("http: GET and POST round trip through the client", "[http]") {
  auto server = start_server(echo);
  CHECK(server->port() != 0);
  auto client = client_for(*server);

  auto got = client->get("/v1/chips/SN1/history?size=3");
  REQUIRE(got.is_ok());
  CHECK(got->status == 200);
  auto j = json::parse(got->body);
  CHECK(j["method"] == "GET");
  CHECK(j["target"] == "/v1/chips/SN1/history?size=3");
  CHECK(j["body"] == "");

  const std::string payload = R"({"chip":"SN1","note":"quote \" and \n newline"})";
  auto posted = client->post("/v1/submit", payload);
  REQUIRE(posted.is_ok());
  CHECK(posted->status == 200);
  j = json::parse(posted->body);
  CHECK(j["method"] == "POST");
  CHECK(j["target"] == "/v1/submit");
  CHECK(j["body"] == payload);

  const std::string big(3 << 20, 'b');  // responses may be large
  auto big_server = start_server([&big](HttpRequest, Responder respond) {
    respond(HttpResponse{200, "text/plain", big});
  });
  auto big_client = client_for(*big_server);
  auto big_reply = big_client->get("/big");
  REQUIRE(big_reply.is_ok());
  CHECK(big_reply->body == big);
}

TEST_CASE("http: worker threads run at the nice step asked for, out of 0..19 refused", "[http]") {
  const int base = this_thread_nice();
  HttpServerOptions options;
  options.threads = 2;
  options.thread_nice = 3;
  auto server = HttpServer::bind(options, [](HttpRequest, Responder respond) {
    respond(HttpResponse{200, "text/plain", std::to_string(this_thread_nice())});
  });
  REQUIRE(server.is_ok());
  (*server)->start();
  auto client = client_for(**server);
  for (int i = 0; i < 4; ++i) {  // both workers, whichever answers
    auto got = client->get("/nice");
    REQUIRE(got.is_ok());
    CHECK(got->body == std::to_string(std::min(19, base + 3)));
  }
  options.thread_nice = 20;
  auto refused = HttpServer::bind(options, echo);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.reason(), Catch::Contains("thread_nice must be 0..19"));
}

TEST_CASE("http: the handler's status, content type and headers reach the wire", "[http]") {
  auto server = start_server([](HttpRequest req, Responder respond) {
    if (req.target == "/throw") throw std::runtime_error("boom");
    if (req.target == "/drop") return;  // never answers: the server answers 500
    respond(HttpResponse{404, "text/plain; charset=utf-8", "no such chip"});
  });
  RawSocket raw(server->port());
  raw.send_all("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string response = raw.read_all();
  CHECK(response.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(response.find("Server: chipledger\r\n") != std::string::npos);
  CHECK(response.find("Content-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(body_of(response) == "no such chip");

  auto client = client_for(*server);
  auto thrown = client->get("/throw");
  REQUIRE(thrown.is_ok());
  CHECK(thrown->status == 500);
  CHECK(json::parse(thrown->body)["error"] == "internal error: boom");
  auto dropped = client->get("/drop");
  REQUIRE(dropped.is_ok());
  CHECK(dropped->status == 500);
  CHECK(json::parse(dropped->body).contains("error"));
}

TEST_CASE("http: sequential requests reuse one connection", "[http]") {
  auto server = start_server(echo);
  auto client = client_for(*server);
  for (int i = 0; i < 100; ++i) {
    const std::string target = "/n/" + std::to_string(i);
    auto reply = (i % 2 == 0) ? client->get(target) : client->post(target, std::to_string(i));
    REQUIRE(reply.is_ok());
    REQUIRE(reply->status == 200);
    auto j = json::parse(reply->body);
    REQUIRE(j["target"] == target);
    REQUIRE(j["body"] == (i % 2 == 0 ? "" : std::to_string(i)));
  }
  // One connection: its client end and its server end. A connection per
  // request would leave ~100 sockets in TIME_WAIT.
  CHECK(accepted_connections_on(server->port()) == 1);
}

TEST_CASE("http: a handler may answer later from another thread", "[http]") {
  HeldRequests requests;
  auto server = start_server(requests.handler());
  auto client = client_for(*server);

  auto reply = std::async(std::launch::async, [&] { return client->post("/v1/submit", "tx"); });
  REQUIRE(requests.wait_for(1));
  // The request is with the handler, unanswered: the client is still waiting.
  CHECK(reply.wait_for(50ms) == std::future_status::timeout);

  Responder respond;
  {
    std::lock_guard lock(requests.mu);
    CHECK(requests.held[0].first.body == "tx");
    respond = requests.held[0].second;
  }
  std::thread answerer([respond] {
    respond(HttpResponse{202, "application/json", R"({"applied":true})"});
    respond(HttpResponse{500, "application/json", "{}"});  // a second answer is ignored
  });
  answerer.join();

  auto got = reply.get();
  REQUIRE(got.is_ok());
  CHECK(got->status == 202);
  CHECK(got->body == R"({"applied":true})");

  // The connection is still usable afterwards.
  auto again = std::async(std::launch::async, [&] { return client->get("/next"); });
  REQUIRE(requests.wait_for(2));
  {
    std::lock_guard lock(requests.mu);
    requests.held[1].second(HttpResponse{200, "text/plain", "next"});
  }
  auto next = again.get();
  REQUIRE(next.is_ok());
  CHECK(next->body == "next");
}

TEST_CASE("http: a body over the limit is refused with 413", "[http]") {
  auto server = start_server(echo, 1024);
  auto client = client_for(*server);

  auto at_limit = client->post("/v1/submit", std::string(1024, 'a'));
  REQUIRE(at_limit.is_ok());
  CHECK(at_limit->status == 200);

  auto over = client->post("/v1/submit", std::string(4096, 'x'));
  REQUIRE(over.is_ok());
  CHECK(over->status == 413);
  CHECK(json::parse(over->body) == json{{"error", "request body over 1024 bytes"}});

  // Far over the limit too (the server must not read it all).
  auto far_over = client->post("/v1/submit", std::string(8 << 20, 'y'));
  REQUIRE(far_over.is_ok());
  CHECK(far_over->status == 413);

  // The server closed that connection; the client opens a new one.
  auto after = client->get("/after");
  REQUIRE(after.is_ok());
  CHECK(after->status == 200);
}

TEST_CASE("http: bytes that are not HTTP get 400", "[http]") {
  auto server = start_server(echo);
  RawSocket raw(server->port());
  raw.send_all("this is not http\r\n\r\n");
  const std::string response = raw.read_all();
  CHECK(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  auto j = json::parse(body_of(response));
  CHECK(j["error"].get<std::string>().rfind("malformed HTTP request: ", 0) == 0);

  RawSocket binary(server->port());
  binary.send_all(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));  // TLS hello
  CHECK(binary.read_all().rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
}

TEST_CASE("http: Expect 100-continue is answered before the body", "[http]") {
  auto server = start_server(echo);
  RawSocket raw(server->port());
  raw.send_all(
      "POST /v1/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\nConnection: close\r\n\r\n");
  CHECK(raw.read_until("\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
  raw.send_all("hello");
  const std::string response = raw.read_all();
  CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(json::parse(body_of(response))["body"] == "hello");
}

TEST_CASE("http: an unreachable node is a failed Result with a reason", "[http]") {
  uint16_t port = 0;
  {
    auto server = start_server(echo);
    port = server->port();
  }  // now nobody listens there
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(port), 2s);
  REQUIRE(client.is_ok());
  auto reply = (*client)->get("/v1/status");
  REQUIRE_FALSE(reply.is_ok());
  CHECK(reply.reason() ==
        "cannot reach node at http://127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_CASE("http: a slow node times out", "[http]") {
  HeldRequests requests;
  auto server = start_server(requests.handler());
  auto client = client_for(*server, 300ms);
  const auto began = std::chrono::steady_clock::now();
  auto reply = client->get("/slow");
  REQUIRE_FALSE(reply.is_ok());
  CHECK(reply.reason().find("no answer within 300 ms") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - began < 5s);
}

TEST_CASE("http: the client refuses URLs that are not http://HOST:PORT", "[http]") {
  for (const std::string bad :
       {"", "127.0.0.1:7800", "ftp://host:21", "http://host", "http://host:", "http://:7800",
        "http://host:port", "http://host:99999", "http://host:0", "http://host:7800/v1",
        "http://user@host:7800", "http://::1:7800", "HTTP//host:1"}) {
    auto client = HttpClient::connect_to(bad);
    CHECK_FALSE(client.is_ok());
    CHECK(client.reason().find("http://HOST:PORT") != std::string::npos);
  }
  for (const std::string good :
       {"http://127.0.0.1:7800", "http://localhost:7800/", "http://[::1]:7800"}) {
    CHECK(HttpClient::connect_to(good).is_ok());
  }
  auto server = start_server(echo);
  auto client = client_for(*server);
  CHECK_FALSE(client->get("no-slash").is_ok());
}

TEST_CASE("http: concurrent clients all get their own answers", "[http]") {
  auto server = start_server(echo);
  constexpr int kThreads = 8;
  constexpr int kRequests = 25;
  std::vector<int> good(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = HttpClient::connect_to(url_of(*server));
      if (!client.is_ok()) return;
      for (int i = 0; i < kRequests; ++i) {
        const std::string target = "/t/" + std::to_string(t) + "/" + std::to_string(i);
        const std::string body = std::string(static_cast<size_t>(i * 100), 'a' + t);
        auto reply = (*client)->post(target, body);
        if (!reply.is_ok() || reply->status != 200) continue;
        auto j = json::parse(reply->body);
        if (j["target"] == target && j["body"] == body) ++good[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) CHECK(good[t] == kRequests);
}

TEST_CASE("http: the client reconnects when the server closed the connection", "[http]") {
  auto first = start_server(echo);
  const uint16_t port = first->port();
  auto client = client_for(*first);
  REQUIRE(client->get("/one").is_ok());
  first.reset();  // closes the kept-alive connection

  auto second = start_server(
      [](HttpRequest, Responder respond) {
        respond(HttpResponse{200, "text/plain", "second"});
      },
      1 << 20, port);
  auto reply = client->get("/two");
  REQUIRE(reply.is_ok());
  CHECK(reply->body == "second");
}

TEST_CASE("http: stop() with open connections returns promptly", "[http]") {
  HeldRequests requests;
  auto server = start_server(requests.handler());
  RawSocket idle(server->port());  // connected, sends nothing
  auto client = client_for(*server);
  auto reply = std::async(std::launch::async, [&] { return client->get("/pending"); });
  REQUIRE(requests.wait_for(1));

  const auto began = std::chrono::steady_clock::now();
  server->stop();
  CHECK(std::chrono::steady_clock::now() - began < 2s);
  server->stop();  // twice is fine

  CHECK(idle.read_all().empty());  // closed by the server
  CHECK_FALSE(reply.get().is_ok());

  // A Responder used or dropped after the server is gone does nothing.
  Responder late;
  {
    std::lock_guard lock(requests.mu);
    late = requests.held[0].second;
    requests.held.clear();
  }
  server.reset();
  late(HttpResponse{200, "text/plain", "too late"});
}

TEST_CASE("http: binding a port in use fails with a reason", "[http]") {
  auto server = start_server(echo);
  HttpServerOptions options;
  options.port = server->port();
  auto second = HttpServer::bind(options, echo);
  REQUIRE_FALSE(second.is_ok());
  CHECK(second.reason().find("cannot listen on 127.0.0.1:") == 0);

  options.address = "192.0.2.1";  // not an address of this host
  options.port = 0;
  CHECK_FALSE(HttpServer::bind(options, echo).is_ok());
}

}  // namespace
}  // namespace chipledger
