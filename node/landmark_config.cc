#include "node/landmark_config.h"

#include <filesystem>
#include <sstream>

#include "ledger/transaction.h"
#include "node/node_config.h"
#include "node/toml_file.h"

namespace chipledger {

Result<LandmarkConfig> LandmarkConfig::load_file(const std::string& path) {
  using R = Result<LandmarkConfig>;
  auto parsed = read_toml_file(path);
  if (!parsed) return parsed.status();
  const toml::table& t = *parsed;
  for (const auto& [key, _] : t) {
    const std::string_view k = key.str();
    if (k != "id" && k != "key" && k != "listen" && k != "max_pending" &&
        k != "max_pending_per_address" && k != "challenge_timeout_ms") {
      return R::error(path + ": unknown setting '" + std::string(k) + "'");
    }
  }
  LandmarkConfig c;
  auto id = t["id"].value<std::string>();
  auto key = t["key"].value<std::string>();
  if (!id || !key) return R::error(path + ": 'id' and 'key' (strings) are required");
  CL_TRY(check_member_id(*id).context(path + ": id"));
  c.options.id = *id;
  std::filesystem::path key_path(*key);
  if (key_path.is_relative()) key_path = std::filesystem::path(path).parent_path() / key_path;
  c.key_file = key_path.string();
  CL_TRY(parse_listen(t["listen"].value_or(std::string("127.0.0.1:7700")), c.listen_address,
                      c.listen_port)
             .context(path));
  const int64_t pending = t["max_pending"].value_or(int64_t{4096});
  if (pending < 1 || pending > 100'000) {
    return R::error(path + ": max_pending must be 1 to 100000");
  }
  c.options.max_pending = static_cast<size_t>(pending);
  const int64_t per_address = t["max_pending_per_address"].value_or(int64_t{64});
  if (per_address < 1 || per_address > pending) {
    return R::error(path + ": max_pending_per_address must be 1 to max_pending");
  }
  c.options.max_pending_per_address = static_cast<size_t>(per_address);
  const int64_t timeout = t["challenge_timeout_ms"].value_or(int64_t{5000});
  if (timeout < 1 || timeout > 60'000) {
    return R::error(path + ": challenge_timeout_ms must be 1 to 60000");
  }
  c.options.challenge_timeout = std::chrono::milliseconds(timeout);
  return c;
}

}  // namespace chipledger
