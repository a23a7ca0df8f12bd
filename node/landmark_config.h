// chipledger-landmark's configuration file (TOML, docs/location.md,
// section 5): the landmark's id and key, where it listens, and its limits.
// Paths are relative to the file's folder.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/result.h"
#include "node/landmark_service.h"

namespace chipledger {

struct LandmarkConfig {
  LandmarkOptions options;
  std::string key_file;
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 7700;

  // Refuses a missing id or key, an id that is not 1-64 of [a-z0-9._-],
  // limits out of range, and unknown keys.
  static Result<LandmarkConfig> load_file(const std::string& path);
};

}  // namespace chipledger
