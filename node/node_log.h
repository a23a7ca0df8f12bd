// The node's log (docs/node-config.md, [log]): one line per event on
// stderr, through spdlog, at or above the configured level, as text
// ("2026-12-06T01:02:03.456Z info message") or as JSON lines
// ({"time":...,"level":...,"msg":...}). Messages are built by the caller;
// the node logs ids, sizes, URLs and reasons, never a key, a signature's
// secret input or a request body. Thread-safe. spdlog's headers stay in
// node_log.cc.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { text, json };

// "debug", "info", "warn", "error" / "text", "json"; anything else is an
// error naming what is accepted.
Result<LogLevel> parse_log_level(std::string_view name);
Result<LogFormat> parse_log_format(std::string_view name);

// Sets the level and format for every later line (default info, text).
void configure_node_log(LogLevel level, LogFormat format);

void node_log(LogLevel level, std::string_view message);
inline void log_debug(std::string_view m) { node_log(LogLevel::debug, m); }
inline void log_info(std::string_view m) { node_log(LogLevel::info, m); }
inline void log_warn(std::string_view m) { node_log(LogLevel::warn, m); }
inline void log_error(std::string_view m) { node_log(LogLevel::error, m); }

// One log line built as a stream: LogLine(LogLevel::warn) << "peer " << url;
// logged when it goes out of scope.
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine() { node_log(level_, out_.str()); }
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  template <typename T>
  LogLine& operator<<(const T& value) {
    out_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

}  // namespace chipledger
