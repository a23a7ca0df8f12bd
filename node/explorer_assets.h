// The web explorer's static files (node/explorer/, docs/explorer.md), built
// into the binary, and the answers that serve them: GET /explorer/FILE with
// its content type and headers that keep the page to its own origin (a
// Content-Security-Policy without inline script), GET / and /explorer
// redirecting to /explorer/. Read-only: the page only reads the public API.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "node/http_types.h"

namespace chipledger {

struct EmbeddedFile {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view bytes;
};
// Generated at build time (cmake/embed_files.cmake).
const std::vector<EmbeddedFile>& embedded_explorer_files();

// The answer for `path` (no query) when it is the explorer's; nullopt
// otherwise (the API answers it).
std::optional<HttpResponse> explorer_answer(std::string_view method, std::string_view path);

}  // namespace chipledger
