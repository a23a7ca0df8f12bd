// The node's HTTP/JSON API (docs/api.md) as a plain request -> response
// router over the ledger, the block sequencer and the checkpoint publisher.
// Knows nothing of sockets; node/http_server.h carries its requests.
#pragma once

#include <string>

#include "ledger/ledger.h"
#include "node/block_sequencer.h"
#include "node/checkpoint_publisher.h"
#include "node/http_types.h"

namespace chipledger {

class Api {
 public:
  Api(const Ledger& ledger, BlockSequencer& sequencer, const CheckpointPublisher& checkpoints,
      std::string node_id)
      : ledger_(ledger),
        sequencer_(sequencer),
        checkpoints_(checkpoints),
        node_id_(std::move(node_id)) {}

  void handle(HttpRequest request, Responder respond);

 private:
  void submit(const HttpRequest& request, Responder respond);
  HttpResponse chip(const std::string& serial) const;
  HttpResponse license(const std::string& id) const;
  HttpResponse history(const std::string& serial, const std::string& query) const;
  HttpResponse histories(const std::string& body) const;
  HttpResponse consistency(const std::string& query) const;
  HttpResponse health() const;
  HttpResponse members() const;
  HttpResponse checkpoint(const std::string& query) const;

  const Ledger& ledger_;
  BlockSequencer& sequencer_;
  const CheckpointPublisher& checkpoints_;
  std::string node_id_;
};

// Small helpers shared with tests.
HttpResponse json_error(int status, const std::string& message);
Result<std::string> percent_decode(std::string_view s);

}  // namespace chipledger
