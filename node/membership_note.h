// A Raft membership change note (POST /v1/admin/membership, docs/api.md
// "Membership"): its text, and the check that a node runs on one it
// receives. The check runs cheapest first and bounds the work before any
// signature is verified: the note's size (at most kMaxMembershipNoteBytes)
// before anything is parsed, its signature lines (at most
// kMaxMembershipSignatures) while they are parsed, then its form, ledger id,
// time window and canonical text; only then are the signatures by listed
// node keys verified, each over a text of a few dozen bytes. A hostile note
// costs a size comparison, not megabytes of Ed25519.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/consortium.h"

namespace chipledger {

// A note over this many bytes is refused (413) before it is parsed; a
// canonical change with a few signatures is a few hundred bytes.
inline constexpr size_t kMaxMembershipNoteBytes = 8192;
// A change needs one signature by a listed node key; a note with more lines
// than this is refused (400) before any is verified.
inline constexpr size_t kMaxMembershipSignatures = 4;
// How far a change's time may be from the receiving node's clock.
inline constexpr uint64_t kMembershipWindowMs = 5 * 60 * 1000;

// A Raft membership change an administrator asked for: op "add" (id,
// address), "assign" (id, role) or "remove" (id).
struct MembershipRequest {
  std::string op;
  uint64_t id = 0;
  std::string address;
  std::string role;
};

// The text an administrator signs for a membership change, as a C2SP signed
// note body (docs/api.md): what `chipledger-node admin` sends.
std::string membership_note_text(const std::string& ledger_id, const MembershipRequest& r,
                                 uint64_t time_ms);

// What check_membership_note found: a change to make (status 200), or the
// HTTP status and reason refusing the note (400 malformed or not canonical,
// 403 another ledger, an old time or no valid signature by a listed node
// key, 413 over kMaxMembershipNoteBytes).
struct MembershipCheck {
  int status = 200;
  std::string reason;
  MembershipRequest change;
  std::string change_line;  // e.g. "add 4 127.0.0.1:7004"
  std::string signer;       // the node id whose key signed it
};

// Checks `wire` against `consortium` at this node's wall clock `now_ms`.
MembershipCheck check_membership_note(std::string_view wire, const Consortium& consortium,
                                      uint64_t now_ms);

}  // namespace chipledger
