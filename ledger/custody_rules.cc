#include "ledger/custody_rules.h"

namespace chipledger {
namespace {

std::string short_hash(const Hash& h) { return hex_encode(h).substr(0, 16); }

std::string roles_of(const Member& m) {
  std::string out;
  for (Role r : m.roles) out += (out.empty() ? "" : ", ") + std::string(role_name(r));
  return out;
}

Status check_time(const Policy& policy, uint64_t tx_time, uint64_t block_time) {
  uint64_t skew = tx_time > block_time ? tx_time - block_time : block_time - tx_time;
  if (skew > policy.max_clock_skew_ms) {
    return Status::error("the transaction's time is " + std::to_string(skew / 1000) +
                         " s away from the ledger's clock; at most " +
                         std::to_string(policy.max_clock_skew_ms / 1000) + " s is allowed");
  }
  return Status::ok();
}

// The context every rule needs about one transaction.
struct Ctx {
  const Consortium& consortium;
  const StateView& state;
  const SignedTransaction& stx;
  const Member& author;
  uint64_t log_index;

  const Transaction& tx() const { return stx.tx; }

  SerialRecord next(SerialRecord rec) const {
    rec.last_event = stx.txid;
    rec.last_index = log_index;
    rec.last_time_ms = stx.tx.time_ms;
    rec.events += 1;
    return rec;
  }
};

Result<SerialUpdates> apply_register(const Ctx& c) {
  if (!c.author.has_role(Role::manufacturer)) {
    return Result<SerialUpdates>::error("only a manufacturer may register chips; " + c.author.id +
                                        " is " + roles_of(c.author));
  }
  SerialUpdates out;
  out.reserve(c.tx().registrations.size());
  for (const auto& item : c.tx().registrations) {
    auto existing = c.state.serial(item.serial);
    if (!existing) return existing.status();
    if (existing->has_value()) {
      return Result<SerialUpdates>::error("serial " + item.serial + " is already registered (by " +
                                          (*existing)->manufacturer + ")");
    }
    if (!item.device_key.empty()) {
      auto key = PublicKey::from_der(item.device_key);
      if (!key) return key.status().context("device key of serial " + item.serial);
    }
    SerialRecord rec;
    rec.holder = c.author.id;
    rec.manufacturer = c.author.id;
    rec.model = c.tx().model;
    rec.eccn = c.tx().eccn;
    out.emplace_back(item.serial, c.next(std::move(rec)));
  }
  return out;
}

// Loads the record a transfer/accept/reject refers to and checks its prev.
Result<SerialRecord> load_current(const Ctx& c, const SerialRef& ref) {
  auto rec = c.state.serial(ref.serial);
  if (!rec) return rec.status();
  if (!rec->has_value()) {
    return Result<SerialRecord>::error("serial " + ref.serial + " is not registered");
  }
  const SerialRecord& r = **rec;
  if (r.last_event != ref.prev) {
    return Result<SerialRecord>::error("stale prev for serial " + ref.serial +
                                       ": its latest event is " + short_hash(r.last_event) +
                                       "…, the transaction names " + short_hash(ref.prev) + "…");
  }
  return r;
}

Status check_recipient(const Ctx& c) {
  const Member* to = c.consortium.member(c.tx().to);
  if (!to) return Status::error("unknown recipient '" + c.tx().to + "'");
  if (!to->can_hold_custody()) {
    return Status::error("recipient " + to->id + " (" + roles_of(*to) +
                         ") cannot hold custody of chips");
  }
  if (to->id == c.author.id) return Status::error("a member cannot transfer chips to itself");
  return Status::ok();
}

Result<SerialUpdates> apply_transfer(const Ctx& c) {
  CL_TRY(check_recipient(c));
  SerialUpdates out;
  for (const auto& ref : c.tx().refs) {
    auto rec = load_current(c, ref);
    if (!rec) return rec.status();
    if (rec->status == CustodyStatus::in_transit) {
      return Result<SerialUpdates>::error("serial " + ref.serial + " is in transit to " +
                                          rec->pending_to + "; it cannot move until " +
                                          rec->pending_to + " accepts or rejects it");
    }
    if (rec->holder != c.author.id) {
      return Result<SerialUpdates>::error("serial " + ref.serial + " is held by " + rec->holder +
                                          ", not by " + c.author.id +
                                          "; only the holder may transfer it");
    }
    rec->status = CustodyStatus::in_transit;
    rec->pending_to = c.tx().to;
    out.emplace_back(ref.serial, c.next(std::move(*rec)));
  }
  return out;
}

// accept (custody passes to the recipient) or reject (custody returns).
Result<SerialUpdates> apply_answer(const Ctx& c, bool accept) {
  SerialUpdates out;
  for (const auto& ref : c.tx().refs) {
    auto rec = load_current(c, ref);
    if (!rec) return rec.status();
    if (rec->status != CustodyStatus::in_transit) {
      return Result<SerialUpdates>::error("serial " + ref.serial +
                                          " is not in transit; there is nothing to " +
                                          std::string(tx_type_name(c.tx().type)));
    }
    if (rec->pending_to != c.author.id) {
      return Result<SerialUpdates>::error("serial " + ref.serial + " is in transit to " +
                                          rec->pending_to + ", not to " + c.author.id +
                                          "; only the named recipient may " +
                                          std::string(tx_type_name(c.tx().type)) + " it");
    }
    if (accept) rec->holder = rec->pending_to;
    rec->status = CustodyStatus::held;
    rec->pending_to.clear();
    out.emplace_back(ref.serial, c.next(std::move(*rec)));
  }
  return out;
}

}  // namespace

Status check_signature(const Consortium& consortium, const SignedTransaction& stx) {
  const Transaction& tx = stx.tx;
  if (tx.ledger_id != consortium.ledger_id()) {
    return Status::error("the transaction is for ledger '" + tx.ledger_id + "', this is '" +
                         consortium.ledger_id() + "'");
  }
  const Member* author = consortium.member(tx.author);
  if (!author) return Status::error("unknown member '" + tx.author + "'");
  const PublicKey* key = author->key(tx.key_id);
  if (!key) {
    return Status::error("key " + short_hash(tx.key_id) + "… is not a key of member " + author->id);
  }
  if (!key->verify(signing_input(stx.body), stx.signature)) {
    return Status::error("the signature does not verify with " + author->id + "'s key " +
                         short_hash(tx.key_id) + "…");
  }
  return Status::ok();
}

Result<SerialUpdates> apply_rules(const Consortium& consortium, const StateView& state,
                                  const SignedTransaction& stx, uint64_t block_time_ms,
                                  uint64_t log_index) {
  const Member* author = consortium.member(stx.tx.author);
  if (!author) return Result<SerialUpdates>::error("unknown member '" + stx.tx.author + "'");
  auto seen = state.find_txid(stx.txid);
  if (!seen) return seen.status();
  if (seen->has_value()) {
    return Result<SerialUpdates>::error(
        "replay: this transaction is already in the ledger at index " + std::to_string(**seen));
  }
  CL_TRY(check_time(consortium.policy(), stx.tx.time_ms, block_time_ms));
  Ctx c{consortium, state, stx, *author, log_index};
  switch (stx.tx.type) {
    case TxType::register_chips:
      return apply_register(c);
    case TxType::transfer:
      return apply_transfer(c);
    case TxType::accept:
      return apply_answer(c, true);
    case TxType::reject:
      return apply_answer(c, false);
  }
  return Result<SerialUpdates>::error("unknown transaction type");
}

}  // namespace chipledger
