#include "node/raft_tls_transport.h"

#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "node/thread_name.h"

// libraft 0.15's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>

#include "node/raft_wire.h"
}

namespace chipledger {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// The hello a connecting node sends once TLS is up: magic, its Raft id
// (u64 LE), the length of its Raft address (u16 LE) and the address.
constexpr std::array<uint8_t, 8> kMagic = {'C', 'L', 'R', 'A', 'F', 'T', '1', 0};
constexpr size_t kHelloFixed = 8 + 8 + 2;
constexpr size_t kMaxAddress = 255;
constexpr size_t kPumpBuffer = 64 * 1024;

// An owned file descriptor: closed unless released.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Result<std::pair<Fd, Fd>> make_socketpair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Result<std::pair<Fd, Fd>>::error(std::string("socketpair: ") + std::strerror(errno));
  }
  return std::make_pair(Fd(fds[0]), Fd(fds[1]));
}

Result<tcp::endpoint> parse_endpoint(const std::string& address) {
  auto colon = address.rfind(':');
  error_code ec;
  if (colon == std::string::npos) return Result<tcp::endpoint>::error("no port in " + address);
  auto ip = asio::ip::make_address(address.substr(0, colon), ec);
  if (ec) return Result<tcp::endpoint>::error("not an IP address: " + address);
  unsigned long port = 0;
  try {
    port = std::stoul(address.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (port > 65535) return Result<tcp::endpoint>::error("no valid port in " + address);
  return tcp::endpoint(ip, static_cast<uint16_t>(port));
}

using TlsStream = ssl::stream<tcp::socket>;

// Carries bytes between libraft's socketpair end and the peer's TLS
// connection; what the peer sends goes through the frame guard first.
class Bridge : public std::enable_shared_from_this<Bridge> {
 public:
  Bridge(std::shared_ptr<TlsStream> tls, asio::local::stream_protocol::socket local,
         RaftFrameLimits limits, std::string peer,
         std::function<void(Bridge*, const std::string&, bool guard)> on_close)
      : tls_(std::move(tls)),
        local_(std::move(local)),
        guard_(limits),
        peer_(std::move(peer)),
        on_close_(std::move(on_close)) {}

  void start() {
    read_net();
    read_local();
  }
  void close(const std::string& why = {}, bool guard = false) {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    tls_->lowest_layer().close(ec);
    local_.close(ec);
    if (on_close_) on_close_(this, why.empty() ? std::string() : peer_ + ": " + why, guard);
  }

 private:
  void read_net() {
    tls_->async_read_some(asio::buffer(net_buf_),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            if (ec) return self->close();
                            Status st = self->guard_.feed(ByteView(self->net_buf_.data(), n));
                            if (!st) return self->close(st.reason() + "; connection closed", true);
                            asio::async_write(self->local_, asio::buffer(self->net_buf_.data(), n),
                                              [self](error_code ec2, size_t) {
                                                if (ec2) return self->close();
                                                self->read_net();
                                              });
                          });
  }
  void read_local() {
    local_.async_read_some(
        asio::buffer(local_buf_), [self = shared_from_this()](error_code ec, size_t n) {
          if (ec) return self->close();
          asio::async_write(*self->tls_, asio::buffer(self->local_buf_.data(), n),
                            [self](error_code ec2, size_t) {
                              if (ec2) return self->close();
                              self->read_local();
                            });
        });
  }

  std::shared_ptr<TlsStream> tls_;
  asio::local::stream_protocol::socket local_;
  RaftFrameGuard guard_;
  std::string peer_;
  std::function<void(Bridge*, const std::string&, bool)> on_close_;
  std::array<uint8_t, kPumpBuffer> net_buf_{};
  std::array<uint8_t, kPumpBuffer> local_buf_{};
  bool closed_ = false;
};

}  // namespace

struct RaftTlsTransport::Impl {
  uv_loop_t* loop = nullptr;
  RaftTlsOptions options;
  raft_uv_transport transport{};
  uint64_t id = 0;
  std::string address;

  // Loop thread only.
  raft_uv_accept_cb accept_cb = nullptr;
  raft_uv_transport_close_cb close_cb = nullptr;
  std::map<raft_uv_connect*, raft_uv_connect_cb> pending;  // connects not yet answered
  uv_async_t wake{};
  bool wake_open = false;

