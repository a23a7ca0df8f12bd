#include "node/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/connection_governor.h"
#include "node/thread_name.h"
#include "node/thread_priority.h"

namespace chipledger {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// After an error answer that closes the connection, unread request bytes are
// drained for a while so that closing does not reset the connection before
// the client has read the answer.
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr size_t kMaxLingerBytes = 8u << 20;
constexpr uint32_t kHeaderLimit = 64u << 10;
// How long stop() lets cancelled operations finish on its own thread.
constexpr auto kDrainTimeout = std::chrono::seconds(2);
// Connections over a cap that are being answered 503 at once; beyond
// these, a newcomer over a cap is closed without an answer.
constexpr size_t kMaxRefusing = 64;
// How long such a connection may take to complete its TLS handshake.
constexpr auto kRefusalHandshakeTimeout = std::chrono::seconds(2);

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string json_error(const std::string& reason) {
  return nlohmann::json{{"error", reason}}.dump();
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// A TLS handshake that read a plain HTTP request instead.
bool is_plain_http_request(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
}

// A connection, whatever its stream; what the Core and Responders see.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void post_response(HttpResponse response) = 0;
  virtual void force_close() = 0;
  virtual void evict() = 0;  // from any thread: close it on its strand
};

// State shared by the server, its sessions and every pending Responder. A
// session keeps the Core (and so the io_context its socket belongs to) alive,
// so a Responder may outlive the HttpServer: after stop() it does nothing.
struct Core : std::enable_shared_from_this<Core> {
  explicit Core(const HttpServerOptions& o, HttpHandler h)
      : handler(std::move(h)),
        max_body_bytes(o.max_body_bytes),
        idle_timeout(o.idle_timeout),
        header_timeout(o.header_timeout),
        body_timeout(o.body_timeout),
        write_timeout(o.write_timeout),
        tls(o.tls),
        governor({o.max_connections, o.max_connections_per_address}) {}

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  HttpHandler handler;  // reset by stop() after the io threads joined
  const size_t max_body_bytes;
  const std::chrono::milliseconds idle_timeout, header_timeout, body_timeout, write_timeout;
  TlsContextPtr tls;                       // null: plain HTTP; guarded by mu once serving (set_tls)
  std::vector<TlsContextPtr> retired_tls;  // replaced contexts (sessions may still use them)

  std::atomic<bool> stopping{false};  // read lock-free by io handlers
  std::mutex mu;
  bool stopped = false;  // guarded by mu; once set, nothing is posted any more
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded by mu
  ConnectionGovernor governor;                                            // guarded by mu
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> by_id;         // guarded by mu
  size_t refusing = 0;                                                    // guarded by mu
  std::atomic<uint64_t> timed_out{0};

  // The connection `id` waits for a request (or no longer does).
  void set_waiting(uint64_t id, bool waiting) {
    if (id == 0) return;
    std::lock_guard lock(mu);
    governor.set_waiting(id, waiting, now_ms());
  }
};

// Stream: beast::tcp_stream (HTTP) or beast::ssl_stream<beast::tcp_stream> (HTTPS).
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  // `id`: the governor's (0: a connection over a cap, answered `refusal`
  // with 503 and closed).
  template <typename... StreamArgs>
  Session(std::shared_ptr<Core> core, uint64_t id, std::string address, std::string refusal,
          StreamArgs&&... args)
      : core_(std::move(core)),
        stream_(std::forward<StreamArgs>(args)...),
        strand_(stream_.get_executor()),
        id_(id),
        address_(std::move(address)),
        refusal_(std::move(refusal)) {}

  ~Session() override {
    std::lock_guard lock(core_->mu);
    core_->sessions.erase(this);
    if (id_ != 0) {
      core_->by_id.erase(id_);
      core_->governor.close(id_);
    } else {
      --core_->refusing;
    }
  }

