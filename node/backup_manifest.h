// A backup folder's backup.json (docs/backup.md): the point of the ledger it
// holds and every file with its size and SHA-256. copy_folder_files() is
// the one copy both directions use: it copies a flat folder's files,
// hashing as it goes, syncing each file and the folder.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"
#include "crypto/sha256.h"

namespace chipledger {

struct BackupFile {
  std::string name;  // "ledger/000012.sst"
  uint64_t bytes = 0;
  Hash sha256{};
};

struct BackupManifest {
  static constexpr std::string_view kFormat = "chipledger-backup/1";
  static constexpr std::string_view kFileName = "backup.json";
  std::string ledger_id;
  std::string node_id;
  uint64_t raft_id = 0;
  uint64_t applied_entry = 0;
  uint64_t log_size = 0;
  Hash root{};
  Hash state_root{};
  uint64_t taken_ms = 0;
  std::vector<BackupFile> files;
  // The evidence that a quorum of the consortium signed this ledger: a
  // quorum-signed checkpoint note of size >= log_size, and the RFC 9162
  // consistency proof from log_size to its size (empty when equal).
  std::string checkpoint_note;
  std::vector<Hash> consistency;
  // The node's signature (its checkpoint key) over signed_text(): the point
  // (above all its Raft entry, which no checkpoint covers) is the node's
  // word, not whoever could write the folder.
  Bytes signature;
  std::string signed_text() const;

  std::string to_json() const;
  // Well formed, of kFormat, every field present; file names are one
  // folder ("ledger/") and a plain file name, each once. A manifest that is
  // not is `corrupt`; a folder without one is `invalid` (not a backup).
  static Result<BackupManifest> parse(std::string_view text);
  static Result<BackupManifest> load(const std::string& backup_dir);
};

// Copies every regular file of folder `from` into folder `to` (created;
// it must not exist), each synced, then the folder; `prefix` + the file
// name names each in the result. Anything in `from` but plain files is
// refused. With `expected`: the files must be exactly those (by name, size
// and SHA-256), or the copy stops naming the first that differs.
// `after_each`, when given, runs after each file is copied.
Result<std::vector<BackupFile>> copy_folder_files(const std::string& from, const std::string& to,
                                                  const std::string& prefix,
                                                  const std::vector<BackupFile>* expected,
                                                  const std::function<void()>& after_each = {});

// fsync of a folder (after a file in it was created, renamed or removed).
Status sync_folder(const std::string& dir);

// Writes `text` to `path` (created, or truncated), fsyncs it, then its folder.
Status write_file_synced(const std::string& path, std::string_view text);

}  // namespace chipledger