  // Loop -> Asio: the Asio thread's work; Asio -> loop: `inbox` + wake.
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  TlsContextPtr server_ctx;  // Asio thread (after create)
  TlsContextPtr client_ctx;
  std::vector<TlsContextPtr> retired;       // replaced by reload(); connections may still use them
  std::unique_ptr<tcp::acceptor> acceptor;  // Asio thread
  std::map<Bridge*, std::shared_ptr<Bridge>> bridges;  // Asio thread: the open ones
  std::set<std::shared_ptr<TlsStream>> handshaking;    // Asio thread: not yet handed over
  std::mutex inbox_mu;
  std::deque<std::function<void()>> inbox;
  std::atomic<bool> closing{false};

  std::atomic<uint64_t> n_accepted{0}, n_refused{0}, n_connected{0}, n_guard_closed{0};

  void log(const std::string& line) const {
    if (options.log) options.log("raft transport: " + line);
  }

  // From the Asio thread: run `fn` on the loop thread (dropped once closing;
  // what it owns is then released where it is dropped).
  void to_loop(std::function<void()> fn) {
    std::lock_guard lock(inbox_mu);
    if (closing || !wake_open) return;
    inbox.push_back(std::move(fn));
    uv_async_send(&wake);
  }
  static void on_wake(uv_async_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    std::deque<std::function<void()>> work;
    {
      std::lock_guard lock(self->inbox_mu);
      work.swap(self->inbox);
    }
    for (auto& fn : work) fn();
  }

  // ---- loop thread: what libraft sees ----

  // Hands one end of a socketpair to libraft as a stream (libraft frees it
  // with raft_free after uv_close).
  uv_stream_t* open_stream(Fd fd) {
    auto* pipe = static_cast<uv_pipe_t*>(raft_malloc(sizeof(uv_pipe_t)));
    if (pipe == nullptr) return nullptr;
    int rv = uv_pipe_init(loop, pipe, 0);
    if (rv == 0) rv = uv_pipe_open(pipe, fd.get());
    if (rv != 0) {
      log(std::string("cannot open a stream: ") + uv_strerror(rv));
      uv_close(reinterpret_cast<uv_handle_t*>(pipe), [](uv_handle_t* h) { raft_free(h); });
      return nullptr;
    }
    fd.release();  // the pipe owns it now
    return reinterpret_cast<uv_stream_t*>(pipe);
  }

  void deliver_connect(raft_uv_connect* req, std::shared_ptr<Fd> fd) {
    auto it = pending.find(req);
    if (it == pending.end()) return;  // cancelled; fd closes with it
    raft_uv_connect_cb cb = it->second;
    pending.erase(it);
    uv_stream_t* stream = open_stream(std::move(*fd));
    if (stream == nullptr) return cb(req, nullptr, RAFT_NOCONNECTION);
    ++n_connected;
    cb(req, stream, 0);
  }
  void fail_connect(raft_uv_connect* req) {
    auto it = pending.find(req);
    if (it == pending.end()) return;
    raft_uv_connect_cb cb = it->second;
    pending.erase(it);
    cb(req, nullptr, RAFT_NOCONNECTION);
  }
  void deliver_accept(uint64_t peer_id, const std::string& peer_address, const std::string& name,
                      std::shared_ptr<Fd> fd) {
    if (accept_cb == nullptr) return;
    if (options.is_member && !options.is_member(peer_id)) {
      ++n_refused;
      log("refused " + name + " (Raft id " + std::to_string(peer_id) +
          "): not in the current configuration");
      return;  // fd closes: the bridge sees EOF and drops the peer
    }
    uv_stream_t* stream = open_stream(std::move(*fd));
    if (stream == nullptr) return;
    ++n_accepted;
    accept_cb(&transport, peer_id, peer_address.c_str(), stream);
  }

  static Impl* of(raft_uv_transport* t) { return static_cast<Impl*>(t->impl); }

  static int t_init(raft_uv_transport* t, raft_id id, const char* address) {
    of(t)->id = id;
    of(t)->address = address;
    return 0;
  }

  static int t_listen(raft_uv_transport* t, raft_uv_accept_cb cb) {
    Impl* self = of(t);
    self->accept_cb = cb;
    if (!self->options.identity) return 0;  // no network
    auto endpoint = parse_endpoint(self->address);
    if (!endpoint) {
      std::snprintf(t->errmsg, sizeof t->errmsg, "%s", endpoint.reason().c_str());
      return RAFT_INVALID;
    }
    std::promise<std::string> bound;
    asio::post(self->io, [self, ep = *endpoint, &bound] {
      try {
        self->acceptor = std::make_unique<tcp::acceptor>(self->io, ep, /*reuse_address=*/true);
        self->accept_next();
        bound.set_value({});
      } catch (const std::exception& e) {
        bound.set_value(e.what());
      }
    });
    std::string problem = bound.get_future().get();
    if (!problem.empty()) {
      std::snprintf(t->errmsg, sizeof t->errmsg, "listen on %s: %s", self->address.c_str(),
                    problem.c_str());
      return RAFT_IOERR;
    }
    return 0;
  }

