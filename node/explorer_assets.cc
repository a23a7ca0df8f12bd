#include "node/explorer_assets.h"

#include <string>

namespace chipledger {
namespace {

constexpr std::string_view kPrefix = "/explorer/";

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

HttpResponse redirect() {
  HttpResponse r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "the explorer is at /explorer/\n";
  r.headers.push_back({"Location", std::string(kPrefix)});
  return r;
}

}  // namespace

std::optional<HttpResponse> explorer_answer(std::string_view method, std::string_view path) {
  const bool ours = path == "/" || path == "/explorer" || path.starts_with(kPrefix);
  if (!ours) return std::nullopt;
  if (method != "GET") {
    HttpResponse r;
    r.status = 405;
    r.body = "{\"error\":\"the explorer is read-only\"}";
    return r;
  }
  if (path == "/" || path == "/explorer") return redirect();
  std::string_view name = path.substr(kPrefix.size());
  if (name.empty()) name = "index.html";
  for (const auto& f : embedded_explorer_files()) {
    if (f.name != name) continue;
    HttpResponse r;
    r.content_type = std::string(content_type_of(name));
    r.body = std::string(f.bytes);
    r.headers = {{"Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                  "script-src 'self'; object-src 'none'; base-uri 'none'; "
                  "frame-ancestors 'none'; form-action 'self'"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"},
                 {"Cache-Control", "no-cache"}};
    return r;
  }
  HttpResponse r;
  r.status = 404;
  r.body = "{\"error\":\"no such explorer file\"}";
  return r;
}

}  // namespace chipledger
