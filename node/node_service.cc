#include "node/node_service.h"

#include <chrono>
#include <filesystem>

#include "ledger/rocks_store.h"
#include "node/api.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "node/http_server.h"

namespace chipledger {
namespace {

uint64_t system_clock_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

struct NodeService::Parts {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<CheckpointPublisher> checkpoints;
  std::unique_ptr<BlockSequencer> sequencer;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> server;
};

Result<std::unique_ptr<NodeService>> NodeService::open(const NodeConfig& config) {
  auto consortium = Consortium::load_file(config.consortium_file);
  if (!consortium) return consortium.status();
  const NodeInfo* me = consortium->node(config.node_id);
  if (!me) {
    return Result<std::unique_ptr<NodeService>>::error(
        "node id '" + config.node_id + "' is not listed in " + config.consortium_file);
  }
  auto key = PrivateKey::load_file(config.key_file);
  if (!key) return key.status().context("node key");
  if (key->public_key().der() != me->key.der()) {
    return Result<std::unique_ptr<NodeService>>::error("the node key " + config.key_file +
                                                       " is not the key the consortium lists for " +
                                                       config.node_id);
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  auto store = RocksStore::open(config.data_dir + "/ledger");
  if (!store) return store.status();
  auto ledger = Ledger::open(std::move(*store), std::move(*consortium));
  if (!ledger) return ledger.status();

  auto parts = std::make_unique<Parts>();
  parts->ledger = std::move(*ledger);
  parts->checkpoints =
      std::make_unique<CheckpointPublisher>(*parts->ledger, config.node_id, std::move(*key));
  CL_TRY(parts->checkpoints->refresh());
  CheckpointPublisher* cps = parts->checkpoints.get();
  parts->sequencer = std::make_unique<BlockSequencer>(
      *parts->ledger, system_clock_ms,
      BlockSequencer::Options{std::chrono::milliseconds(config.block_max_wait_ms),
                              config.block_max_transactions},
      [cps] { (void)cps->refresh(); });
  parts->api =
      std::make_unique<Api>(*parts->ledger, *parts->sequencer, *parts->checkpoints, config.node_id);
  Api* api = parts->api.get();
  HttpServerOptions http{config.listen_address, config.listen_port, config.max_body_bytes,
                         config.http_threads};
  auto server = HttpServer::bind(http, [api](HttpRequest req, Responder respond) {
    api->handle(std::move(req), std::move(respond));
  });
  if (!server) return server.status();
  parts->server = std::move(*server);
  return std::unique_ptr<NodeService>(new NodeService(std::move(parts)));
}

NodeService::NodeService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

NodeService::~NodeService() { stop(); }

Status NodeService::start() {
  parts_->sequencer->start();
  parts_->server->start();
  return Status::ok();
}

void NodeService::stop() {
  if (!parts_) return;
  parts_->sequencer->stop();  // answers every queued submission first
  parts_->server->stop();
}

uint16_t NodeService::port() const { return parts_->server->port(); }

bool NodeService::failed() const { return parts_->sequencer->failed(); }

}  // namespace chipledger
