#include "node/data_folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace chipledger {
namespace {

// Who holds the folder, as the holder wrote it (a line), or "".
std::string holder_of(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string text(buf, static_cast<size_t>(n));
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace

Result<DataFolderLock> DataFolderLock::acquire(const std::string& data_dir,
                                               std::string_view holder) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::io("cannot create the data folder " + data_dir + ": " + ec.message());
  const std::string path = data_dir + "/" + std::string(kFileName);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io("cannot open " + path + ": " + std::strerror(errno));
  DataFolderLock lock(fd);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      std::string who = holder_of(fd);
      return Status::invalid("the data folder " + data_dir + " is in use by another process" +
                             (who.empty() ? "" : " (" + who + ")") +
                             ": one node or restore at a time writes it");
    }
    return Status::io("cannot lock " + path + ": " + std::strerror(errno));
  }
  // Says who holds it, for the message a second process gets: a courtesy
  // (on a full disk it may not be written; the lock holds regardless).
  const std::string line =
      std::string(holder) + ", pid " + std::to_string(static_cast<long>(::getpid())) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, line.data(), line.size(), 0);
  return lock;
}

DataFolderLock::DataFolderLock(DataFolderLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DataFolderLock& DataFolderLock::operator=(DataFolderLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataFolderLock::~DataFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace chipledger
