#include "node/backup_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace chipledger {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kLedgerFolder = "ledger/";
constexpr size_t kMaxManifestBytes = 16u << 20;
constexpr size_t kChunk = 1u << 20;

std::string errno_text() { return std::strerror(errno); }

// A name RocksDB gives a file: letters, digits, '.', '-', '_'.
bool is_plain_name(std::string_view s) {
  if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Writes all of `data` to `fd` (`path` names it in the error).
Status write_all(int fd, const uint8_t* data, size_t size, const std::string& path) {
  for (size_t done = 0; done < size;) {
    ssize_t w = ::write(fd, data + done, size - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::io("cannot write " + path + ": " + errno_text());
    done += static_cast<size_t>(w);
  }
  return Status::ok();
}

Result<BackupFile> copy_one(const fs::path& from, const fs::path& to, const std::string& name) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return Status::io("cannot read " + from.string() + ": " + errno_text());
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Status::io("cannot create " + to.string() + ": " + errno_text());
  Sha256 hash;
  std::vector<uint8_t> buf(kChunk);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io("cannot read " + from.string() + ": " + errno_text());
    if (n == 0) break;
    hash.update(ByteView(buf.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
    CL_TRY(write_all(out.fd, buf.data(), static_cast<size_t>(n), to.string()));
  }
  if (::fsync(out.fd) != 0) return Status::io("cannot sync " + to.string() + ": " + errno_text());
  return BackupFile{name, total, hash.finish()};
}

}  // namespace

Status sync_folder(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) {
    return Status::io("cannot sync the folder " + dir + ": " + errno_text());
  }
  return Status::ok();
}

Status write_file_synced(const std::string& path, std::string_view text) {
  Fd out{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Status::io("cannot create " + path + ": " + errno_text());
  CL_TRY(write_all(out.fd, reinterpret_cast<const uint8_t*>(text.data()), text.size(), path));
  if (::fsync(out.fd) != 0) return Status::io("cannot sync " + path + ": " + errno_text());
  const std::string dir = fs::path(path).parent_path().string();
  return sync_folder(dir.empty() ? "." : dir);
}

Result<std::vector<BackupFile>> copy_folder_files(const std::string& from, const std::string& to,
                                                  const std::string& prefix,
                                                  const std::vector<BackupFile>* expected,
                                                  const std::function<void()>& after_each) {
  std::error_code ec;
  std::vector<fs::path> sources;
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || entry.is_symlink(ec) || !is_plain_name(name)) {
      return Status::corrupt(entry.path().string() + " is not a plain file of a backup");
    }
    sources.push_back(entry.path());
  }
  if (ec) return Status::io("cannot list " + from + ": " + ec.message());
  std::sort(sources.begin(), sources.end());
  std::map<std::string, const BackupFile*> wanted;
  if (expected) {
    for (const auto& f : *expected) wanted[f.name] = &f;
    for (const auto& s : sources) {
      const std::string name = prefix + s.filename().string();
      if (!wanted.count(name)) {
        return Status::corrupt("the backup holds " + name + ", which its " +
                               std::string(BackupManifest::kFileName) + " does not list");
      }
    }
    for (const auto& [name, f] : wanted) {
      if (!fs::exists(fs::path(from) / name.substr(prefix.size()), ec)) {
        return Status::corrupt("the backup lacks " + name + ", which its " +
                               std::string(BackupManifest::kFileName) + " lists");
      }
    }
  }
  if (!fs::create_directory(to, ec)) {
    return Status::io("cannot create " + to + (ec ? ": " + ec.message() : ": it exists"));
  }
  std::vector<BackupFile> out;
  for (const auto& s : sources) {
    const std::string name = prefix + s.filename().string();
    // The size first: a file larger than listed is not copied at all (a
    // stranger's folder must not fill the data disk).
    if (expected && fs::file_size(s, ec) != wanted.at(name)->bytes) {
      return Status::corrupt("the backup's " + name + " is not the size its " +
                             std::string(BackupManifest::kFileName) + " lists (" +
                             std::to_string(fs::file_size(s, ec)) + " bytes, listed " +
                             std::to_string(wanted.at(name)->bytes) + ")");
    }
    auto copied = copy_one(s, fs::path(to) / s.filename(), name);
    if (!copied) return copied.status();
    if (expected) {
      const BackupFile& want = *wanted.at(name);
      if (copied->bytes != want.bytes || copied->sha256 != want.sha256) {
        return Status::corrupt(
            "the backup's " + name + " is not the file its " +
            std::string(BackupManifest::kFileName) + " lists (" + std::to_string(copied->bytes) +
            " bytes, SHA-256 " + hex_encode(copied->sha256).substr(0, 16) + "…, listed " +
            std::to_string(want.bytes) + " bytes, " + hex_encode(want.sha256).substr(0, 16) + "…)");
      }
    }
    out.push_back(std::move(*copied));
    if (after_each) after_each();
  }
  CL_TRY(sync_folder(to));
  return out;
}

