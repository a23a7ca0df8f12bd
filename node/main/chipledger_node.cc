// chipledger-node: `init --dir DIR [--nodes N] [--template FILE]` writes a
// dev consortium (N > 1: a local cluster); `--config FILE` runs a node until SIGINT/SIGTERM;
// `backup --config FILE --to DIR` and `restore --config FILE --from DIR [--new-cluster]`
// (docs/backup.md).
// Exceptions stop at this edge.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "net/url.h"
#include "node/admin_client.h"
#include "node/backup_commands.h"
#include "node/dev_consortium.h"
#include "node/node_config.h"
#include "node/node_log.h"
#include "node/node_service.h"

namespace {

int run_init(const chipledger::DevConsortiumOptions& options) {
  auto dev = chipledger::write_dev_consortium(options);
  if (!dev) {
    std::cerr << "chipledger-node init: " << dev.reason() << "\n";
    return 1;
  }
  std::string members;
  for (const auto& m : dev->members) members += (members.empty() ? "" : ",") + m;
  std::cout << "wrote a dev consortium for ledger " << dev->ledger_id << "\n"
            << "  trust file:  " << dev->consortium_file
            << (options.plain_http ? "\n" : " (with the dev CA as tls_ca)\n");
  if (options.plain_http) {
    std::cout << "  the API answers plain HTTP ([api] plain_http = true): development only\n";
  } else {
    std::cout << "  the API answers HTTPS with the certificates in " << options.dir << "/tls\n";
  }
  if (dev->nodes.size() == 1) {
    std::cout << "  node config: " << dev->node_config_file << " (node " << dev->node_id << ")\n"
              << "  member keys: " << options.dir << "/keys/{" << members << "}.pem\n"
              << "run it with: chipledger-node --config " << dev->node_config_file << "\n";
    return 0;
  }
  std::cout << "  " << dev->nodes.size() << " nodes, checkpoint quorum " << dev->quorum << ":\n";
  for (const auto& n : dev->nodes) {
    std::cout << "    " << n.id << " (" << n.member << "): " << n.config_file << ", API "
              << n.api_url << "\n";
  }
  std::cout << "  member keys: " << options.dir << "/keys/{" << members << "}.pem\n"
            << "run each with: chipledger-node --config FILE (or scripts/cluster.sh start "
            << options.dir << ")\n";
  return 0;
}

int run_node(const std::string& config_file) {
  auto config = chipledger::NodeConfig::load_file(config_file);
  if (!config) {
    std::cerr << "chipledger-node: " << config.reason() << "\n";
    return 2;
  }
  // load_file checked both names.
  chipledger::configure_node_log(*chipledger::parse_log_level(config->log_level),
                                 *chipledger::parse_log_format(config->log_format));
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // not a stop: reload the TLS certificate
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Fail-stop (the node's log disagrees with a checkpoint it signed): the
  // stop signal this thread waits for, so the node closes as on SIGTERM and
  // the exit code says it failed.
  auto node =
      chipledger::NodeService::open(*config, [](const std::string&) { kill(getpid(), SIGTERM); });
  using chipledger::LogLevel;
  using chipledger::LogLine;
  if (!node) {
    LogLine(LogLevel::error) << "chipledger-node: " << node.reason();
    return 1;
  }
  if (auto st = (*node)->start(); !st) {
    LogLine(LogLevel::error) << "chipledger-node: " << st.reason();
    return 1;
  }
  if (!config->api_over_tls()) {
    LogLine(LogLevel::warn)
        << "chipledger-node " << config->node_id
        << ": WARNING: the API answers plain HTTP: development only; anyone on the path "
           "can rewrite answers; proofs are still checked by clients";
  }
  const std::string url =
      chipledger::node_url(config->api_over_tls(), config->listen_address, (*node)->port());
  // The one line on stdout: scripts and tests wait for it.
  std::cout << "chipledger-node " << config->node_id << " listening on " << url << std::endl;
  // Not the stdout line's words: a script reading both streams finds one.
  LogLine(LogLevel::info) << "chipledger-node " << config->node_id << ": serving the API at " << url
                          << " (log level " << config->log_level << ", " << config->log_format
                          << ")";
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    if (auto st = (*node)->reload_tls(); !st) {
      LogLine(LogLevel::warn) << "chipledger-node: SIGHUP: the TLS certificate was not reloaded: "
                              << st.reason() << " (the node goes on with the one it has)";
    }
  }
  LogLine(LogLevel::info) << "chipledger-node: stopping on signal " << sig;
  (*node)->stop();
  return (*node)->failed() ? 3 : 0;
}

int run_admin(const chipledger::AdminTarget& target) {
  auto m = chipledger::list_members(target);
  if (!m) {
    std::cerr << "chipledger-node admin members: " << m.reason() << "\n";
    return 1;
  }
  std::cout << *m << "\n";
  return 0;
}

// 2: nothing was done because of the arguments or the folders; 1: it
// failed (the node refused, the backup does not check, I/O).
int exit_code_of(const chipledger::Status& st) { return st.is_invalid() ? 2 : 1; }

int run_backup(const std::string& config_file, const std::string& to, const std::string& node_url) {
  auto config = chipledger::NodeConfig::load_file(config_file);
  if (!config) {
    std::cerr << "chipledger-node backup: " << config.reason() << "\n";
    return 2;
  }
  auto m = chipledger::take_backup(*config, to, node_url);
  if (!m) {
    std::cerr << "chipledger-node backup: " << m.reason() << "\n";
    return exit_code_of(m.status());
  }
  uint64_t bytes = 0;
  for (const auto& f : m->files) bytes += f.bytes;
  std::cout << "backup of node " << m->node_id << " (ledger " << m->ledger_id << ") in " << to
            << ": " << m->log_size << " log entries, Raft entry " << m->applied_entry << ", root "
            << chipledger::hex_encode(m->root).substr(0, 16) << "…; " << m->files.size()
            << " files, " << bytes << " bytes, each with its SHA-256 in " << to << "/"
            << chipledger::BackupManifest::kFileName << "\n";
  return 0;
}

int run_restore(const std::string& config_file, const std::string& from, bool new_cluster) {
  auto config = chipledger::NodeConfig::load_file(config_file);
  if (!config) {
    std::cerr << "chipledger-node restore: " << config.reason() << "\n";
    return 2;
  }
  if (new_cluster && config->raft_join) {
    std::cerr << "chipledger-node restore: --new-cluster bootstraps a new Raft log, but "
              << config_file << " sets [raft] join = true (the node would wait to be added)\n";
    return 2;
  }
  if (!new_cluster && !config->raft_join) {
    std::cerr << "chipledger-node restore: without --new-cluster the restored node joins a "
                 "running cluster as a new member: set [raft] join = true in "
              << config_file << " (docs/backup.md)\n";
    return 2;
  }
  auto restored = chipledger::restore_backup(*config, from, {new_cluster});
  if (!restored) {
    std::cerr << "chipledger-node restore: " << restored.reason() << "\n";
    return exit_code_of(restored.status());
  }
  const chipledger::BackupManifest* m = &restored->manifest;
  std::cout << "restored ledger " << m->ledger_id << " from " << from << " (node " << m->node_id
            << "'s backup) into " << config->data_dir << "/ledger: " << m->log_size
            << " log entries, root " << chipledger::hex_encode(m->root).substr(0, 16)
            << "…, checked against a replay of its log and " << restored->evidence << "\n";
  if (new_cluster) {
    std::cout << "a new Raft log starts from [raft] peers when the node starts (Raft entry "
              << m->applied_entry << " forgotten)\n";
  } else {
    std::cout << "the node joins its cluster as " << config->node_id << " (Raft id "
              << config->raft_id << ") and fetches the entries after Raft entry "
              << m->applied_entry << "\n";
  }
  std::cout << "start it with: chipledger-node --config " << config_file << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chipledger-node: a chipledger custody ledger node"};
  std::string config_file;
  app.add_option("--config", config_file, "node config file (node.toml)");
  auto* init = app.add_subcommand("init", "write a development consortium into a folder");
  chipledger::DevConsortiumOptions options;
  init->add_option("--dir", options.dir, "folder to write into")->required();
  init->add_option("--port", options.port, "API port the node config will use")->default_val(7800);
  init->add_option("--ledger-id", options.ledger_id,
                   "ledger id (default: the template's, else chipledger.dev/dev-RANDOM)");
  init->add_option("--nodes", options.nodes,
                   "nodes (one per organisation); more than 1: a local cluster, one config "
                   "DIR/node-I.toml per node")
      ->default_val(1)
      ->check(CLI::Range(1, 9));
  init->add_flag("--plain-http", options.plain_http,
                 "the API answers plain HTTP ([api] plain_http = true; development only): "
                 "URLs http://, no tls_ca in the trust file");
  init->add_option("--template", options.template_file,
                   "consortium template (JSON: members without keys, policy; see "
                   "config/demo-consortium.json)");
  // The Raft membership follows the consortium's nodes, changed by
  // governance votes (`chipledger propose add-node ...`, docs/governance.md).
  auto* admin = app.add_subcommand("admin", "look at the Raft cluster's membership");
  admin->require_subcommand(1);
  chipledger::AdminTarget target;
  target.node_url = "https://127.0.0.1:7800";
  auto* members = admin->add_subcommand("members", "the cluster's members as a node knows them");
  members->add_option("--node", target.node_url,
                      "any node's API URL (default https://127.0.0.1:7800)");
  members->add_option("--ca", target.ca_file,
                      "the consortium CA (PEM) the node's certificate must chain to (https)");
  members->add_option("--tls-cert", target.tls_cert_file, "a TLS certificate to present");
  members->add_option("--tls-key", target.tls_key_file, "its key");
  // Backups (docs/backup.md).
  std::string backup_to, backup_node, restore_from;
  bool new_cluster = false;
  auto* backup = app.add_subcommand(
      "backup", "copy the running node's ledger into a new folder, with a manifest of digests");
  backup->add_option("--config", config_file, "the node's config file (node.toml)")->required();
  backup->add_option("--to", backup_to, "the backup folder to write (must not exist)")->required();
  backup->add_option("--node", backup_node,
                     "the node's API URL (default: from node.toml's listen setting)");
  auto* restore = app.add_subcommand(
      "restore", "check a backup and write it into the node's empty data folder (node stopped)");
  restore->add_option("--config", config_file, "the node's config file (node.toml)")->required();
  restore->add_option("--from", restore_from, "the backup folder")->required();
  restore->add_flag("--new-cluster", new_cluster,
                    "start a new Raft log from [raft] peers (disaster recovery); without it the "
                    "node joins a running cluster as a new member ([raft] join = true)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*init) return run_init(options);
  if (*admin) return run_admin(target);
  if (*backup) return run_backup(config_file, backup_to, backup_node);
  if (*restore) return run_restore(config_file, restore_from, new_cluster);
  if (config_file.empty()) {
    std::cerr << "chipledger-node: give --config FILE to run a node, or `init --dir DIR`\n";
    return 2;
  }
  return run_node(config_file);
}
