// The benchmark's scenarios. Each prepares what it submits (serials
// registered, transactions signed, request bodies encoded) before its clock
// starts, drives the node over HTTP, and returns its figures as JSON with
// the machine's signature-verification limit and the ratio to it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/limit.h"
#include "crypto/keys.h"
#include "crypto/result.h"
#include "ledger/consortium.h"
#include "net/tls_context.h"

namespace chipledger::bench {

// The node under test and the dev consortium it runs (`chipledger-node init`).
struct Target {
  std::string url;
  std::string dir;  // keys/MEMBER.pem and consortium.json
  pid_t pid = -1;   // known when the benchmark started the node: its memory is reported
  std::vector<pid_t> followers;  // a cluster's other nodes (their CPU is reported too)
  TlsContextPtr tls = nullptr;   // an https:// node: checked against DIR/tls/ca.pem
};

struct Members {
  Consortium consortium;
  PrivateKey maker;        // manufacturer: registers, sends the first transfer
  PrivateKey distributor;  // accepts
};
Result<Members> load_members(const std::string& dir);

struct ScenarioOptions {
  size_t count = 0;  // transfers / serials / verifications
  unsigned concurrency = 1;
  size_t batch = 0;        // serials per register transaction
  size_t pool = 0;         // verify: distinct serials to pick from
  size_t per_request = 1;  // transfers: transactions per POST (1: /v1/transactions, else /batch)
  size_t rack = 1;         // verify: serials per request, as `verify --csv` does (1: one GET each)
  std::string tag;         // makes this run's serials unique on a reused node
  unsigned prep_threads = 1;
};

Result<nlohmann::json> run_transfers(const Target& target, const Members& members,
                                     const SignatureLimit& limit, const ScenarioOptions& o);
Result<nlohmann::json> run_register(const Target& target, const Members& members,
                                    const SignatureLimit& limit, const ScenarioOptions& o);
Result<nlohmann::json> run_verify(const Target& target, const Members& members,
                                  const SignatureLimit& limit, const ScenarioOptions& o);

}  // namespace chipledger::bench
