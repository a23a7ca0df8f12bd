#include "net/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <utility>

#include "net/url.h"

namespace chipledger {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr uint32_t kMaxResponseHeader = 64u << 10;

// Errors that mean the server closed or reset a kept-alive connection.
bool is_stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
         ec == asio::ssl::error::stream_truncated;
}

// A TLS handshake that read an HTTP answer instead of a TLS record: the
// server speaks plain HTTP.
bool is_plain_http_answer(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_UNKNOWN_PROTOCOL;
}

struct Exchange {
  beast::error_code ec;
  bool answer_began = false;  // some byte of an answer arrived
};

}  // namespace

struct HttpClient::Impl {
  std::string url;  // "http://host:port", for messages
  Url parts;
  HttpClientOptions options;
  bool use_tls = false;
  asio::io_context ioc;
  // One of the two, made afresh for each connection (an SSL object is not
  // reused after its connection closed).
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> tls;
  beast::flat_buffer buffer;
  bool connected = false;
  uint64_t opened = 0;

  std::string describe(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return "no answer within " + std::to_string(options.timeout.count()) + " ms";
    }
    return ec.message();
  }

  // Runs one asynchronous operation to completion on this thread, so that
  // tcp_stream's deadline applies to it.
  template <typename Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::operation_aborted;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::tcp_stream& tcp_layer() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Calls f with the stream HTTP runs over: the TLS stream or the TCP one.
  template <typename F>
  auto with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(*plain);
  }

  void close() {
    if (plain || tls) {
      beast::error_code ignored;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp_layer().close();
    }
    buffer.clear();
    connected = false;
  }

  // Whether the kept-alive connection may carry a request: the server has
  // neither closed it nor sent anything unasked. Does not block.
  bool still_open() {
    if (buffer.size() != 0) return false;
    auto& socket = tcp_layer().socket();
    beast::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return false;
    char byte = 0;
    socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    beast::error_code ignored;
    socket.non_blocking(false, ignored);
    return ec == asio::error::would_block;
  }

  Status connect(Clock::time_point deadline) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(parts.host, std::to_string(parts.port), ec);
    if (!ec && endpoints.empty()) ec = asio::error::host_not_found;
    if (ec) return Status::unavailable("cannot reach node at " + url + ": " + describe(ec));
    tls.reset();
    plain.reset();
    if (use_tls) {
      try {
        tls.emplace(ioc, *options.tls);
      } catch (const std::exception& e) {
        return Status::unavailable("cannot open a TLS connection to " + url + ": " + e.what());
      }
    } else {
      plain.emplace(ioc);
    }
    auto& stream = tcp_layer();
    stream.expires_at(deadline);
    ec = run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      close();
      return Status::unavailable("cannot reach node at " + url + ": " + describe(ec));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (use_tls) {
      Status host = expect_host(tls->native_handle(), parts.host);
      if (!host) {
        close();
        return host.context("TLS to " + url);
      }
      ec = run([&](auto handler) {
        tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) {
        std::string why =
            ec == beast::error::timeout ? describe(ec)
            : is_plain_http_answer(ec)
                ? "the node answers plain HTTP but the URL says https"
                : describe_handshake_failure(tls->native_handle(), parts.host, ec.message());
        close();
        return Status::unavailable("TLS to node at " + url + ": " + why);
      }
    }
    buffer.clear();
    connected = true;
    ++opened;
    return Status::ok();
  }

  // One request and its answer on the current connection.
  Exchange exchange(http::request<http::string_body>& req, HttpReply& reply,
                    Clock::time_point deadline) {
    tcp_layer().expires_at(deadline);
    beast::error_code write_ec = with_stream([&](auto& stream) {
      return run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    });
    // A server may answer early and close while we still write (413 for an
    // oversized body): the answer is then already in our receive buffer, so
    // read it before reporting the write error.
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_body);
    parser.header_limit(kMaxResponseHeader);
    beast::error_code ec = with_stream([&](auto& stream) {
      return run(
          [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    });
    if (ec) return {write_ec ? write_ec : ec, parser.got_some()};
    if (write_ec) close();
    auto res = parser.release();
    reply.status = static_cast<int>(res.result_int());
    reply.content_type = std::string(res[http::field::content_type]);
    reply.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return {};
  }

  Result<HttpReply> perform(http::verb verb, const std::string& target, const std::string* body,
                            const std::string& content_type, Idempotent idempotent) {
    const Clock::time_point deadline = Clock::now() + options.timeout;
    if (target.empty() || target[0] != '/') {
      return Result<HttpReply>::error("request target must start with '/': \"" + target + "\"");
    }
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, parts.authority());
    req.set(http::field::user_agent, options.user_agent);
    if (body != nullptr) {
      req.set(http::field::content_type, content_type);
      req.body() = *body;
    }
    req.keep_alive(true);
    req.prepare_payload();

    const bool retry_safe = verb == http::verb::get || idempotent == Idempotent::yes;
    if (connected && !still_open()) close();
    for (int attempt = 0;; ++attempt) {
      const bool reused = connected;
      if (!connected) CL_TRY(connect(deadline));
      HttpReply reply;
      const Exchange x = exchange(req, reply, deadline);
      if (!x.ec) return reply;
      close();
      const bool stale = reused && !x.answer_began && is_stale_connection(x.ec);
      if (stale && attempt == 0 && retry_safe) continue;
      std::string what = describe(x.ec);
      if (stale && !retry_safe) what += " (not retried: the node may have applied it)";
      // The request may have reached the server: what it did is unknown.
      return Result<HttpReply>::error(
          StatusCode::unknown, "no answer from node at " + url + " for " +
                                   std::string(http::to_string(verb)) + " " + target + ": " + what);
    }
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  if (impl_ && impl_->connected) impl_->close();
}

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(const std::string& base_url,
                                                           std::chrono::milliseconds timeout) {
  HttpClientOptions options;
  options.timeout = timeout;
  return connect_to(base_url, options);
}

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(const std::string& base_url,
                                                           const HttpClientOptions& options) {
  using R = Result<std::unique_ptr<HttpClient>>;
  const std::string expect =
      "node URL must look like https://HOST:PORT or http://HOST:PORT, got \"" + base_url + "\"";
  auto parts = parse_url(base_url);
  if (!parts) return R::error(expect + ": " + parts.reason());
  const bool use_tls = parts->scheme == "https";
  if (use_tls && !options.tls) {
    return R::error(base_url +
                    ": an https URL needs the consortium CA to check the node's certificate "
                    "(a trust file with tls_ca, or --ca FILE)");
  }
  if (!parts->path.empty() && parts->path != "/") {
    return R::error(expect + ": a node URL has no path");
  }
  if (options.timeout.count() <= 0) return R::error("HTTP client timeout must be positive");
  auto impl = std::make_unique<Impl>();
  impl->parts = std::move(*parts);
  impl->url = impl->parts.origin();
  impl->options = options;
  impl->use_tls = use_tls;
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpReply> HttpClient::get(const std::string& target) {
  return impl_->perform(http::verb::get, target, nullptr, {}, Idempotent::yes);
}

Result<HttpReply> HttpClient::post(const std::string& target, const std::string& body,
                                   const std::string& content_type, Idempotent idempotent) {
  return impl_->perform(http::verb::post, target, &body, content_type, idempotent);
}

const std::string& HttpClient::url() const { return impl_->url; }

bool HttpClient::uses_tls() const { return impl_->use_tls; }

const HttpClientOptions& HttpClient::options() const { return impl_->options; }

std::chrono::milliseconds HttpClient::timeout() const { return impl_->options.timeout; }
void HttpClient::set_timeout(std::chrono::milliseconds timeout) {
  impl_->options.timeout = std::max(timeout, std::chrono::milliseconds(1));
}

uint64_t HttpClient::connections_opened() const { return impl_->opened; }

}  // namespace chipledger
