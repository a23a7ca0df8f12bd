#include "node/node_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ledger/utc_time.h"

namespace chipledger {

namespace {

spdlog::level::level_enum spd(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    default:
      return "info";
  }
}

// RFC 3339 UTC with milliseconds.
std::string utc_time(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  return rfc3339_utc_ms(static_cast<uint64_t>(ms.count()));
}

// One line per event on stderr: text or a JSON object (the message
// escaped by the JSON encoder, so a reason with quotes or newlines stays
// one line).
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LineSink(LogFormat format) : format_(format) {}
  void set_format(LogFormat f) {
    std::lock_guard lock(mutex_);
    format_ = f;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string line;
    if (format_ == LogFormat::json) {
      nlohmann::ordered_json j{
          {"time", utc_time(msg.time)}, {"level", level_name(msg.level)}, {"msg", text}};
      line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } else {
      // One line, and no terminal escapes from a peer's text.
      for (char& c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';
      }
      line = utc_time(msg.time) + " " + level_name(msg.level) + " " + text;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  LogFormat format_;
};

struct NodeLogger {
  std::shared_ptr<LineSink> sink = std::make_shared<LineSink>(LogFormat::text);
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("node", sink);
  NodeLogger() {
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::debug);  // every line reaches stderr at once
  }
};

NodeLogger& node_logger() {
  static NodeLogger l;
  return l;
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return Result<LogLevel>::error("[log] level must be debug, info, warn or error, not \"" +
                                 std::string(name) + "\"");
}

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return Result<LogFormat>::error("[log] format must be text or json, not \"" + std::string(name) +
                                  "\"");
}

void configure_node_log(LogLevel level, LogFormat format) {
  NodeLogger& l = node_logger();
  l.sink->set_format(format);
  l.logger->set_level(spd(level));
}

void node_log(LogLevel level, std::string_view message) {
  node_logger().logger->log(spd(level), spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace chipledger
