// The data folder lock (node/data_folder_lock.h): one holder at a time,
// the second refused naming the first, released with its holder; the
// folder is created if missing and nothing but the lock file is written.
#include "node/data_folder_lock.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "tests/node/raft_helpers.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;
using chipledger::testing::TempDir;

TEST_CASE("data folder lock: one holder at a time, the second refused naming the first",
          "[node][lock]") {
  TempDir tmp("chipledger-lock-");
  const std::string data = (tmp.path / "data").string();  // not there yet
  std::optional<DataFolderLock> first;
  {
    auto held = DataFolderLock::acquire(data, "chipledger-node node-a");
    REQUIRE(held.is_ok());
    first.emplace(std::move(*held));
  }
  CHECK(fs::is_directory(data));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(data)) {
    CHECK(e.path().filename() == DataFolderLock::kFileName);
    ++files;
  }
  CHECK(files == 1);

  // Another open of the lock file (as another process would) is refused,
  // whoever asks, and says who holds the folder.
  auto second = DataFolderLock::acquire(data, "chipledger-node restore");
  REQUIRE(!second.is_ok());
  CHECK(second.status().is_invalid());
  CHECK_THAT(second.reason(),
             Catch::Contains("is in use by another process (chipledger-node node-a, pid " +
                             std::to_string(::getpid()) + ")"));

  // A moved lock is still held; released with its last holder.
  DataFolderLock moved = std::move(*first);
  first.reset();
  CHECK(!DataFolderLock::acquire(data, "x").is_ok());
  { DataFolderLock gone = std::move(moved); }
  auto again = DataFolderLock::acquire(data, "chipledger-node restore");
  REQUIRE(again.is_ok());
  CHECK_THAT(DataFolderLock::acquire(data, "y").reason(),
             Catch::Contains("(chipledger-node restore, pid"));
}

}  // namespace
}  // namespace chipledger
