#include "node/backup_commands.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"
#include "ledger/rocks_store.h"
#include "net/http_client.h"
#include "net/url.h"
#include "node/admin_client.h"
#include "node/backup_request.h"
#include "node/backup_service.h"
#include "node/data_folder_lock.h"

namespace chipledger {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kPartial = ".partial";
constexpr auto kBackupTimeout = std::chrono::minutes(5);
constexpr auto kEvidenceWait = std::chrono::seconds(60);

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// The node's API as seen from its own host.
std::string local_api_url(const NodeConfig& config) {
  std::string host = config.listen_address;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  return node_url(config.api_over_tls(), host, config.listen_port);
}

Result<std::unique_ptr<HttpClient>> node_client(const NodeConfig& config,
                                                const std::string& node_url) {
  if (node_url.empty() && config.listen_port == 0) {
    return Status::invalid("the node listens on port 0 (any free one): give --node URL");
  }
  AdminTarget target{node_url.empty() ? local_api_url(config) : node_url};
  if (config.api_over_tls()) {
    target.ca_file = config.tls_ca_file;
    target.tls_cert_file = config.tls_cert_file;
    target.tls_key_file = config.tls_key_file;
  }
  auto options = admin_client_options(target, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::milliseconds(kBackupTimeout)));
  if (!options) return options.status();
  return HttpClient::connect_to(target.node_url, *options);
}

// The node's answer to the backup request: where the checkpoint is and the
// point it holds. The staging folder must be one of this node's.
Result<BackupManifest> parse_answer(const NodeConfig& config, const std::string& body,
                                    std::string& staging) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("staging")) {
    return Status::error("the node's backup answer is not what docs/backup.md says");
  }
  BackupManifest m;
  j["format"] = BackupManifest::kFormat;
  j["files"] = json::array();
  staging = j.value("staging", "");
  j.erase("staging");
  auto parsed = BackupManifest::parse(j.dump());
  if (!parsed) return parsed.status().context("the node's backup answer");
  const fs::path ours =
      fs::absolute(BackupService::backups_dir(config.data_dir)).lexically_normal();
  const fs::path theirs = fs::path(staging).lexically_normal();
  if (theirs.parent_path() != ours || !theirs.filename().string().starts_with("staging-")) {
    return Status::error("the node answered a staging folder outside " + ours.string() + ": " +
                         staging);
  }
  return parsed;
}