  void start() {
    asio::dispatch(strand_, [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->begin();
      }
    });
  }

  // Called from any thread by the request's Responder.
  void post_response(HttpResponse response) override {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    asio::post(strand_, [self = this->shared_from_this(), r = std::move(response)]() mutable {
      self->write_response(std::move(r));
    });
  }

  // Only from stop(), after the io threads have joined.
  void force_close() override { close(); }

  void evict() override {
    asio::post(strand_, [self = this->shared_from_this()] { self->close(); });
  }

 private:
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    tcp_layer().expires_after(
        refusal_.empty()
            ? core_->header_timeout
            : std::min<std::chrono::milliseconds>(core_->header_timeout, kRefusalHandshakeTimeout));
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        [self = this->shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if (core_->stopping) return;
    if (ec) {
      if (is_plain_http_request(ec)) return answer_plain_http();
      if (ec == beast::error::timeout) ++core_->timed_out;
      return close();
    }
    if constexpr (kTls) {
      // Verified by the handshake (the CA in the context); none is fine
      // here, the API decides which endpoints need one.
      if (has_peer_certificate(stream_.native_handle())) {
        auto info = peer_certificate(stream_.native_handle());
        if (info) client_cn_ = info->common_name;
      }
    }
    begin();
  }

  // After the handshake: serve requests, or answer the one refusal.
  void begin() {
    if (!refusal_.empty()) {
      keep_alive_ = false;
      return write_response(
          HttpResponse{503, "application/json", json_error(refusal_), {{"Retry-After", "1"}}});
    }
    wait_for_request();
  }

  // Keep-alive: waits (idle_timeout) for the first byte of the next
  // request, then reads its header (header_timeout).
  void wait_for_request() {
    if (core_->stopping) return;
    if (buffer_.size() > 0) return read_header();  // pipelined bytes are here already
    tcp_layer().expires_after(core_->idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (self->core_->stopping) return;
                              self->buffer_.commit(n);
                              if (ec && n == 0) {
                                if (ec == beast::error::timeout) ++self->core_->timed_out;
                                return self->close();
                              }
                              self->read_header();
                            });
  }

  // A plain HTTP request on the HTTPS port: one plain answer saying so,
  // then the connection closes.
  void answer_plain_http() {
    const std::string body =
        json_error("this node answers HTTPS only: the URL must say https://, not http://");
    plain_answer_ =
        "HTTP/1.1 400 Bad Request\r\nServer: chipledger\r\nContent-Type: "
        "application/json\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    tcp_layer().expires_after(core_->write_timeout);
    asio::async_write(tcp_layer(), asio::buffer(plain_answer_),
                      [self = this->shared_from_this()](beast::error_code wec, size_t) {
                        if (self->core_->stopping) return;
                        if (wec) return self->close();
                        self->linger_close();
                      });
  }

  void read_header() {
    if (core_->stopping) return;
    parser_.emplace();
    parser_->body_limit(core_->max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    tcp_layer().expires_after(core_->header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::on_header, this->shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    if (core_->stopping) return;
    if (ec) return on_read_error(ec);
    core_->set_waiting(id_, false);
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // Tell clients such as curl to send the body now instead of waiting.
      continue_.emplace(http::status::continue_, req.version());
      tcp_layer().expires_after(core_->write_timeout);
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::on_continue, this->shared_from_this()));
      return;
    }
    read_body();
  }

  void on_continue(beast::error_code ec, size_t) {
    continue_.reset();
    if (core_->stopping) return;
    if (ec) return close();
    read_body();
  }

  void read_body() {
    tcp_layer().expires_after(core_->body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
  }

  void on_read_error(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      return send_error(413,
                        "request body over " + std::to_string(core_->max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(431, "request header over " + std::to_string(kHeaderLimit) + " bytes");
    }
    if (is_parse_error(ec)) return send_error(400, "malformed HTTP request: " + ec.message());
    if (ec == beast::error::timeout) ++core_->timed_out;
    close();  // end of stream, timeout, reset: nobody to answer
  }

  void on_read(beast::error_code ec, size_t) {
    if (core_->stopping) return;
    if (ec) return on_read_error(ec);

    auto req = parser_->release();
    parser_.reset();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest request{std::string(req.method_string()),
                        std::string(req.target()),
                        std::move(req.body()),
                        kTls,
                        client_cn_,
                        address_};
    // The handler may take its time (a submission is answered once its block
    // is applied): no timeout while the answer is pending.
    tcp_layer().expires_never();

    auto pending = std::make_shared<Pending>(this->shared_from_this());
    Responder respond = [pending](HttpResponse r) { pending->answer(std::move(r)); };
    try {
      core_->handler(std::move(request), std::move(respond));
    } catch (const std::exception& e) {
      pending->answer(HttpResponse{500, "application/json",
                                   json_error(std::string("internal error: ") + e.what())});
    } catch (...) {
      pending->answer(HttpResponse{500, "application/json", json_error("internal error")});
    }
  }

  // Answers the request once; answers 500 if every copy of the Responder was
  // dropped without an answer, so the connection is not left hanging.
  struct Pending {
    explicit Pending(std::shared_ptr<SessionBase> s) : session(std::move(s)) {}
    ~Pending() {
      if (!answered.load()) {
        session->post_response(
            HttpResponse{500, "application/json", json_error("the request was not answered")});
      }
    }
    void answer(HttpResponse r) {
      if (answered.exchange(true)) return;  // exactly once
      session->post_response(std::move(r));
    }
    std::shared_ptr<SessionBase> session;
    std::atomic<bool> answered{false};
  };

  void write_response(HttpResponse r) {
    if (core_->stopping) return;
    res_.emplace();
    res_->version(version_);
    res_->result(r.status >= 100 && r.status <= 999 ? static_cast<unsigned>(r.status) : 500u);
    res_->set(http::field::server, "chipledger");
    if (!r.content_type.empty()) res_->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res_->set(name, value);
    res_->keep_alive(keep_alive_);
    res_->body() = std::move(r.body);
    res_->prepare_payload();
    tcp_layer().expires_after(core_->write_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::on_write, this->shared_from_this()));
  }

  void send_error(int status, const std::string& reason) {
    parser_.reset();
    keep_alive_ = false;
    version_ = 11;
    write_response(HttpResponse{status, "application/json", json_error(reason)});
  }

  void on_write(beast::error_code ec, size_t) {
    if (core_->stopping) return;
    if (ec) {
      if (ec == beast::error::timeout) ++core_->timed_out;
      return close();
    }
    const bool eof = res_->need_eof();
    res_.reset();
    if (eof) return linger_close();
    core_->set_waiting(id_, true);
    wait_for_request();
  }

  void linger_close() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer().expires_after(kLingerTimeout);
    drain();
  }

  // Raw bytes (over TLS too: they are thrown away unread).
  void drain() {
    tcp_layer().async_read_some(asio::buffer(scratch_),
                                [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                                  if (self->core_->stopping) return;
                                  self->drained_ += n;
                                  if (ec || self->drained_ > kMaxLingerBytes) return self->close();
                                  self->drain();
                                });
  }

  void close() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().close();
  }

  // Declared first: destroyed last, after the stream that needs its io_context.
  std::shared_ptr<Core> core_;
  Stream stream_;
  const asio::any_io_executor strand_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> res_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::array<char, 16 * 1024> scratch_{};
  size_t drained_ = 0;
  std::string client_cn_;     // of a verified client certificate
  std::string plain_answer_;  // the 400 to a plain HTTP request over TLS
  const uint64_t id_;         // the governor's; 0: refused
  const std::string address_;
  const std::string refusal_;  // set: answer 503 with it and close
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

