// Blocks (Raft log entries): the canonical encoding round-trips byte for
// byte, follows the documented layout and refuses every malformed input;
// the ledger records the last applied entry in the block's own write.
#include <catch2/catch.hpp>
#include <random>

#include "ledger/block.h"
#include "ledger/memory_store.h"
#include "tests/ledger/forwarding_store.h"
#include "tests/ledger/ledger_fixture.h"

using namespace chipledger;
using namespace chipledger::testing;

namespace {

Block sample_block(const TestConsortium& tc) {
  Block b;
  b.time_ms = 1790000000123;
  b.txs.push_back(tc.sign(tc.register_tx("maker", {"SN1", "SN2"})));
  b.txs.push_back(tc.sign(tc.register_tx("maker2", {"SN3"})));
  return b;
}

// Forwards to a MemoryStore the test keeps, so a ledger can be reopened on it.
using SharedStore = chipledger::testing::ForwardingStore;

Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

}  // namespace

TEST_CASE("a block encodes as version, kind, time and counted transaction wires", "[block]") {
  auto tc = TestConsortium::make();
  Block b = sample_block(tc);
  Bytes enc = encode_block(b);

  Bytes expected = {0x01, 0x01, 0x00, 0x00, 0x01, 0xa0, 0xc4, 0x50, 0x6c, 0x7b};
  REQUIRE(expected.size() == 10);
  // 1790000000123 = 0x000001a0c4506c7b
  auto count = be32(2);
  expected.insert(expected.end(), count.begin(), count.end());
  for (const auto& tx : b.txs) {
    Bytes wire = tx.wire();
    auto len = be32(static_cast<uint32_t>(wire.size()));
    expected.insert(expected.end(), len.begin(), len.end());
    expected.insert(expected.end(), wire.begin(), wire.end());
  }
  CHECK(enc == expected);

  auto back = decode_block(enc);
  REQUIRE(back);
  CHECK(back->time_ms == b.time_ms);
  REQUIRE(back->txs.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(back->txs[i].wire() == b.txs[i].wire());
    CHECK(back->txs[i].txid == b.txs[i].txid);
  }
  CHECK(encode_block(*back) == enc);
}

TEST_CASE("an empty block is valid and round-trips", "[block]") {
  Block b;
  b.time_ms = 7;
  Bytes enc = encode_block(b);
  CHECK(enc == Bytes{1, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0});
  auto back = decode_block(enc);
  REQUIRE(back);
  CHECK(back->time_ms == 7);
  CHECK(back->txs.empty());
}

TEST_CASE("block decoding refuses every truncation and any trailing byte", "[block]") {
  auto tc = TestConsortium::make();
  Bytes enc = encode_block(sample_block(tc));
  for (size_t n = 0; n < enc.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(decode_block(ByteView(enc.data(), n)));
  }
  Bytes longer = enc;
  longer.push_back(0);
  auto r = decode_block(longer);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("trailing"));
}

TEST_CASE(
    "block decoding refuses unknown versions and kinds, over-long counts and bad transactions",
    "[block]") {
  auto tc = TestConsortium::make();
  Bytes enc = encode_block(sample_block(tc));

  Bytes v2 = enc;
  v2[0] = 2;
  CHECK_THAT(decode_block(v2).reason(), Catch::Contains("version"));

  Bytes k2 = enc;
  k2[1] = 2;
  CHECK_THAT(decode_block(k2).reason(), Catch::Contains("kind"));

  Bytes many = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  auto c = be32(kMaxBlockTransactions + 1);
  many.insert(many.end(), c.begin(), c.end());
  CHECK_THAT(decode_block(many).reason(), Catch::Contains("over the limit"));

  // A transaction wire that is not a transaction (a well-formed length around garbage).
  Bytes junk = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0xde, 0xad, 0xbe};
  auto r = decode_block(junk);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.reason(), Catch::Contains("transaction 0 of the block"));

  // The count claims more transactions than there are.
  Bytes short_count = enc;
  short_count[13] = 3;
  CHECK_FALSE(decode_block(short_count));
}

TEST_CASE("random byte flips never crash the block decoder", "[block]") {
  auto tc = TestConsortium::make();
  Bytes enc = encode_block(sample_block(tc));
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    Bytes m = enc;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    auto r = decode_block(m);
    if (r) CHECK(encode_block(*r) == m);  // whatever decodes is canonical
  }
}

TEST_CASE("the ledger records the applied entry with the block, also for refused blocks",
          "[block][ledger]") {
  auto tc = TestConsortium::make();
  MemoryStore backing;
  auto ledger = Ledger::open(std::make_unique<SharedStore>(backing), tc.consortium);
  REQUIRE(ledger);
  CHECK((*ledger)->applied_entry() == 0);

  std::vector<PendingTx> txs{{tc.sign(tc.register_tx("maker", {"SN1"})), false}};
  auto out = (*ledger)->apply_block(txs, kNow, uint64_t{3});
  REQUIRE(out);
  CHECK((*out)[0].accepted);
  CHECK((*ledger)->applied_entry() == 3);

  // Every transaction refused (a replay): the entry is still recorded.
  auto again = (*ledger)->apply_block(txs, kNow, uint64_t{5});
  REQUIRE(again);
  CHECK_FALSE((*again)[0].accepted);
  CHECK((*ledger)->applied_entry() == 5);
  CHECK((*ledger)->size() == 1);

  // An entry at or below the recorded one is refused and changes nothing.
  auto old = (*ledger)->apply_block({}, kNow, uint64_t{5});
  REQUIRE_FALSE(old);
  CHECK((*ledger)->applied_entry() == 5);

  // Without an entry, apply_block behaves as before.
  std::vector<PendingTx> more{{tc.sign(tc.register_tx("maker", {"SN2"})), false}};
  REQUIRE((*ledger)->apply_block(more, kNow));
  CHECK((*ledger)->applied_entry() == 5);

  // Reopening reads the entry back.
  ledger->reset();
  auto reopened = Ledger::open(std::make_unique<SharedStore>(backing), tc.consortium);
  REQUIRE(reopened);
  CHECK((*reopened)->applied_entry() == 5);
  CHECK((*reopened)->size() == 2);
}
