// chipledger-node: `init --dir DIR` writes a dev consortium; `--config FILE`
// runs a node until SIGINT/SIGTERM. Exceptions stop at this edge.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "node/dev_consortium.h"
#include "node/node_config.h"
#include "node/node_service.h"

namespace {

int run_init(const std::string& dir, uint16_t port, const std::string& ledger_id) {
  auto dev = chipledger::write_dev_consortium({dir, ledger_id, port});
  if (!dev) {
    std::cerr << "chipledger-node init: " << dev.reason() << "\n";
    return 1;
  }
  std::cout << "wrote a dev consortium for ledger " << dev->ledger_id << "\n"
            << "  trust file:  " << dev->consortium_file << "\n"
            << "  node config: " << dev->node_config_file << "\n"
            << "  member keys: " << dir
            << "/keys/{maker,distributor,datacenter,regulator,auditor}.pem\n"
            << "run it with: chipledger-node --config " << dev->node_config_file << "\n";
  return 0;
}

int run_node(const std::string& config_file) {
  auto config = chipledger::NodeConfig::load_file(config_file);
  if (!config) {
    std::cerr << "chipledger-node: " << config.reason() << "\n";
    return 2;
  }
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = chipledger::NodeService::open(*config);
  if (!node) {
    std::cerr << "chipledger-node: " << node.reason() << "\n";
    return 1;
  }
  if (auto st = (*node)->start(); !st) {
    std::cerr << "chipledger-node: " << st.reason() << "\n";
    return 1;
  }
  std::cout << "chipledger-node " << config->node_id << " listening on http://"
            << config->listen_address << ":" << (*node)->port() << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "chipledger-node: stopping on signal " << sig << std::endl;
  (*node)->stop();
  return (*node)->failed() ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chipledger-node: a chipledger custody ledger node"};
  std::string config_file;
  app.add_option("--config", config_file, "node config file (node.toml)");
  auto* init = app.add_subcommand("init", "write a development consortium into a folder");
  std::string dir;
  uint16_t port = 7800;
  std::string ledger_id;
  init->add_option("--dir", dir, "folder to write into")->required();
  init->add_option("--port", port, "API port the node config will use")->default_val(7800);
  init->add_option("--ledger-id", ledger_id, "ledger id (default: chipledger.dev/dev-RANDOM)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*init) return run_init(dir, port, ledger_id);
  if (config_file.empty()) {
    std::cerr << "chipledger-node: give --config FILE to run a node, or `init --dir DIR`\n";
    return 2;
  }
  return run_node(config_file);
}