// The newest quorum-signed checkpoint the node serves, once it covers
// `size` (the backup's), with the consistency proof from `size` to it: the
// evidence restore checks the backup against. The quorum is judged by the
// trust file's nodes here (a pre-check; restore judges by the nodes in
// force at the checkpoint's size).
Status fetch_checkpoint_evidence(HttpClient& client, const Consortium& genesis, BackupManifest& m) {
  const auto deadline = std::chrono::steady_clock::now() + kEvidenceWait;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = client.get("/v1/checkpoint?wait_ms=2000");
    if (reply && reply->status == 200) {
      auto cp = verify_checkpoint(genesis, reply->body);
      if (!cp) {
        last = cp.reason();
      } else if (cp->checkpoint.size < m.log_size) {
        last = "the newest has " + std::to_string(cp->checkpoint.size) + " entries";
      } else {
        std::vector<Hash> proof;
        if (cp->checkpoint.size > m.log_size) {
          auto p = client.get("/v1/proofs/consistency?from=" + std::to_string(m.log_size) +
                              "&to=" + std::to_string(cp->checkpoint.size));
          if (!p || p->status != 200) return Status::error("the node gives no consistency proof");
          auto j = json::parse(p->body, nullptr, false);
          if (!j.is_object() || !j["proof"].is_array()) {
            return Status::error("the node's consistency proof is not JSON");
          }
          for (const auto& h : j["proof"]) {
            auto hash = h.is_string() ? hash_from_hex(h.get<std::string>())
                                      : Result<Hash>::error("not a string");
            if (!hash) return Status::error("the node's consistency proof has a bad hash");
            proof.push_back(*hash);
          }
        }
        m.checkpoint_note = reply->body;
        m.consistency = std::move(proof);
        return Status::ok();
      }
    } else {
      last = reply ? "HTTP " + std::to_string(reply->status) : reply.reason();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Status::error(
      "no checkpoint signed by a quorum of the trust file's nodes covers the "
      "backup's " +
      std::to_string(m.log_size) + " entries (" + last + ")");
}

// The backup's ledger is the one a quorum signed: the evidence's
// checkpoint verifies against the nodes in force at its size, and its root
// is, or extends (consistency proof), the restored ledger's root.
Result<std::string> check_checkpoint_evidence(const Ledger& ledger, const BackupManifest& m) {
  if (m.checkpoint_note.empty()) {
    return Status::corrupt("the backup holds no quorum-signed checkpoint");
  }
  auto note = parse_note(m.checkpoint_note);
  if (!note) return note.status().context("the backup's checkpoint");
  auto body = Checkpoint::parse(note->text);
  if (!body) return body.status().context("the backup's checkpoint");
  auto cp = verify_checkpoint(*ledger.consortium_at(body->size), m.checkpoint_note);
  if (!cp) return cp.status().context("the backup's checkpoint");
  const uint64_t size = ledger.size();
  auto root = ledger.root_at(size);
  if (!root) return root.status();
  const Checkpoint& signed_cp = cp->checkpoint;
  if (signed_cp.size < size) {
    return Status::corrupt("the backup's checkpoint (" + std::to_string(signed_cp.size) +
                           " entries) is older than its ledger (" + std::to_string(size) + ")");
  }
  if (signed_cp.size == size) {
    auto state_root = ledger.state_root_at(size);
    if (signed_cp.root != *root || !state_root || signed_cp.state_root() != *state_root) {
      return Status::corrupt(
          "the backup's ledger is not the one its quorum-signed checkpoint "
          "commits to");
    }
  } else if (Status st = merkle::verify_consistency(size, signed_cp.size, *root, signed_cp.root,
                                                    m.consistency);
             !st) {
    return Status::corrupt(
        "the backup's ledger is not a prefix of its quorum-signed checkpoint's "
        "log: " +
        st.reason());
  }
  std::string signers;
  for (const auto& s : cp->signers) signers += (signers.empty() ? "" : " ") + s;
  return "checkpoint " + std::to_string(signed_cp.size) + " signed by " + signers;
}

// The manifest is signed by the node it names, with the key the restored
// ledger's consortium gives that node.
Status check_manifest_signature(const Ledger& ledger, const BackupManifest& m) {
  for (const auto& n : ledger.consortium()->nodes()) {
    if (n.id != m.node_id) continue;
    if (n.key.verify(as_bytes(m.signed_text()), m.signature)) return Status::ok();
    return Status::corrupt("the backup's backup.json is not signed by node " + m.node_id +
                           "'s key: its Raft entry and point are nobody's word");
  }
  return Status::corrupt("the backup names node " + m.node_id +
                         ", which is not a node of its ledger's consortium");
}

// Empty or absent.
bool holds_nothing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

}  // namespace

std::string restore_marker_path(const std::string& data_dir) { return data_dir + "/restored.json"; }

Result<RestoreMarker> read_restore_marker(const std::string& data_dir) {
  const std::string path = restore_marker_path(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return RestoreMarker{};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("applied_entry") ||
      !j["applied_entry"].is_number_unsigned() || !j.value("started", json(false)).is_boolean()) {
    return Status::corrupt(path + " is not what chipledger-node restore writes");
  }
  return RestoreMarker{j["applied_entry"].get<uint64_t>(), j.value("started", false)};
}

Status write_restore_marker(const std::string& data_dir, uint64_t applied_entry, bool started) {
  const std::string path = restore_marker_path(data_dir);
  json marker{{"applied_entry", applied_entry}, {"started", started}};
  CL_TRY(write_file_synced(path + ".tmp", marker.dump(2) + "\n"));
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return Status::io("cannot write " + path + ": " + ec.message());
  return sync_folder(data_dir);
}

