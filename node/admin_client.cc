#include "node/admin_client.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "crypto/keys.h"
#include "net/http_client.h"

namespace chipledger {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

Result<json> get_health(HttpClient& client) {
  auto r = client.get("/v1/health");
  if (!r) return r.status();
  json j = json::parse(r->body, nullptr, false);
  // 503: the node says it cannot do its job; its account still counts.
  if ((r->status != 200 && r->status != 503) || j.is_discarded() || !j.is_object()) {
    return Result<json>::error("GET " + client.url() + "/v1/health: HTTP " +
                               std::to_string(r->status));
  }
  return j;
}

}  // namespace

Result<HttpClientOptions> admin_client_options(const AdminTarget& target,
                                               std::chrono::milliseconds timeout) {
  using R = Result<HttpClientOptions>;
  HttpClientOptions options = HttpClientOptions::for_peer(timeout);
  if (target.tls_cert_file.empty() != target.tls_key_file.empty()) {
    return R::error("give both --tls-cert and --tls-key, or neither");
  }
  if (target.ca_file.empty()) {
    if (!target.tls_cert_file.empty()) return R::error("--tls-cert needs --ca (the consortium CA)");
    return options;  // http only: connect_to refuses an https URL without a CA
  }
  std::optional<TlsIdentity> identity;
  std::string ca;
  if (!target.tls_cert_file.empty()) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto id = TlsIdentity::load({target.ca_file, target.tls_cert_file, target.tls_key_file},
                                static_cast<int64_t>(now));
    if (!id) return id.status();
    ca = id->ca_pem;
    identity = std::move(*id);
  } else {
    auto pem = read_pem_file(target.ca_file, "TLS CA");
    if (!pem) return pem.status();
    ca = std::move(*pem);
  }
  auto ctx = make_client_context(ca, identity ? &*identity : nullptr);
  if (!ctx) return ctx.status();
  options.tls = std::move(*ctx);
  return options;
}

Result<std::string> list_members(const AdminTarget& target) {
  auto options = admin_client_options(target, 10s);
  if (!options) return options.status();
  auto client = HttpClient::connect_to(target.node_url, *options);
  if (!client) return client.status();
  auto health = get_health(**client);
  if (!health) return health.status();
  json raft = (*health).value("raft", json::object());
  return json{{"node_id", (*health).value("node_id", "")},
              {"leader", raft.value("leader", json(nullptr))},
              {"members", raft.value("members", json::array())}}
      .dump(2);
}

}  // namespace chipledger