template <typename S, typename... Args>
void open_session(Core* core, uint64_t id, std::string address, std::string refusal,
                  Args&&... args) {
  // Declared before the lock: a last release of `session` never runs under mu.
  auto session = std::make_shared<S>(core->shared_from_this(), id, std::move(address),
                                     std::move(refusal), std::forward<Args>(args)...);
  {
    std::lock_guard lock(core->mu);
    if (core->stopped) return;
    core->sessions.emplace(session.get(), session);
    if (id != 0) core->by_id.emplace(id, session);
  }
  session->start();
}

std::string refusal_reason(const ConnectionGovernor& g, ConnectionGovernor::Outcome outcome) {
  if (outcome == ConnectionGovernor::Outcome::address_full) {
    return "this node has " + std::to_string(g.limits().max_per_address) +
           " connections open from your address, all busy ([api] "
           "max_connections_per_address); retry shortly";
  }
  return "this node has " + std::to_string(g.limits().max_connections) +
         " connections open, all busy ([api] max_connections); retry shortly";
}

// Books a new connection with the governor and serves it (or answers 503).
void accept_connection(Core* core, tcp::socket socket) {
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  std::string address = ec ? std::string("unknown") : remote.address().to_string();
  std::shared_ptr<SessionBase> evicted;  // released outside mu
  ConnectionGovernor::Decision d;
  std::string refusal;
  TlsContextPtr tls;
  {
    std::lock_guard lock(core->mu);
    if (core->stopped) return;
    tls = core->tls;
    d = core->governor.open(address, now_ms());
    if (d.evict) {
      if (auto it = core->by_id.find(*d.evict); it != core->by_id.end()) {
        evicted = it->second.lock();
        core->by_id.erase(it);
      }
    }
    if (d.outcome != ConnectionGovernor::Outcome::admitted) {
      if (core->refusing >= kMaxRefusing) return;  // closed without an answer
      ++core->refusing;
      refusal = refusal_reason(core->governor, d.outcome);
      d.id = 0;
    }
  }
  if (evicted) evicted->evict();
  if (tls) {
    open_session<TlsSession>(core, d.id, std::move(address), std::move(refusal), std::move(socket),
                             *tls);
  } else {
    open_session<PlainSession>(core, d.id, std::move(address), std::move(refusal),
                               std::move(socket));
  }
}

