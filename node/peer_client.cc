#include "node/peer_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace chipledger {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxReplyBody = 1 << 20;

bool is_stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected;
}

}  // namespace

struct PeerClient::Impl {
  std::string url;
  std::string host;
  std::string port;
  std::string authority;
  std::chrono::milliseconds timeout{};
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  // Runs one asynchronous operation on this thread so the stream's
  // timeout applies to it.
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

  beast::error_code connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port, ec);
    if (!ec && endpoints.empty()) ec = asio::error::host_not_found;
    if (ec) return ec;
    stream.expires_after(timeout);
    ec = run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      close();
      return ec;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    return {};
  }

  beast::error_code exchange(http::request<http::string_body>& req, PeerReply& reply) {
    stream.expires_after(timeout);
    beast::error_code ec =
        run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    if (ec) return ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxReplyBody);
    ec = run([&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    if (ec) return ec;
    auto res = parser.release();
    reply.status = static_cast<int>(res.result_int());
    reply.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return {};
  }
};

PeerClient::PeerClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PeerClient::~PeerClient() {
  if (impl_ && impl_->connected) impl_->close();
}

const std::string& PeerClient::url() const { return impl_->url; }

Result<std::unique_ptr<PeerClient>> PeerClient::make(const std::string& url,
                                                     std::chrono::milliseconds timeout) {
  using R = Result<std::unique_ptr<PeerClient>>;
  static const std::string kScheme = "http://";
  std::string rest = url.rfind(kScheme, 0) == 0 ? url.substr(kScheme.size()) : "";
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < rest.size() &&
            rest.size() - colon - 1 <= 5 && rest.find_first_of("/?#@ []") == std::string::npos;
  for (size_t i = colon + 1; ok && i < rest.size(); ++i) {
    ok = std::isdigit(static_cast<unsigned char>(rest[i])) != 0;
  }
  if (!ok) return R::error("a peer's API URL must look like http://HOST:PORT, not \"" + url + "\"");
  if (timeout.count() <= 0) return R::error("the peer client's timeout must be positive");
  auto impl = std::make_unique<Impl>();
  impl->url = kScheme + rest;
  impl->host = rest.substr(0, colon);
  impl->port = rest.substr(colon + 1);
  impl->authority = rest;
  impl->timeout = timeout;
  return std::unique_ptr<PeerClient>(new PeerClient(std::move(impl)));
}

Result<PeerReply> PeerClient::post(const std::string& target, const std::string& body,
                                   const std::string& content_type) {
  return request(true, target, &body, content_type);
}

Result<PeerReply> PeerClient::get(const std::string& target) {
  return request(false, target, nullptr, "");
}

Result<PeerReply> PeerClient::request(bool post, const std::string& target, const std::string* body,
                                      const std::string& content_type) {
  Impl& m = *impl_;
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
  req.set(http::field::host, m.authority);
  req.set(http::field::user_agent, "chipledger-node");
  if (body) {
    req.set(http::field::content_type, content_type);
    req.body() = *body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    bool reused = m.connected;
    beast::error_code ec;
    if (!m.connected) ec = m.connect();
    PeerReply reply;
    if (!ec) ec = m.exchange(req, reply);
    if (!ec) return reply;
    m.close();
    if (reused && attempt == 0 && is_stale_connection(ec)) continue;
    std::string what = ec == beast::error::timeout
                           ? "no answer within " + std::to_string(m.timeout.count()) + " ms"
                           : ec.message();
    return Result<PeerReply>::error(std::string(post ? "POST " : "GET ") + m.url + target + ": " +
                                    what);
  }
}

}  // namespace chipledger
