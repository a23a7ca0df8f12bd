#include "ledger/checkpoint.h"

#include <charconv>
#include <set>

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
                                    const PrivateKey& node_key) {
  std::string text = cp.text();
  auto sig = sign_note(text, node_id, node_key);
  if (!sig) return sig.status();
  return format_note(SignedNote{text, {std::move(*sig)}});
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
  std::set<std::string> signers;
  for (const auto& sig : parsed->signatures) {
    const NodeInfo* node = consortium.node(sig.name);
    if (!node) continue;
    if (verify_note_signature(parsed->text, sig, NoteVerifier{node->id, node->key})) {
      signers.insert(node->id);
    }
  }
  if (signers.size() < consortium.quorum()) {
    return Result<VerifiedCheckpoint>::error(
        "the checkpoint has " + std::to_string(signers.size()) +
        " valid node signature(s); the consortium's quorum is " +
        std::to_string(consortium.quorum()));
  }
  return VerifiedCheckpoint{std::move(*cp), {signers.begin(), signers.end()}};
}

}  // namespace chipledger
