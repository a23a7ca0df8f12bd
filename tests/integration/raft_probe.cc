#include "tests/integration/raft_probe.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace chipledger::integ {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

Bytes hello(uint64_t id, const std::string& address) {
  Bytes b{'C', 'L', 'R', 'A', 'F', 'T', '1', 0};
  raft_append64(b, id);
  b.push_back(static_cast<uint8_t>(address.size()));
  b.push_back(static_cast<uint8_t>(address.size() >> 8));
  b.insert(b.end(), address.begin(), address.end());
  return b;
}

// Runs the io_context until `done` or the deadline; true when done.
bool run_until(asio::io_context& io, const bool& done, std::chrono::steady_clock::time_point end) {
  while (!done && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(20));
    if (io.stopped()) io.restart();
  }
  return done;
}

}  // namespace

ProbeResult probe_raft(const RaftProbe& p, std::chrono::milliseconds deadline) {
  ProbeResult r;
  auto end = std::chrono::steady_clock::now() + deadline;
  asio::io_context io;
  auto colon = p.address.rfind(':');
  tcp::endpoint ep(asio::ip::make_address(p.address.substr(0, colon)),
                   static_cast<uint16_t>(std::stoi(p.address.substr(colon + 1))));
  Bytes out;
  if (p.hello_id) out = hello(*p.hello_id, p.hello_address);
  out.insert(out.end(), p.after_hello.begin(), p.after_hello.end());

  ssl::context ctx(ssl::context::tls_client);
  if (p.trust_ca_pem) {
    ctx.add_certificate_authority(asio::buffer(*p.trust_ca_pem));
    ctx.set_verify_mode(ssl::verify_peer);
  }
  if (p.client) {
    ctx.use_certificate_chain(asio::buffer(p.client->cert_pem));
    ctx.use_private_key(asio::buffer(p.client->key_pem), ssl::context::pem);
  }
  ssl::stream<tcp::socket> tls(io, ctx);
  tcp::socket& sock = tls.next_layer();

  bool done = false;
  error_code ec;
  sock.async_connect(ep, [&](error_code e) { ec = e, done = true; });
  if (!run_until(io, done, end) || ec) {
    r.detail = "connect: " + (ec ? ec.message() : std::string("timed out"));
    return r;
  }
  r.connected = true;

  // From here: whatever the node does, note whether it closes on us.
  auto read_until_closed = [&](auto& stream) {
    static uint8_t sink[4096];
    bool closed = false;
    std::function<void()> read;
    read = [&] {
      stream.async_read_some(asio::buffer(sink), [&](error_code e, size_t) {
        if (e) {
          closed = true;
          r.detail += (r.detail.empty() ? "" : "; ") + std::string("closed: ") + e.message();
          return;
        }
        read();
      });
    };
    read();
    run_until(io, closed, end);
    r.closed = closed;
  };

  if (!p.trust_ca_pem) {
    done = false;
    asio::async_write(sock, asio::buffer(out), [&](error_code e, size_t) { ec = e, done = true; });
    run_until(io, done, end);
    read_until_closed(sock);
    return r;
  }
  done = false;
  tls.async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e, done = true; });
  if (!run_until(io, done, end) || ec) {
    r.closed = done;  // a failed handshake: the node refused us
    r.detail = "handshake: " + (ec ? ec.message() : std::string("timed out"));
    return r;
  }
  r.handshake = true;
  if (X509* cert = SSL_get1_peer_certificate(tls.native_handle())) {
    int len = i2d_X509(cert, nullptr);
    if (len > 0) {
      r.server_certificate.resize(static_cast<size_t>(len));
      uint8_t* out = r.server_certificate.data();
      i2d_X509(cert, &out);
    }
    X509_free(cert);
  }
  if (!out.empty()) {
    done = false;
    asio::async_write(tls, asio::buffer(out), [&](error_code e, size_t) { ec = e, done = true; });
    run_until(io, done, end);
    if (ec) r.detail = "write: " + ec.message();
  }
  read_until_closed(tls);
  return r;
}

}  // namespace chipledger::integ