  static int t_connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id, const char* address,
                       raft_uv_connect_cb cb) {
    Impl* self = of(t);
    self->pending[req] = cb;
    if (!self->options.identity) {
      std::lock_guard lock(self->inbox_mu);
      self->inbox.push_back([self, req] { self->fail_connect(req); });
      uv_async_send(&self->wake);
      return 0;
    }
    asio::post(self->io, [self, req, id, a = std::string(address)] { self->connect(req, id, a); });
    return 0;
  }

  static void t_close(raft_uv_transport* t, raft_uv_transport_close_cb cb) {
    Impl* self = of(t);
    self->close_cb = cb;
    self->closing = true;
    // Stop the Asio side and wait for it (a few microseconds): afterwards
    // nothing more is posted to the loop.
    std::promise<void> done;
    asio::post(self->io, [self, &done] {
      error_code ec;
      if (self->acceptor) self->acceptor->close(ec);
      for (const auto& s : self->handshaking) s->lowest_layer().close(ec);
      self->handshaking.clear();
      std::vector<std::shared_ptr<Bridge>> open;
      for (const auto& [raw, b] : self->bridges) open.push_back(b);
      for (const auto& b : open) b->close();
      self->bridges.clear();
      done.set_value();
    });
    done.get_future().wait();
    {
      std::lock_guard lock(self->inbox_mu);
      self->inbox.clear();
      self->wake_open = false;
    }
    auto pending = std::move(self->pending);
    self->pending.clear();
    for (const auto& [req, connect_cb] : pending) connect_cb(req, nullptr, RAFT_CANCELED);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->wake), [](uv_handle_t* h) {
      Impl* s = static_cast<Impl*>(h->data);
      if (s->close_cb) s->close_cb(&s->transport);
    });
  }

  // ---- Asio thread ----

  void accept_next() {
    acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor || !acceptor->is_open()) return;
      if (!ec) {
        if (handshaking.size() >= options.max_handshakes) {
          ++n_refused;
          error_code ignored;
          socket.close(ignored);
        } else {
          start_incoming(std::move(socket));
        }
      }
      accept_next();
    });
  }

  // Closes `tls` at the deadline unless it was handed over before.
  std::shared_ptr<asio::steady_timer> deadline(const std::shared_ptr<TlsStream>& tls) {
    auto timer = std::make_shared<asio::steady_timer>(io, options.handshake_timeout);
    timer->async_wait([this, weak = std::weak_ptr<TlsStream>(tls)](error_code ec) {
      if (ec) return;
      if (auto s = weak.lock(); s && handshaking.count(s)) {
        error_code ignored;
        s->lowest_layer().close(ignored);
      }
    });
    return timer;
  }

  void start_incoming(tcp::socket socket) {
    std::string from;
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    from = ec ? "a peer" : remote.address().to_string() + ":" + std::to_string(remote.port());
    auto tls = std::make_shared<TlsStream>(std::move(socket), *server_ctx);
    handshaking.insert(tls);
    auto timer = deadline(tls);
    tls->async_handshake(ssl::stream_base::server, [this, tls, timer, from](error_code ec2) {
      if (ec2) return refuse(tls, timer, from + ": TLS handshake failed: " + ec2.message());
      auto cert = peer_certificate(tls->native_handle());
      if (!cert) return refuse(tls, timer, from + ": " + cert.reason());
      if (!cert->raft_id || cert->common_name.empty()) {
        return refuse(
            tls, timer,
            from + " (" + cert->common_name + "): its certificate names no node and Raft id");
      }
      auto hello = std::make_shared<std::array<uint8_t, kHelloFixed + kMaxAddress>>();
      asio::async_read(
          *tls, asio::buffer(hello->data(), kHelloFixed),
          [this, tls, timer, from, hello, cert = *cert](error_code ec3, size_t) {
            if (ec3) return refuse(tls, timer, from + ": no hello: " + ec3.message());
            uint64_t claimed = raft_get64(hello->data() + 8);
            size_t len = static_cast<size_t>(hello->at(16)) | static_cast<size_t>(hello->at(17))
                                                                  << 8;
            std::string name = cert.common_name + " from " + from;
            if (std::memcmp(hello->data(), kMagic.data(), kMagic.size()) != 0) {
              return refuse(tls, timer, name + ": not a chipledger Raft hello");
            }
            if (claimed != *cert.raft_id) {
              return refuse(tls, timer,
                            name + ": claims Raft id " + std::to_string(claimed) +
                                " but its certificate is for " + std::to_string(*cert.raft_id));
            }
            if (len == 0 || len > kMaxAddress) {
              return refuse(tls, timer,
                            name + ": a Raft address of " + std::to_string(len) + " bytes");
            }
            asio::async_read(*tls, asio::buffer(hello->data() + kHelloFixed, len),
                             [this, tls, timer, name, hello, len, claimed](error_code ec4, size_t) {
                               if (ec4) return refuse(tls, timer, name + ": no address");
                               std::string addr(
                                   reinterpret_cast<const char*>(hello->data() + kHelloFixed), len);
                               if (addr.find('\0') != std::string::npos) {
                                 return refuse(tls, timer, name + ": a malformed address");
                               }
                               hand_over_incoming(tls, timer, claimed, addr, name);
                             });
          });
    });
  }

  void refuse(const std::shared_ptr<TlsStream>& tls,
              const std::shared_ptr<asio::steady_timer>& timer, const std::string& why) {
    timer->cancel();
    handshaking.erase(tls);
    error_code ignored;
    tls->lowest_layer().close(ignored);
    ++n_refused;
    if (!closing) log("refused " + why);
  }

  // Makes the socketpair, starts the bridge on our end and posts libraft's
  // end to the loop (where `deliver` runs).
  bool hand_over(const std::shared_ptr<TlsStream>& tls,
                 const std::shared_ptr<asio::steady_timer>& timer, const std::string& name,
                 std::function<void(std::shared_ptr<Fd>)> deliver) {
    timer->cancel();
    handshaking.erase(tls);
    auto pair = make_socketpair();
    if (!pair) {
      log(name + ": " + pair.reason());
      error_code ignored;
      tls->lowest_layer().close(ignored);
      return false;
    }
    asio::local::stream_protocol::socket local(io);
    error_code ec;
    local.assign(asio::local::stream_protocol(), pair->first.release(), ec);
    if (ec) {
      log(name + ": " + ec.message());
      return false;
    }
    auto bridge =
        std::make_shared<Bridge>(tls, std::move(local), options.limits, name,
                                 [this](Bridge* closed, const std::string& why, bool guard) {
                                   if (guard) ++n_guard_closed;
                                   if (!why.empty() && !closing) log(why);
                                   bridges.erase(closed);
                                 });
    bridges.emplace(bridge.get(), bridge);
    bridge->start();
    to_loop([deliver, fd = std::make_shared<Fd>(pair->second.release())] { deliver(fd); });
    return true;
  }

  void hand_over_incoming(const std::shared_ptr<TlsStream>& tls,
                          const std::shared_ptr<asio::steady_timer>& timer, uint64_t peer_id,
                          const std::string& addr, const std::string& name) {
    hand_over(tls, timer, name, [this, peer_id, addr, name](std::shared_ptr<Fd> fd) {
      deliver_accept(peer_id, addr, name, std::move(fd));
    });
  }

  void connect(raft_uv_connect* req, uint64_t peer_id, const std::string& peer_address) {
    if (closing) return;
    auto fail = [this, req](const std::string& why) {
      if (!why.empty() && !closing) log(why);
      to_loop([this, req] { fail_connect(req); });
    };
    auto endpoint = parse_endpoint(peer_address);
    if (!endpoint)
      return fail("connect to Raft id " + std::to_string(peer_id) + ": " + endpoint.reason());
    auto tls = std::make_shared<TlsStream>(io, *client_ctx);
    handshaking.insert(tls);
    auto timer = deadline(tls);
    std::string name = "Raft id " + std::to_string(peer_id) + " at " + peer_address;
    tls->lowest_layer().async_connect(
        *endpoint, [this, tls, timer, name, peer_id, fail, req](error_code ec) {
          // Refused or unreachable peers are retried by libraft: no log line.
          if (ec) return drop(tls, timer), fail({});
          tls->async_handshake(ssl::stream_base::client, [this, tls, timer, name, peer_id, fail,
                                                          req](error_code ec2) {
            if (ec2)
              return drop(tls, timer), fail(name + ": TLS handshake failed: " + ec2.message());
            auto cert = peer_certificate(tls->native_handle());
            if (!cert) return drop(tls, timer), fail(name + ": " + cert.reason());
            if (cert->raft_id != peer_id) {
              return drop(tls, timer),
                     fail(name + ": its certificate (" + cert->common_name + ") is for Raft id " +
                          (cert->raft_id ? std::to_string(*cert->raft_id) : std::string("none")));
            }
            auto hello = std::make_shared<std::vector<uint8_t>>(kHelloFixed + address.size());
            std::memcpy(hello->data(), kMagic.data(), kMagic.size());
            raft_put64(hello->data() + 8, id);
            (*hello)[16] = static_cast<uint8_t>(address.size());
            (*hello)[17] = static_cast<uint8_t>(address.size() >> 8);
            std::memcpy(hello->data() + kHelloFixed, address.data(), address.size());
            asio::async_write(*tls, asio::buffer(*hello),
                              [this, tls, timer, name, fail, req, hello](error_code ec3, size_t) {
                                if (ec3) return drop(tls, timer), fail(name + ": " + ec3.message());
                                bool ok = hand_over(tls, timer, name,
                                                    [this, req](std::shared_ptr<Fd> fd) {
                                                      deliver_connect(req, std::move(fd));
                                                    });
                                if (!ok) fail({});
                              });
          });
        });
  }

  void drop(const std::shared_ptr<TlsStream>& tls,
            const std::shared_ptr<asio::steady_timer>& timer) {
    timer->cancel();
    handshaking.erase(tls);
    error_code ignored;
    tls->lowest_layer().close(ignored);
  }
};

