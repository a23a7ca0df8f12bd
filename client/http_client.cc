#include "client/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>
#include <utility>

namespace chipledger {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxResponseBody = 64ull << 20;  // histories can be big
constexpr uint32_t kMaxResponseHeader = 64u << 10;

struct ParsedUrl {
  std::string host;       // without brackets
  std::string port;       // decimal
  std::string authority;  // host:port as written, for the Host header
};

std::optional<ParsedUrl> parse_url(const std::string& url) {
  static const std::string kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) return std::nullopt;
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string::npos) return std::nullopt;

  ParsedUrl out;
  std::string port;
  if (rest[0] == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return std::nullopt;
    }
    out.host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.find(':');
    if (colon == std::string::npos || rest.find(':', colon + 1) != std::string::npos) {
      return std::nullopt;
    }
    out.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (out.host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  const unsigned long value = std::stoul(port);
  if (value == 0 || value > 65535) return std::nullopt;
  out.port = std::to_string(value);
  out.authority = rest;
  return out;
}

// Errors that mean the server closed a kept-alive connection before reading
// our request: worth one retry on a fresh connection.
bool is_stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected;
}

}  // namespace

struct HttpClient::Impl {
  std::string url;  // "http://host:port", for messages
  ParsedUrl parts;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  std::string describe(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return "no answer within " + std::to_string(timeout.count()) + " ms";
    }
    return ec.message();
  }

  // Runs one asynchronous operation to completion on this thread, so that
  // tcp_stream's timeout applies to it.
  template <typename Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::operation_aborted;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    connected = false;
  }

  Status connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(parts.host, parts.port, ec);
    if (!ec && endpoints.empty()) ec = asio::error::host_not_found;
    if (ec) return Status::error("cannot reach node at " + url + ": " + describe(ec));
    stream.expires_after(timeout);
    ec = run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      close();
      return Status::error("cannot reach node at " + url + ": " + describe(ec));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    return Status::ok();
  }

  // One request/response on the current connection.
  beast::error_code exchange(http::request<http::string_body>& req, HttpReply& reply) {
    stream.expires_after(timeout);
    beast::error_code write_ec =
        run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    // A server may answer early and close while we still write (413 for an
    // oversized body): the answer is then already in our receive buffer, so
    // read it before reporting the write error.
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    parser.header_limit(kMaxResponseHeader);
    beast::error_code ec =
        run([&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    if (ec) return write_ec ? write_ec : ec;
    if (write_ec) close();
    auto res = parser.release();
    reply.status = static_cast<int>(res.result_int());
    reply.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return {};
  }

  Result<HttpReply> perform(http::verb verb, const std::string& target, const std::string* body,
                            const std::string& content_type) {
    if (target.empty() || target[0] != '/') {
      return Result<HttpReply>::error("request target must start with '/': \"" + target + "\"");
    }
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, parts.authority);
    req.set(http::field::user_agent, "chipledger");
    if (body != nullptr) {
      req.set(http::field::content_type, content_type);
      req.body() = *body;
    }
    req.keep_alive(true);
    req.prepare_payload();

    for (int attempt = 0;; ++attempt) {
      const bool reused = connected;
      if (!connected) CL_TRY(connect());
      HttpReply reply;
      const beast::error_code ec = exchange(req, reply);
      if (!ec) return reply;
      close();
      if (reused && attempt == 0 && is_stale_connection(ec)) continue;
      return Result<HttpReply>::error("no answer from node at " + url + " for " +
                                      std::string(http::to_string(verb)) + " " + target + ": " +
                                      describe(ec));
    }
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  if (impl_ && impl_->connected) impl_->close();
}

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(const std::string& base_url,
                                                           std::chrono::milliseconds timeout) {
  auto parts = parse_url(base_url);
  if (!parts) {
    return Result<std::unique_ptr<HttpClient>>::error(
        "node URL must look like http://HOST:PORT, got \"" + base_url + "\"");
  }
  if (timeout.count() <= 0) {
    return Result<std::unique_ptr<HttpClient>>::error("HTTP client timeout must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->url = "http://" + parts->authority;
  impl->parts = std::move(*parts);
  impl->timeout = timeout;
  // Connects lazily, on the first request: a failure to reach the node is
  // reported by that request.
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpReply> HttpClient::get(const std::string& target) {
  return impl_->perform(http::verb::get, target, nullptr, {});
}

Result<HttpReply> HttpClient::post(const std::string& target, const std::string& body,
                                   const std::string& content_type) {
  return impl_->perform(http::verb::post, target, &body, content_type);
}

}  // namespace chipledger