void do_accept(Core* core) {
  core->acceptor.async_accept(asio::make_strand(core->ioc),
                              [core](beast::error_code ec, tcp::socket socket) {
                                if (core->stopping || ec == asio::error::operation_aborted) return;
                                if (ec) {
                                  // Out of descriptors and the like: try again a little later.
                                  core->accept_retry.expires_after(std::chrono::milliseconds(50));
                                  core->accept_retry.async_wait([core](beast::error_code wait_ec) {
                                    if (!wait_ec && !core->stopping) do_accept(core);
                                  });
                                  return;
                                }
                                beast::error_code ignored;
                                socket.set_option(tcp::no_delay(true), ignored);
                                accept_connection(core, std::move(socket));
                                do_accept(core);
                              });
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Core> core;
  uint16_t port = 0;
  int threads = 1;
  int thread_nice = 0;
  std::mutex mu;  // serializes start() and stop()
  bool started = false;
  bool stopped = false;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> workers;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::bind(const HttpServerOptions& options,
                                                     HttpHandler handler) {
  if (!handler) return Result<std::unique_ptr<HttpServer>>::error("http server: no handler");
  auto core = std::make_shared<Core>(options, std::move(handler));
  const std::string where = options.address + ":" + std::to_string(options.port);

  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto ip = asio::ip::make_address(options.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, options.port);
  } else {  // a host name such as "localhost"
    tcp::resolver resolver(core->ioc);
    ec = {};
    auto results = resolver.resolve(options.address, std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (!ec && results.empty()) ec = asio::error::host_not_found;
    if (ec) {
      return Result<std::unique_ptr<HttpServer>>::error("cannot listen on " + where + ": " +
                                                        ec.message());
    }
    endpoint = results.begin()->endpoint();
  }

  auto& acceptor = core->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Result<std::unique_ptr<HttpServer>>::error("cannot listen on " + where + ": " +
                                                      ec.message());
  }

  auto impl = std::make_unique<Impl>();
  impl->port = acceptor.local_endpoint(ec).port();
  if (ec) {
    return Result<std::unique_ptr<HttpServer>>::error("cannot listen on " + where + ": " +
                                                      ec.message());
  }
  impl->threads = options.threads > 0 ? options.threads : 1;
  if (options.thread_nice < 0 || options.thread_nice > kMaxThreadNiceStep) {
    return Result<std::unique_ptr<HttpServer>>::error(
        "http server: thread_nice must be 0.." + std::to_string(kMaxThreadNiceStep) + ", not " +
        std::to_string(options.thread_nice));
  }
  impl->thread_nice = options.thread_nice;
  impl->core = std::move(core);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

Status HttpServer::set_tls(TlsContextPtr tls) {
  std::lock_guard lock(impl_->core->mu);
  if (!impl_->core->tls || !tls) {
    return Status::error("the server's HTTPS cannot be switched on or off while it runs");
  }
  impl_->core->retired_tls.push_back(std::exchange(impl_->core->tls, std::move(tls)));
  return Status::ok();
}

ConnectionStats HttpServer::stats() const {
  Core& core = *impl_->core;
  std::lock_guard lock(core.mu);
  const auto g = core.governor.stats();
  ConnectionStats s;
  s.open = g.open;
  s.waiting = g.waiting;
  s.max_connections = core.governor.limits().max_connections;
  s.max_per_address = core.governor.limits().max_per_address;
  s.admitted = g.admitted;
  s.refused = g.refused_server_full + g.refused_address_full;  // answered 503 or not
  s.evicted = g.evicted;
  s.timed_out = core.timed_out.load();
  return s;
}

void HttpServer::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  Core* core = impl_->core.get();
  impl_->work.emplace(core->ioc.get_executor());
  do_accept(core);
  for (int i = 0; i < impl_->threads; ++i) {
    impl_->workers.emplace_back([core, i, nice = impl_->thread_nice] {
      name_this_thread("http-" + std::to_string(i));
      // Lowering one's own priority within 0..19 (checked in bind) does
      // not fail for an unprivileged process; if it did, the worker would
      // only run at the priority it has.
      (void)lower_this_thread_priority(nice);
      for (;;) {
        try {
          core->ioc.run();
          return;
        } catch (...) {
          // A throwing completion handler must not take the server down.
        }
      }
    });
  }
}

void HttpServer::stop() {
  if (!impl_) return;
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  Core& core = *impl_->core;
  {
    std::lock_guard core_lock(core.mu);
    core.stopped = true;  // Responders post nothing from now on
    core.stopping = true;
  }
  impl_->work.reset();
  core.ioc.stop();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();

  // No io thread runs any more: close everything from here.
  beast::error_code ignored;
  core.acceptor.close(ignored);
  core.accept_retry.cancel();
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard core_lock(core.mu);
    for (auto& [ptr, weak] : core.sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->force_close();
  open.clear();  // outside core.mu: a session's destructor takes it

  // Run the cancelled operations' handlers (they see `stopping` and return) so
  // they release their sessions; sessions still held by Responders die with them.
  core.ioc.restart();
  core.ioc.run_for(kDrainTimeout);
  core.handler = nullptr;
}

}  // namespace chipledger