Result<BackupManifest> take_backup(const NodeConfig& config, const std::string& to,
                                   const std::string& node_url) {
  std::error_code ec;
  const std::string partial = to + std::string(kPartial);
  if (fs::exists(to, ec)) return Status::invalid(to + " exists: give a new folder for the backup");
  if (fs::exists(partial, ec)) {
    return Status::invalid(partial + " exists (left by a backup that failed): remove it first");
  }
  auto consortium = Consortium::load_file(config.consortium_file);
  if (!consortium) return consortium.status();
  auto key = PrivateKey::load_file(config.key_file);
  if (!key) return key.status().context("node key");
  auto request = BackupRequest::sign(*key, consortium->ledger_id(), config.node_id, now_ms());
  if (!request) return request.status();

  auto client = node_client(config, node_url);
  if (!client) return client.status();
  auto reply = (*client)->post("/v1/admin/backup", request->to_json());
  if (!reply) return reply.status().context("asking the node for a backup (is it running?)");
  if (reply->status != 200) {
    auto j = json::parse(reply->body, nullptr, false);
    std::string why = j.is_object() ? j.value("error", reply->body) : reply->body;
    return Status::error("the node refused the backup (HTTP " + std::to_string(reply->status) +
                         "): " + why);
  }
  std::string staging;
  auto manifest = parse_answer(config, reply->body, staging);
  if (!manifest) return manifest.status();

  Status done = [&]() -> Status {
    if (!fs::create_directory(partial, ec)) return Status::io("cannot create " + partial);
    // The staging folder's time says it is in use (the node refuses
    // another backup meanwhile, docs/backup.md): kept current per file.
    auto touch = [&] {
      std::error_code touched;
      fs::last_write_time(staging, fs::file_time_type::clock::now(), touched);
    };
    auto files =
        copy_folder_files(staging + "/ledger", partial + "/ledger", "ledger/", nullptr, touch);
    if (!files) return files.status();
    manifest->files = std::move(*files);
    CL_TRY(fetch_checkpoint_evidence(**client, *consortium, *manifest));
    auto sig = key->sign(as_bytes(manifest->signed_text()));
    if (!sig) return sig.status().context("signing the backup's manifest");
    manifest->signature = std::move(*sig);
    CL_TRY(write_file_synced(partial + "/" + std::string(BackupManifest::kFileName),
                             manifest->to_json()));
    fs::rename(partial, to, ec);
    if (ec) return Status::io("cannot rename " + partial + " to " + to + ": " + ec.message());
    const std::string parent = fs::absolute(to).parent_path().string();
    return sync_folder(parent);
  }();
  fs::remove_all(staging, ec);  // the node's hard links: the copy has the data
  if (!done) return done;
  return manifest;
}

