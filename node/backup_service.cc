#include "node/backup_service.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "node/api.h"
#include "node/backup_request.h"
#include "node/node_log.h"

namespace chipledger {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kStagingPrefix = "staging-";

uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

BackupService::BackupService(const Ledger& ledger, PublicKey node_key, Options options)
    : ledger_(ledger), node_key_(std::move(node_key)), options_(std::move(options)) {}

std::string BackupService::backups_dir(const std::string& data_dir) {
  return data_dir + "/backups";
}

Status BackupService::remove_staging(const std::string& data_dir) {
  std::error_code ec;
  const fs::path dir = backups_dir(data_dir);
  if (!fs::exists(dir, ec)) return Status::ok();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.path().filename().string().starts_with(kStagingPrefix)) continue;
    fs::remove_all(entry.path(), ec);
    if (ec) {
      return Status::io("cannot remove the backup staging folder " + entry.path().string() + ": " +
                        ec.message());
    }
  }
  if (ec) return Status::io("cannot list " + dir.string() + ": " + ec.message());
  return Status::ok();
}

bool BackupService::remember_nonce(const std::string& nonce, uint64_t now) {
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = now > it->second + kNonceMemoryMs ? seen_.erase(it) : std::next(it);
  }
  return seen_.emplace(nonce, now).second;
}

HttpResponse BackupService::handle(const HttpRequest& request) {
  if (request.method != "POST") return json_error(405, "method not allowed for /v1/admin/backup");
  auto r = BackupRequest::parse(request.body);
  if (!r) return json_error(400, r.reason());
  // The signature first: nothing below is told to a stranger.
  if (!r->verify(node_key_)) {
    return json_error(403, "a backup request must be signed with this node's own key");
  }
  if (r->ledger_id != ledger_.genesis().ledger_id() || r->node_id != options_.node_id) {
    return json_error(403, "the backup request is for another ledger or node");
  }
  const uint64_t now = options_.now_ms();
  if (distance(now, r->time_ms) > kMaxSkewMs) {
    return json_error(403, "the backup request's time is more than 60 s from this node's clock");
  }
  {
    std::lock_guard lock(mu_);
    if (busy_) return json_error(409, "a backup is being taken; try again when it is done");
    if (!remember_nonce(r->nonce, now)) {
      return json_error(403, "this backup request was already used (a replay)");
    }
    busy_ = true;
  }
  HttpResponse answer = take();
  std::lock_guard lock(mu_);
  busy_ = false;
  return answer;
}

// A staging folder younger than this is one being copied out by its
// `chipledger-node backup`; older ones are left by a copy that died.
constexpr auto kStagingInUse = std::chrono::minutes(10);

HttpResponse BackupService::take() {
  std::error_code ec;
  const fs::path dir = backups_dir(options_.data_dir);
  if (fs::exists(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (!entry.path().filename().string().starts_with(kStagingPrefix)) continue;
      auto age = fs::file_time_type::clock::now() - fs::last_write_time(entry.path(), ec);
      if (!ec && age < kStagingInUse) {
        return json_error(409, "another backup is being copied out of " + entry.path().string() +
                                   "; try again when it is done");
      }
      fs::remove_all(entry.path(), ec);
    }
  }
  const uint64_t taken = options_.now_ms();
  fs::create_directories(backups_dir(options_.data_dir), ec);
  if (ec) return json_error(500, "cannot create " + backups_dir(options_.data_dir));
  const std::string staging = fs::absolute(backups_dir(options_.data_dir) + "/" +
                                           std::string(kStagingPrefix) + std::to_string(taken))
                                  .lexically_normal()
                                  .string();
  fs::create_directory(staging, ec);
  if (ec) return json_error(500, "cannot create " + staging + ": " + ec.message());
  auto point = ledger_.checkpoint_to(staging + "/ledger");
  if (!point) {
    fs::remove_all(staging, ec);
    LogLine(LogLevel::error) << "chipledger-node " << options_.node_id
                             << ": backup failed: " << point.reason();
    return json_error(500, "backup failed: " + point.reason());
  }
  LogLine(LogLevel::info) << "chipledger-node " << options_.node_id << ": backup checkpoint of "
                          << point->size << " log entries (Raft entry " << point->applied_entry
                          << ") in " << staging;
  HttpResponse ok;
  ok.body = json{
      {"staging", staging},
      {"ledger_id", ledger_.genesis().ledger_id()},
      {"node_id", options_.node_id},
      {"raft_id", options_.raft_id},
      {"applied_entry", point->applied_entry},
      {"log_size", point->size},
      {"root", hex_encode(point->root)},
      {"state_root", hex_encode(point->state_root)},
      {"taken_ms",
       taken}}.dump();
  return ok;
}

}  // namespace chipledger
