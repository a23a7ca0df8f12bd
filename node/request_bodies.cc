#include "node/request_bodies.h"

#include <nlohmann/json.hpp>

namespace chipledger {
namespace {

using nlohmann::json;

// One base64 signed transaction; `field_error` prefixes a base64 error.
Result<SignedTransaction> decode_tx(const std::string& base64, const std::string& field_error) {
  auto wire = base64_decode(base64);
  if (!wire) return Result<SignedTransaction>::error(field_error + wire.reason());
  auto stx = SignedTransaction::decode(*wire);
  if (!stx) return Result<SignedTransaction>::error("malformed transaction: " + stx.reason());
  return stx;
}

}  // namespace

Result<SignedTransaction> decode_submit_body(std::string_view text) {
  using R = Result<SignedTransaction>;
  auto parsed = parse_json_body(text, kSubmitLimits);
  if (!parsed) return parsed.status();
  const json& body = *parsed;
  if (!body.is_object() || !body.contains("tx") || !body["tx"].is_string()) {
    return R::error("expected {\"tx\": \"<base64 signed transaction>\"}");
  }
  return decode_tx(body["tx"].get_ref<const std::string&>(), "field tx: ");
}

Result<std::vector<SignedTransaction>> decode_batch_body(std::string_view text) {
  using R = Result<std::vector<SignedTransaction>>;
  auto parsed = parse_json_body(text, kSubmitLimits);
  if (!parsed) return parsed.status();
  const json& body = *parsed;
  if (!body.is_object() || !body.contains("txs") || !body["txs"].is_array()) {
    return R::error("expected {\"txs\": [\"<base64 signed transaction>\", ...]}");
  }
  const json& txs = body["txs"];
  if (txs.empty() || txs.size() > kMaxBatchTransactions) {
    return R::error("a batch holds 1 to " + std::to_string(kMaxBatchTransactions) +
                    " transactions, not " + std::to_string(txs.size()));
  }
  std::vector<SignedTransaction> decoded;
  decoded.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    auto where = [i] { return "txs[" + std::to_string(i) + "]: "; };
    if (!txs[i].is_string()) return R::error(where() + "not a base64 string");
    auto stx = decode_tx(txs[i].get_ref<const std::string&>(), "");
    if (!stx) return R::error(where() + stx.reason());
    decoded.push_back(std::move(*stx));
  }
  return decoded;
}

Result<HistoriesRequest> decode_histories_body(std::string_view text) {
  using R = Result<HistoriesRequest>;
  auto parsed = parse_json_body(text, kHistoriesLimits);
  if (!parsed) return parsed.status();
  const json& req = *parsed;
  if (!req.is_object() || !req.contains("serials") || !req["serials"].is_array()) {
    return R::error("expected {\"serials\": [\"SERIAL\", ...], \"size\": S}");
  }
  if (req["serials"].size() > kMaxHistoriesPerRequest) {
    return R::error("at most " + std::to_string(kMaxHistoriesPerRequest) + " serials per request");
  }
  HistoriesRequest out;
  if (req.contains("size")) {
    if (!req["size"].is_number_unsigned()) return R::error("size must be a whole number");
    out.size = req["size"].get<uint64_t>();
  }
  out.serials.reserve(req["serials"].size());
  for (const auto& s : req["serials"]) {
    if (!s.is_string()) return R::error("serials are strings");
    out.serials.push_back(s.get<std::string>());
    if (auto st = check_serial(out.serials.back()); !st) return st;
  }
  return out;
}

}  // namespace chipledger
