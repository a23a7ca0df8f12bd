// POST /v1/admin/backup (docs/backup.md): a request signed with this node's
// own key makes the node take a checkpoint of its ledger into its data
// folder (data_dir/backups/staging-T), for `chipledger-node backup` to copy
// out. It guarantees: nothing is written for a request that is not signed
// by the node's key, for this ledger and node, within 60 s of the node's
// clock, with a nonce not seen in the last 10 minutes; one backup at a time,
// and none while another's staging folder (younger than 10 minutes) is
// being copied out (409).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "node/http_types.h"

namespace chipledger {

class BackupService {
 public:
  struct Options {
    std::string data_dir;
    std::string node_id;
    uint64_t raft_id = 0;
    std::function<uint64_t()> now_ms;  // the wall clock, ms since 1970
  };
  static constexpr uint64_t kMaxSkewMs = 60'000;
  static constexpr uint64_t kNonceMemoryMs = 600'000;

  BackupService(const Ledger& ledger, PublicKey node_key, Options options);

  HttpResponse handle(const HttpRequest& request);

  // The folder staging folders go in.
  static std::string backups_dir(const std::string& data_dir);
  // Removes every staging folder (a node does at start: a backup that was
  // not copied out before the node stopped only pins old files).
  static Status remove_staging(const std::string& data_dir);

 private:
  HttpResponse take();
  bool remember_nonce(const std::string& nonce, uint64_t now);  // false: seen

  const Ledger& ledger_;
  const PublicKey node_key_;
  const Options options_;
  std::mutex mu_;                         // one backup at a time; guards seen_
  std::map<std::string, uint64_t> seen_;  // nonce -> when it was used
  bool busy_ = false;
};

}  // namespace chipledger
