// `chipledger-node backup` and `chipledger-node restore` (docs/backup.md):
// the operator's side of a backup. take_backup asks the running node for a
// checkpoint (a request signed with the node's key) and copies it out with
// a manifest of digests; restore_backup checks a backup folder (manifest,
// digests, the ledger against a replay of its log, as a Raft snapshot from
// a peer is checked) and only then writes it into an empty data folder.
#pragma once

#include <string>

#include "crypto/result.h"
#include "node/backup_manifest.h"
#include "node/node_config.h"

namespace chipledger {

// Writes backup folder `to` (which must not exist) from the node `config`
// runs; the node must be running. `node_url`: its API, when not the one
// config's listen setting gives (a node on port 0).
Result<BackupManifest> take_backup(const NodeConfig& config, const std::string& to,
                                   const std::string& node_url = "");

struct RestoreOptions {
  // Start a new Raft log (disaster recovery): the ledger forgets its Raft
  // entry. Without it the node joins a running cluster ([raft] join).
  bool new_cluster = false;
};
struct RestoredBackup {
  BackupManifest manifest;
  std::string evidence;  // "checkpoint S signed by A B": what the ledger was checked against
};
// Restores backup folder `from` into config's data folder, which must hold
// no ledger and no Raft log. The node must not be running.
Result<RestoredBackup> restore_backup(const NodeConfig& config, const std::string& from,
                                      RestoreOptions options);

// data_dir/restored.json: written by a restore that keeps its Raft entry
// (a node joining a running cluster). It lets the node start with a Raft
// log that ends before the ledger's applied entry, until the ledger applies
// a later one; once the node started with it (`started`, which the node
// sets), only with a Raft folder that holds state (a term, a vote or
// entries), so a Raft folder lost after that start is still refused.
struct RestoreMarker {
  uint64_t applied_entry = 0;  // 0: no marker
  bool started = false;
};
std::string restore_marker_path(const std::string& data_dir);
Result<RestoreMarker> read_restore_marker(const std::string& data_dir);
Status write_restore_marker(const std::string& data_dir, uint64_t applied_entry, bool started);

}  // namespace chipledger