Result<RestoredBackup> restore_backup(const NodeConfig& config, const std::string& from,
                                      RestoreOptions options) {
  const fs::path data(config.data_dir);
  // Held to the end: no node starts on the folder meanwhile, and no second
  // restore removes this one's scratch folder.
  auto data_lock = DataFolderLock::acquire(config.data_dir, "chipledger-node restore");
  if (!data_lock) return data_lock.status();
  for (const char* part : {"ledger", "raft"}) {
    if (!holds_nothing(data / part)) {
      return Status::invalid((data / part).string() +
                             " holds data: a backup is restored only into an empty data folder "
                             "(stop the node and move the folder aside first)");
    }
  }
  if (fs::exists(restore_marker_path(config.data_dir))) {
    return Status::invalid(restore_marker_path(config.data_dir) +
                           " exists: this data folder was restored into before (move it aside)");
  }
  auto manifest = BackupManifest::load(from);
  if (!manifest) return manifest.status();
  // A member never comes back as itself: its old term and vote are gone
  // with its Raft folder (docs/backup.md).
  if (!options.new_cluster &&
      (manifest->node_id == config.node_id || manifest->raft_id == config.raft_id)) {
    return Status::invalid("the backup is node " + manifest->node_id + "'s (Raft id " +
                           std::to_string(manifest->raft_id) +
                           "): a restored node joins as a new member, with another node id and "
                           "Raft id voted in (docs/backup.md)");
  }
  auto consortium = Consortium::load_file(config.consortium_file);
  if (!consortium) return consortium.status();
  if (manifest->ledger_id != consortium->ledger_id()) {
    return Status::invalid("the backup is of ledger " + manifest->ledger_id + ", the trust file " +
                           config.consortium_file + " of " + consortium->ledger_id());
  }

  std::error_code ec;
  fs::create_directories(data, ec);
  const fs::path scratch = data / "restore.partial";
  fs::remove_all(scratch, ec);  // a restore that stopped part way: its own folder
  if (!fs::create_directory(scratch, ec)) return Status::io("cannot create " + scratch.string());
  std::string signed_by;
  Status done = [&]() -> Status {
    // 1. The files, as the manifest lists them.
    auto copied = copy_folder_files(from + "/ledger", (scratch / "source").string(), "ledger/",
                                    &manifest->files);
    if (!copied) return copied.status();
    // 2. The checkpoint opens and holds the manifest's point.
    Bytes snapshot;
    {
      auto store = RocksStore::open((scratch / "source").string());
      if (!store) return store.status().context("opening the backup");
      auto source = Ledger::open(std::move(*store), *consortium);
      if (!source) return source.status().context("opening the backup's ledger");
      auto root = (*source)->root_at((*source)->size());
      if (!root) return root.status();
      if ((*source)->size() != manifest->log_size ||
          (*source)->applied_entry() != manifest->applied_entry || *root != manifest->root) {
        return Status::corrupt(
            "the backup's ledger (" + std::to_string((*source)->size()) + " entries, Raft entry " +
            std::to_string((*source)->applied_entry()) +
            ") is not the point its backup.json names (" + std::to_string(manifest->log_size) +
            " entries, Raft entry " + std::to_string(manifest->applied_entry) + ")");
      }
      auto bytes = (*source)->snapshot();
      if (!bytes) return bytes.status();
      snapshot = std::move(*bytes);
    }
    fs::remove_all(scratch / "source", ec);
    // 3. Checked as a peer's snapshot is (the replay), written, reopened.
    {
      auto store = RocksStore::open((scratch / "ledger").string());
      if (!store) return store.status();
      auto target = Ledger::open(std::move(*store), *consortium);
      if (!target) return target.status();
      auto restored = (*target)->restore(
          snapshot, Ledger::RestoreOptions{.forget_raft_entry = options.new_cluster});
      if (!restored) return restored.status().context("the backup does not check");
      auto root = (*target)->root_at((*target)->size());
      auto state_root = (*target)->state_root_at((*target)->size());
      if (!root || !state_root) return Status::error("the restored ledger gives no root");
      if (*root != manifest->root || *state_root != manifest->state_root) {
        return Status::corrupt("the restored ledger's roots are not the backup's");
      }
      auto evidence = check_checkpoint_evidence(**target, *manifest);
      if (!evidence) return evidence.status();
      CL_TRY(check_manifest_signature(**target, *manifest));
      signed_by = std::move(*evidence);
    }
    // The marker first: a ledger in place without it could not start.
    if (!options.new_cluster && manifest->applied_entry > 0) {
      CL_TRY(write_restore_marker(config.data_dir, manifest->applied_entry, false));
    }
    fs::rename(scratch / "ledger", data / "ledger", ec);
    if (ec) {
      fs::remove(restore_marker_path(config.data_dir), ec);
      return Status::io("cannot move the restored ledger into place: " + ec.message());
    }
    return sync_folder(config.data_dir);
  }();
  fs::remove_all(scratch, ec);
  if (!done) return done;
  return RestoredBackup{std::move(*manifest), std::move(signed_by)};
}

}  // namespace chipledger
