// The request that asks a running node for a backup (docs/backup.md): signed
// with the node's own key, so only whoever holds that key (the node's
// operator) can make the node write a checkpoint. The signed text names the
// ledger, the node, the time and a nonce; the node checks all four.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/keys.h"
#include "crypto/result.h"

namespace chipledger {

struct BackupRequest {
  std::string ledger_id;
  std::string node_id;
  uint64_t time_ms = 0;
  std::string nonce;  // 32 lowercase hex digits
  Bytes signature;

  // What the signature covers: five lines, docs/backup.md.
  std::string signed_text() const;
  // The JSON body POST /v1/admin/backup carries.
  std::string to_json() const;
  // A well-formed body (every field, of its type and form; nothing else).
  static Result<BackupRequest> parse(std::string_view body);
  // A new request with a fresh random nonce, signed with `key`.
  static Result<BackupRequest> sign(const PrivateKey& key, std::string ledger_id,
                                    std::string node_id, uint64_t time_ms);
  bool verify(const PublicKey& key) const;
};

}  // namespace chipledger
