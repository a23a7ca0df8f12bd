#include "tests/integration/tx_builder.h"

#include <chrono>
#include <stdexcept>

namespace chipledger::integ {

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

namespace {

PrivateKey load_key(const std::string& key_file) {
  auto key = PrivateKey::load_file(key_file);
  if (!key) throw std::runtime_error("loading " + key_file + ": " + key.reason());
  return std::move(*key);
}

Transaction base(const std::string& ledger_id, const Author& author, TxType type) {
  Transaction tx;
  tx.type = type;
  tx.ledger_id = ledger_id;
  tx.author = author.id;
  tx.key_id = author.key.public_key().key_id();
  tx.time_ms = now_ms();
  return tx;
}

}  // namespace

Author::Author(std::string member, const std::string& key_file)
    : id(std::move(member)), key(load_key(key_file)) {}

Transaction register_tx(const std::string& ledger_id, const Author& author,
                        const std::vector<std::string>& serials) {
  Transaction tx = base(ledger_id, author, TxType::register_chips);
  tx.model = "AX-100";
  tx.eccn = "3A090";
  tx.fab_site = "fab-hsinchu-12";
  tx.country = "TW";
  for (const auto& s : serials) tx.registrations.push_back({s, {}});
  return tx;
}

Transaction move_tx(const std::string& ledger_id, const Author& author, TxType type,
                    const std::string& serial, const Hash& prev, const std::string& to) {
  Transaction tx = base(ledger_id, author, type);
  if (type == TxType::transfer) {
    tx.to = to;
    tx.ship_to_country = "SG";
  }
  if (type == TxType::reject) tx.reason = "damaged in transit";
  tx.refs.push_back({serial, prev});
  return tx;
}

SignedTransaction sign(const Transaction& tx, const Author& author) {
  auto stx = sign_transaction(tx, author.key);
  if (!stx) throw std::runtime_error("signing: " + stx.reason());
  return std::move(*stx);
}

std::string submit_body(ByteView wire) {
  return nlohmann::json{{"tx", base64_encode(wire)}}.dump();
}

SubmitReply post_transactions(HttpClient& http, const std::string& body) {
  SubmitReply out;
  auto r = http.post("/v1/transactions", body);
  if (!r) {
    out.raw = r.reason();
    return out;
  }
  out.answered = true;
  out.status = r->status;
  out.raw = r->body;
  out.body = nlohmann::json::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

SubmitReply submit(HttpClient& http, const SignedTransaction& stx) {
  return post_transactions(http, submit_body(stx.wire()));
}

}  // namespace chipledger::integ
