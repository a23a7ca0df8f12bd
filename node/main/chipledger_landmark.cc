// chipledger-landmark (docs/location.md, section 5): `--config FILE` serves
// the challenge protocol until SIGINT/SIGTERM; `keygen --out FILE` writes
// a landmark key and prints its public key for the trust file.
// Exceptions stop at this edge.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "crypto/keys.h"
#include "net/url.h"
#include "node/http_server.h"
#include "node/landmark_config.h"
#include "node/landmark_service.h"

namespace {

int run_keygen(const std::string& out) {
  auto key = chipledger::PrivateKey::generate(chipledger::KeyAlgorithm::ed25519);
  if (!key) {
    std::cerr << "chipledger-landmark keygen: " << key.reason() << "\n";
    return 1;
  }
  if (auto st = key->save_file(out); !st) {
    std::cerr << "chipledger-landmark keygen: " << st.reason() << "\n";
    return 1;
  }
  std::cout << "wrote the landmark's ed25519 key to " << out << " (mode 0600)\n"
            << "its public key, for the trust file's landmark entry (\"key\"):\n"
            << key->public_key().pem();
  return 0;
}

int run_landmark(const std::string& config_file) {
  auto config = chipledger::LandmarkConfig::load_file(config_file);
  if (!config) {
    std::cerr << "chipledger-landmark: " << config.reason() << "\n";
    return 2;
  }
  auto key = chipledger::PrivateKey::load_file(config->key_file);
  if (!key) {
    std::cerr << "chipledger-landmark: " << key.reason() << "\n";
    return 2;
  }
  if (key->algorithm() != chipledger::KeyAlgorithm::ed25519) {
    std::cerr << "chipledger-landmark: " << config->key_file
              << ": a landmark signs with an Ed25519 key (chipledger-landmark keygen)\n";
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string id = config->options.id;
  std::shared_ptr<chipledger::LandmarkService> service =
      chipledger::LandmarkService::with_system_clocks(config->options, std::move(*key));
  chipledger::HttpServerOptions options;
  options.address = config->listen_address;
  options.port = config->listen_port;
  options.max_body_bytes = 4096;
  auto server = chipledger::HttpServer::bind(
      options, [service](chipledger::HttpRequest req, chipledger::Responder respond) {
        respond(service->handle(req));
      });
  if (!server) {
    std::cerr << "chipledger-landmark: " << server.reason() << "\n";
    return 1;
  }
  (*server)->start();
  std::cout << "chipledger-landmark " << id << " listening on "
            << chipledger::http_url(config->listen_address, (*server)->port()) << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "chipledger-landmark: stopping on signal " << sig << std::endl;
  (*server)->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chipledger-landmark: times chips' answers and signs location statements"};
  app.require_subcommand(0, 1);
  std::string config_file;
  app.add_option("--config", config_file, "the landmark's configuration file (TOML)");
  std::string out;
  auto* keygen = app.add_subcommand("keygen", "write a new Ed25519 landmark key");
  keygen->add_option("--out", out, "where to write the private key (PEM, mode 0600)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*keygen) return run_keygen(out);
  if (config_file.empty()) {
    std::cerr << "chipledger-landmark: give --config FILE (or keygen --out FILE)\n";
    return 2;
  }
  return run_landmark(config_file);
}
