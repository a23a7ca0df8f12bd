// The one process that may write a node's data folder: the running node,
// or a `chipledger-node restore` into it. An exclusive lock (flock(2)) on
// DATA/node.lock, held while the holder lives and released by the kernel
// when it exits however it exits (so a crash leaves no stale lock). A
// second node started on the same folder, a restore while the node runs, or
// two restores at once are refused before anything is written, naming the
// process that holds the folder.
#pragma once

#include <string>
#include <string_view>

#include "crypto/result.h"

namespace chipledger {

class DataFolderLock {
 public:
  static constexpr std::string_view kFileName = "node.lock";

  // Creates `data_dir` if missing, then takes its lock for `holder` (what
  // the process is doing, e.g. "chipledger-node run"). Refused (invalid)
  // when another process holds it.
  static Result<DataFolderLock> acquire(const std::string& data_dir, std::string_view holder);

  DataFolderLock(DataFolderLock&& other) noexcept;
  DataFolderLock& operator=(DataFolderLock&& other) noexcept;
  DataFolderLock(const DataFolderLock&) = delete;
  DataFolderLock& operator=(const DataFolderLock&) = delete;
  ~DataFolderLock();

 private:
  explicit DataFolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace chipledger