Result<std::unique_ptr<RaftTlsTransport>> RaftTlsTransport::create(uv_loop_s* loop,
                                                                   RaftTlsOptions options) {
  using R = Result<std::unique_ptr<RaftTlsTransport>>;
  if (options.identity && !options.identity->info.raft_id) {
    return R::error("the node's TLS certificate carries no Raft id (docs/tls.md)");
  }
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.loop = loop;
  m.options = std::move(options);
  if (m.options.identity) {
    auto server = make_server_context(*m.options.identity, ClientCertificates::require);
    if (!server) return server.status().context("Raft TLS");
    auto client = make_client_context(m.options.identity->ca_pem, &*m.options.identity);
    if (!client) return client.status().context("Raft TLS");
    m.server_ctx = std::move(*server);
    m.client_ctx = std::move(*client);
  }
  m.wake.data = &m;
  int rv = uv_async_init(loop, &m.wake, Impl::on_wake);
  if (rv != 0) return R::error(std::string("uv_async_init: ") + uv_strerror(rv));
  m.wake_open = true;
  m.transport.impl = &m;
  m.transport.init = Impl::t_init;
  m.transport.listen = Impl::t_listen;
  m.transport.connect = Impl::t_connect;
  m.transport.close = Impl::t_close;
  m.work.emplace(asio::make_work_guard(m.io));
  m.thread = std::thread([&m] {
    name_this_thread("raft-net");
    m.io.run();
  });
  return std::unique_ptr<RaftTlsTransport>(new RaftTlsTransport(std::move(impl)));
}

