#include "ledger/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace chipledger {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

Result<uint64_t> parse_size(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool canonical = !s.empty() && (s == "0" || s[0] != '0');
  if (ec != std::errc() || ptr != s.data() + s.size() || !canonical) {
    return Result<uint64_t>::error("checkpoint size '" + std::string(s) +
                                   "' is not a decimal number");
  }
  return v;
}

}  // namespace

std::string state_root_line(const Hash& state_root) {
  return std::string(kStateRootKeyword) + " " + base64_encode(state_root);
}

Checkpoint Checkpoint::make(std::string origin, uint64_t size, Hash root, Hash state_root) {
  return Checkpoint{std::move(origin), size, root, {state_root_line(state_root)}};
}

std::optional<Hash> Checkpoint::state_root() const {
  const std::string prefix = std::string(kStateRootKeyword) + " ";
  std::optional<Hash> found;
  for (const auto& line : extensions) {
    bool keyword = line == kStateRootKeyword || line.rfind(prefix, 0) == 0;
    if (!keyword) continue;                                          // another extension
    if (found || line.size() <= prefix.size()) return std::nullopt;  // twice, or no value
    std::string_view b64 = std::string_view(line).substr(prefix.size());
    auto bytes = base64_decode(b64);
    if (!bytes) return std::nullopt;
    auto hash = hash_from_bytes(*bytes);
    if (!hash || base64_encode(*hash) != b64) return std::nullopt;
    found = *hash;
  }
  return found;
}

std::string Checkpoint::text() const {
  std::string out = origin + "\n" + std::to_string(size) + "\n" + base64_encode(root) + "\n";
  for (const auto& e : extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> Checkpoint::parse(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Result<Checkpoint>::error("a checkpoint must end with a newline");
  }
  auto lines = split_lines(text);
  if (lines.size() < 3) return Result<Checkpoint>::error("a checkpoint has at least 3 lines");
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return Result<Checkpoint>::error("the checkpoint origin is empty");
  auto size = parse_size(lines[1]);
  if (!size) return size.status();
  cp.size = *size;
  auto root = base64_decode(lines[2]);
  if (!root) return root.status().context("checkpoint root");
  auto hash = hash_from_bytes(*root);
  if (!hash) return hash.status().context("checkpoint root");
  cp.root = *hash;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Result<Checkpoint>::error("empty checkpoint extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

Result<std::string> sign_checkpoint(const Checkpoint& cp, const std::string& node_id,
                                    const PrivateKey& node_key, uint64_t time_seconds) {
  std::string text = cp.text();
  auto sig = sign_cosignature(text, node_id, node_key, time_seconds);
  if (!sig) return sig.status();
  return format_note(SignedNote{text, {std::move(*sig)}});
}

Result<uint64_t> verify_node_cosignature(const Consortium& consortium, std::string_view text,
                                         const NoteSignature& sig) {
  const NodeInfo* node = consortium.node(sig.name);
  if (!node) {
    return Result<uint64_t>::error("signature by '" + sig.name +
                                   "', a node the consortium does not list");
  }
  auto time = verify_cosignature(text, sig, NoteVerifier{node->id, node->key});
  if (!time) {
    return Result<uint64_t>::error(
        "the signature by " + sig.name +
        " does not verify against its key in the consortium: " + time.reason());
  }
  return time;
}

uint64_t quorum_time(std::vector<uint64_t> times, uint32_t quorum) {
  if (quorum == 0 || times.size() < quorum) return 0;
  std::nth_element(times.begin(), times.begin() + (quorum - 1), times.end(), std::greater<>());
  return times[quorum - 1];
}

uint64_t VerifiedCheckpoint::age_ms(uint64_t now_ms) const {
  uint64_t fresh_ms = fresh_as_of * 1000;
  return now_ms > fresh_ms ? now_ms - fresh_ms : 0;
}

Result<VerifiedCheckpoint> verify_checkpoint(const Consortium& consortium, std::string_view note) {
  auto parsed = parse_note(note);
  if (!parsed) return parsed.status().context("checkpoint note");
  auto cp = Checkpoint::parse(parsed->text);
  if (!cp) return cp.status();
  if (cp->origin != consortium.ledger_id()) {
    return Result<VerifiedCheckpoint>::error("the checkpoint is for '" + cp->origin +
                                             "', not for ledger '" + consortium.ledger_id() + "'");
  }
  if (!cp->state_root()) {
    return Result<VerifiedCheckpoint>::error(
        "the checkpoint commits to no state root (no well-formed '" +
        std::string(kStateRootKeyword) + "' line)");
  }
  std::map<std::string, uint64_t> newest;  // node id -> its newest valid signature time
  for (const auto& sig : parsed->signatures) {
    auto time = verify_node_cosignature(consortium, parsed->text, sig);
    if (!time) continue;
    auto [it, fresh] = newest.try_emplace(sig.name, *time);
    if (!fresh) it->second = std::max(it->second, *time);
  }
  if (newest.size() < consortium.quorum()) {
    return Result<VerifiedCheckpoint>::error(
        "the checkpoint has " + std::to_string(newest.size()) +
        " valid node signature(s); the consortium's quorum is " +
        std::to_string(consortium.quorum()));
  }
  VerifiedCheckpoint out{std::move(*cp), {}, {}, 0};
  std::vector<uint64_t> times;
  for (const auto& [id, time] : newest) {
    out.signers.push_back(id);
    out.signed_at.push_back(SignedAt{id, time});
    times.push_back(time);
  }
  out.fresh_as_of = quorum_time(std::move(times), consortium.quorum());
  return out;
}

Status checkpoint_age_status(const VerifiedCheckpoint& cp, const Policy& policy, uint64_t now_ms) {
  uint64_t age = cp.age_ms(now_ms);
  if (age <= policy.max_checkpoint_age_ms) return Status::ok();
  return Status::error("checkpoint " + std::to_string(cp.checkpoint.size) +
                       " is stale: a quorum of its signatures is " + std::to_string(age / 1000) +
                       " s old, the policy allows " +
                       std::to_string(policy.max_checkpoint_age_ms / 1000) + " s");
}

}  // namespace chipledger
