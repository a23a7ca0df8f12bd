#include "bench/workload.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace chipledger::bench {

Status parallel_for(size_t n, unsigned threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first = Status::ok();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, threads); ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        Status st = fn(i);
        if (!st) {
          std::lock_guard lock(mu);
          if (first) first = st;
          next = n;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return first;
}

std::string serial_name(const std::string& tag, size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%010zu", i);
  return tag + "-" + buf;
}

namespace {

// A transaction of `type` by `author`, with the key's id and time_ms set.
Transaction base_tx(TxType type, const Consortium& c, const std::string& author,
                    const PrivateKey& key, uint64_t time_ms) {
  Transaction tx;
  tx.type = type;
  tx.ledger_id = c.ledger_id();
  tx.author = author;
  tx.key_id = key.public_key().key_id();
  tx.time_ms = time_ms;
  return tx;
}

}  // namespace

Result<SignedTransaction> registration(const Members& m, const std::string& tag, size_t count,
                                       size_t batch, size_t t, uint64_t time_ms) {
  Transaction tx = base_tx(TxType::register_chips, m.consortium, "maker", m.maker, time_ms);
  tx.model = "H100-SXM5";
  tx.eccn = "3A090";
  tx.fab_site = "fab-18-tainan";
  tx.country = "TW";
  size_t end = std::min(count, (t + 1) * batch);
  tx.registrations.reserve(end - t * batch);
  for (size_t i = t * batch; i < end; ++i) tx.registrations.push_back({serial_name(tag, i), {}});
  auto stx = sign_transaction(tx, m.maker);
  if (!stx) return stx.status().context("signing a register transaction");
  return stx;
}

Result<SignedTransaction> single_move(const Members& m, TxType type, const std::string& tag,
                                      size_t i, const Hash& prev, uint64_t time_ms) {
  bool transfer = type == TxType::transfer;
  const PrivateKey& key = transfer ? m.maker : m.distributor;
  Transaction tx = base_tx(type, m.consortium, transfer ? "maker" : "distributor", key, time_ms);
  if (transfer) {
    tx.to = "distributor";
    tx.ship_to_country = "SG";
  }
  tx.refs.push_back({serial_name(tag, i), prev});
  auto stx = sign_transaction(tx, key);
  if (!stx) return stx.status().context("signing");
  return stx;
}

}  // namespace chipledger::bench
