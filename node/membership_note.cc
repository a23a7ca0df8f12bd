#include "node/membership_note.h"

#include <charconv>
#include <vector>

#include "crypto/signed_note.h"

namespace chipledger {
namespace {

constexpr std::string_view kMembershipHeader = "chipledger membership change v1";

MembershipCheck refuse(int status, std::string reason) {
  MembershipCheck out;
  out.status = status;
  out.reason = std::move(reason);
  return out;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t at = text.find(sep, start);
    if (at == std::string_view::npos) at = text.size();
    out.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

// "add ID ADDRESS", "assign ID ROLE" or "remove ID".
bool parse_change(std::string_view line, MembershipRequest& r) {
  std::vector<std::string_view> words;
  for (auto w : split(line, ' ')) {
    if (!w.empty()) words.push_back(w);
  }
  if (words.size() < 2 || !parse_u64(words[1], r.id) || r.id == 0) return false;
  r.op = std::string(words[0]);
  if (r.op == "add" && words.size() == 3) {
    r.address = std::string(words[2]);
  } else if (r.op == "assign" && words.size() == 3) {
    r.role = std::string(words[2]);
  } else if (!(r.op == "remove" && words.size() == 2)) {
    return false;
  }
  return true;
}

// The id of the first listed node whose key signed `note`'s text, or "".
std::string signer_of(const SignedNote& note, const Consortium& c) {
  for (const auto& sig : note.signatures) {
    const NodeInfo* node = c.node(sig.name);
    if (node && verify_note_signature(note.text, sig, NoteVerifier{node->id, node->key})) {
      return node->id;
    }
  }
  return "";
}

}  // namespace

std::string membership_note_text(const std::string& ledger_id, const MembershipRequest& r,
                                 uint64_t time_ms) {
  std::string change = r.op + " " + std::to_string(r.id);
  if (r.op == "add") change += " " + r.address;
  if (r.op == "assign") change += " " + r.role;
  return std::string(kMembershipHeader) + "\n" + ledger_id + "\n" + change + "\n" +
         std::to_string(time_ms) + "\n";
}

MembershipCheck check_membership_note(std::string_view wire, const Consortium& c, uint64_t now_ms) {
  if (wire.size() > kMaxMembershipNoteBytes) {
    return refuse(413, "membership note over " + std::to_string(kMaxMembershipNoteBytes) +
                           " bytes (" + std::to_string(wire.size()) + ")");
  }
  auto note = parse_note(wire, kMaxMembershipSignatures);
  if (!note) return refuse(400, "not a signed note: " + note.reason());
  auto lines = split(note->text, '\n');  // the text ends in '\n': a last empty part
  if (lines.size() != 5 || lines[0] != kMembershipHeader) {
    return refuse(400, "not a membership change note");
  }
  if (lines[1] != c.ledger_id()) return refuse(403, "the change is for another ledger");
  uint64_t time_ms = 0;
  if (!parse_u64(lines[3], time_ms) ||
      (time_ms > now_ms ? time_ms - now_ms : now_ms - time_ms) > kMembershipWindowMs) {
    return refuse(403, "the change's time is missing or more than 5 minutes from this node's");
  }
  MembershipCheck out;
  if (!parse_change(lines[2], out.change)) {
    return refuse(400, "expected 'add ID ADDRESS', 'assign ID ROLE' or 'remove ID'");
  }
  // The text must be exactly what membership_note_text gives for it.
  if (note->text != membership_note_text(c.ledger_id(), out.change, time_ms)) {
    return refuse(400, "not a canonical membership change note");
  }
  out.signer = signer_of(*note, c);
  if (out.signer.empty()) {
    return refuse(403, "the change is not signed by a node key the consortium lists");
  }
  out.change_line = std::string(lines[2]);
  return out;
}

}  // namespace chipledger
