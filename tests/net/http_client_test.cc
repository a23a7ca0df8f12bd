#include "net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "node/http_server.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

void echo(HttpRequest req, Responder respond) {
  json j{{"method", req.method}, {"target", req.target}, {"body", req.body}};
  respond(HttpResponse{200, "application/json", j.dump()});
}

std::unique_ptr<HttpServer> start_server(HttpHandler handler, const std::string& address,
                                         uint16_t port = 0) {
  HttpServerOptions options;
  options.address = address;
  options.port = port;
  auto server = HttpServer::bind(options, std::move(handler));
  REQUIRE(server.is_ok());
  (*server)->start();
  return std::move(server).value();
}

std::unique_ptr<HttpClient> must_connect(const std::string& url,
                                         std::chrono::milliseconds timeout = 10s) {
  auto client = HttpClient::connect_to(url, timeout);
  INFO(client.reason());
  REQUIRE(client.is_ok());
  return std::move(client).value();
}

// A listening socket on 127.0.0.1 (backlog only: nobody accepts unless
// ScriptedServer does).
int listen_on_loopback(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A server on a raw socket, one connection at a time, that answers request
// number n (from 1) with 200 "n", or when drop(n) reads it and closes the
// connection without an answer.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<bool(int)> drop) : drop_(std::move(drop)) {
    fd_ = listen_on_loopback(&port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }
  int connections() const { return connections_; }

 private:
  void serve() {
    for (;;) {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      ++connections_;
      while (serve_one(conn)) {
      }
      ::close(conn);
    }
  }
  // Reads one request; false when the connection is done.
  bool serve_one(int conn) {
    std::string in;
    char buf[4096];
    size_t head_end = std::string::npos;
    size_t need = 0;
    for (;;) {
      if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
        const size_t at = in.find("Content-Length: ");
        need = head_end + 4 + (at < head_end ? std::stoul(in.substr(at + 16)) : 0);
      }
      if (head_end != std::string::npos && in.size() >= need) break;
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
    }
    const int number = ++requests_;
    if (drop_(number)) return false;
    const std::string body = std::to_string(number);
    const std::string out =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return ::send(conn, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
  }

  std::function<bool(int)> drop_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST_CASE("http client: sequential requests share one kept-alive connection", "[http_client]") {
  auto server = start_server(echo, "127.0.0.1");
  auto client = must_connect("http://127.0.0.1:" + std::to_string(server->port()));
  for (int i = 0; i < 20; ++i) {
    auto reply = i % 2 ? client->post("/p", "x") : client->get("/g");
    REQUIRE(reply.is_ok());
    CHECK(reply->status == 200);
  }
  CHECK(client->connections_opened() == 1);
}

TEST_CASE("http client: a connection the server closed while idle is replaced before a POST",
          "[http_client]") {
  auto first = start_server(echo, "127.0.0.1");
  const uint16_t port = first->port();
  auto client = must_connect("http://127.0.0.1:" + std::to_string(port));
  REQUIRE(client->get("/one").is_ok());
  first.reset();  // closes the kept-alive connection
  auto second = start_server(echo, "127.0.0.1", port);
  // Not idempotent, so never retried: it works only because the client saw
  // the closed connection before sending.
  auto reply = client->post("/two", "body");
  INFO(reply.reason());
  REQUIRE(reply.is_ok());
  CHECK(json::parse(reply->body)["target"] == "/two");
  CHECK(client->connections_opened() == 2);
}

TEST_CASE("http client: a dropped GET or idempotent POST is sent once more, a plain POST is not",
          "[http_client]") {
  const std::set<int> dropped{2, 4, 6, 7, 9, 10};
  ScriptedServer server([&](int n) { return dropped.count(n) != 0; });
  auto client = must_connect(server.url());

  REQUIRE(client->get("/a").is_ok());    // request 1
  auto post = client->post("/b", "{}");  // request 2, dropped
  REQUIRE_FALSE(post.is_ok());
  CHECK(post.reason().find("not retried: the node may have applied it") != std::string::npos);
  CHECK(server.requests() == 2);

  auto get = client->get("/c");  // request 3
  REQUIRE(get.is_ok());
  CHECK(get->body == "3");
  get = client->get("/d");  // request 4 dropped, 5 answers
  REQUIRE(get.is_ok());
  CHECK(get->body == "5");
  // 6 dropped, 7 dropped on the fresh connection: one retry only.
  auto idem = client->post("/e", "{}", "application/json", Idempotent::yes);
  REQUIRE_FALSE(idem.is_ok());
  CHECK(server.requests() == 7);
  CHECK(client->get("/f").is_ok());  // request 8, fresh connection
  // 9 dropped, 10 dropped on the fresh connection: a GET gets one retry too.
  CHECK_FALSE(client->get("/g").is_ok());
  CHECK(server.requests() == 10);
  CHECK(client->connections_opened() == 6);
}

TEST_CASE("http client: an idempotent POST is retried on a fresh connection", "[http_client]") {
  ScriptedServer server([](int n) { return n == 2; });
  auto client = must_connect(server.url());
  REQUIRE(client->get("/a").is_ok());
  auto idem = client->post("/e", "{}", "application/json", Idempotent::yes);
  INFO(idem.reason());
  REQUIRE(idem.is_ok());
  CHECK(idem->body == "3");
  CHECK(client->connections_opened() == 2);
}

TEST_CASE("http client: a server that never answers fails the call within its timeout",
          "[http_client]") {
  uint16_t port = 0;
  const int fd = listen_on_loopback(&port);  // connects complete, nobody reads
  auto client = must_connect("http://127.0.0.1:" + std::to_string(port), 300ms);
  CHECK(client->timeout() == 300ms);
  for (const bool idempotent_post : {false, true}) {
    const auto began = Clock::now();
    auto reply = idempotent_post ? client->post("/never", "{}", "application/json", Idempotent::yes)
                                 : client->get("/never");
    const auto took = Clock::now() - began;
    INFO("idempotent POST: " << idempotent_post << ", took "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms");
    REQUIRE_FALSE(reply.is_ok());
    CHECK(reply.reason().find("no answer within 300 ms") != std::string::npos);
    CHECK(took >= 300ms);
    CHECK(took < 300ms + 1500ms);  // the margin for a loaded machine; not retried
  }
  ::close(fd);
}

TEST_CASE("http client: IPv6 loopback", "[http_client]") {
  HttpServerOptions options;
  options.address = "::1";
  auto server = HttpServer::bind(options, echo);
  if (!server) {
    WARN("skipped: this machine has no IPv6 loopback (" << server.reason() << ")");
    return;
  }
  (*server)->start();
  const std::string url = "http://[::1]:" + std::to_string((*server)->port());
  auto client = must_connect(url);
  CHECK(client->url() == url);
  auto reply = client->post("/v6", "hello");
  INFO(reply.reason());
  REQUIRE(reply.is_ok());
  CHECK(json::parse(reply->body)["body"] == "hello");
  CHECK(client->get("/again").is_ok());
  CHECK(client->connections_opened() == 1);
}

TEST_CASE("http client: refuses https without a CA, paths and a non-positive timeout with a reason",
          "[http_client]") {
  auto https = HttpClient::connect_to("https://127.0.0.1:7800");
  REQUIRE_FALSE(https.is_ok());
  CHECK(https.reason().find("needs the consortium CA") != std::string::npos);
  auto path = HttpClient::connect_to("http://127.0.0.1:7800/v1");
  REQUIRE_FALSE(path.is_ok());
  CHECK(path.reason().find("a node URL has no path") != std::string::npos);
  auto v6 = HttpClient::connect_to("http://::1:7800");
  REQUIRE_FALSE(v6.is_ok());
  CHECK(v6.reason().find("must be in brackets") != std::string::npos);
  CHECK_FALSE(HttpClient::connect_to("http://127.0.0.1:7800", 0ms).is_ok());
  auto peer = HttpClient::connect_to("http://[::1]:7800", HttpClientOptions::for_peer(2s));
  REQUIRE(peer.is_ok());
  CHECK((*peer)->url() == "http://[::1]:7800");
  CHECK((*peer)->timeout() == 2s);
}

}  // namespace
}  // namespace chipledger