std::string BackupManifest::signed_text() const {
  return "chipledger backup v1\n" + ledger_id + "\n" + node_id + "\n" + std::to_string(raft_id) +
         "\n" + std::to_string(applied_entry) + "\n" + std::to_string(log_size) + "\n" +
         hex_encode(root) + "\n" + hex_encode(state_root) + "\n" + std::to_string(taken_ms) + "\n";
}

std::string BackupManifest::to_json() const {
  json proof_json = json::array();
  for (const auto& h : consistency) proof_json.push_back(hex_encode(h));
  json files_json = json::array();
  for (const auto& f : files) {
    files_json.push_back({{"name", f.name}, {"bytes", f.bytes}, {"sha256", hex_encode(f.sha256)}});
  }
  return json{{"format", kFormat},
              {"ledger_id", ledger_id},
              {"node_id", node_id},
              {"raft_id", raft_id},
              {"applied_entry", applied_entry},
              {"log_size", log_size},
              {"root", hex_encode(root)},
              {"state_root", hex_encode(state_root)},
              {"taken_ms", taken_ms},
              {"checkpoint", checkpoint_note},
              {"consistency", proof_json},
              {"signature", base64_encode(signature)},
              {"files", files_json}}
             .dump(2) +
         "\n";
}

Result<BackupManifest> BackupManifest::parse(std::string_view text) {
  const std::string what(kFileName);
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::invalid(what + " is not a JSON object");
  if (j.value("format", "") != kFormat) {
    return Status::invalid(what + " is not of format " + std::string(kFormat));
  }
  BackupManifest m;
  try {
    m.ledger_id = j.at("ledger_id").get<std::string>();
    m.node_id = j.at("node_id").get<std::string>();
    m.raft_id = j.at("raft_id").get<uint64_t>();
    m.applied_entry = j.at("applied_entry").get<uint64_t>();
    m.log_size = j.at("log_size").get<uint64_t>();
    m.taken_ms = j.at("taken_ms").get<uint64_t>();
    auto root = hash_from_hex(j.at("root").get<std::string>());
    auto state_root = hash_from_hex(j.at("state_root").get<std::string>());
    if (!root || !state_root) return Status::invalid(what + ": a root is not 64 hex digits");
    m.root = *root;
    m.state_root = *state_root;
    m.checkpoint_note = j.value("checkpoint", "");
    auto sig = base64_decode(j.value("signature", ""));
    if (!sig) return Status::invalid(what + ": the signature is not base64");
    m.signature = std::move(*sig);
    for (const auto& h : j.value("consistency", json::array())) {
      auto hash = hash_from_hex(h.get<std::string>());
      if (!hash) return Status::invalid(what + ": a consistency proof hash is not 64 hex digits");
      m.consistency.push_back(*hash);
    }
    std::set<std::string> names;
    for (const auto& f : j.at("files")) {
      BackupFile file;
      file.name = f.at("name").get<std::string>();
      file.bytes = f.at("bytes").get<uint64_t>();
      auto digest = hash_from_hex(f.at("sha256").get<std::string>());
      if (!digest)
        return Status::invalid(what + ": " + file.name + "'s sha256 is not 64 hex digits");
      file.sha256 = *digest;
      if (!file.name.starts_with(kLedgerFolder) ||
          !is_plain_name(std::string_view(file.name).substr(kLedgerFolder.size()))) {
        return Status::invalid(what + " lists a file outside ledger/: " + file.name);
      }
      if (!names.insert(file.name).second) {
        return Status::invalid(what + " lists " + file.name + " twice");
      }
      m.files.push_back(std::move(file));
    }
  } catch (const json::exception& e) {
    // The only exceptions: a missing field or one of the wrong type.
    return Status::invalid(what + ": a field is missing or of the wrong type (" +
                           std::string(e.what()) + ")");
  }
  return m;
}

Result<BackupManifest> BackupManifest::load(const std::string& backup_dir) {
  const std::string path = backup_dir + "/" + std::string(kFileName);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid("no " + path + ": not a chipledger backup folder");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxManifestBytes) return Status::corrupt(path + " is too large");
  auto m = parse(text.str());
  if (!m) return m.status().with_code(StatusCode::corrupt).context(path);
  return m;
}

}  // namespace chipledger