RaftTlsTransport::RaftTlsTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftTlsTransport::~RaftTlsTransport() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

raft_uv_transport* RaftTlsTransport::get() { return &impl_->transport; }

Status RaftTlsTransport::reload(const TlsIdentity& identity) {
  Impl& m = *impl_;
  if (!m.options.identity) return Status::error("this node has no Raft TLS to reload");
  if (identity.info.raft_id != m.options.identity->info.raft_id) {
    return Status::error("the new certificate is for another Raft id");
  }
  auto server = make_server_context(identity, ClientCertificates::require);
  if (!server) return server.status();
  auto client = make_client_context(identity.ca_pem, &identity);
  if (!client) return client.status();
  std::promise<void> done;
  asio::post(m.io, [&m, &done, s = std::move(*server), c = std::move(*client)]() mutable {
    m.retired.push_back(std::exchange(m.server_ctx, std::move(s)));
    m.retired.push_back(std::exchange(m.client_ctx, std::move(c)));
    done.set_value();
  });
  done.get_future().wait();
  return Status::ok();
}

void RaftTlsTransport::abandon() {
  Impl& m = *impl_;
  if (m.closing) return;
  m.close_cb = nullptr;
  m.closing = true;
  std::promise<void> done;
  asio::post(m.io, [&m, &done] {
    error_code ec;
    if (m.acceptor) m.acceptor->close(ec);
    done.set_value();
  });
  done.get_future().wait();
  {
    std::lock_guard lock(m.inbox_mu);
    m.inbox.clear();
    m.wake_open = false;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&m.wake), nullptr);
}

RaftTlsTransport::Stats RaftTlsTransport::stats() const {
  return Stats{impl_->n_accepted, impl_->n_refused, impl_->n_connected, impl_->n_guard_closed};
}

}  // namespace chipledger
