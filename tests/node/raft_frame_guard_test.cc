// The Raft frame guard (node/raft_frame_guard.h): a stream of well-formed
// libraft messages passes whatever way it is cut into reads; every message
// that breaks a limit or libraft's framing is refused at its header, before
// its payload, and the guard stays refused.
#include <catch2/catch.hpp>
#include <random>

#include "node/raft_frame_guard.h"
#include "node/raft_wire.h"

namespace chipledger {
namespace {

Bytes fixed(size_t n, uint8_t fill = 7) { return Bytes(n, fill); }

Bytes append_entries(const std::vector<uint32_t>& sizes, bool trailing = true,
                     uint8_t entry_type = 1) {
  Bytes h;
  for (int i = 0; i < 4; ++i) raft_append64(h, 100 + i);  // term, prev index, prev term, commit
  raft_append64(h, sizes.size());
  Bytes payload;
  for (uint32_t s : sizes) {
    raft_append64(h, 3);  // term
    h.push_back(entry_type);
    h.insert(h.end(), 3, 0);
    raft_append32(h, s);
    payload.insert(payload.end(), s, 0xab);
  }
  if (trailing) raft_append64(h, 0);  // the 8 bytes libraft sizes but does not fill
  return raft_message(1, h, payload);
}

Bytes configuration(const std::vector<std::pair<uint64_t, std::string>>& servers,
                    uint8_t role = 1) {
  Bytes c{1};
  raft_append64(c, servers.size());
  for (const auto& [id, address] : servers) {
    raft_append64(c, id);
    c.insert(c.end(), address.begin(), address.end());
    c.push_back(0);
    c.push_back(role);
  }
  while (c.size() % 8 != 0) c.push_back(0);
  return c;
}

Bytes install_snapshot(const Bytes& conf, uint64_t data_len, size_t payload_len) {
  Bytes h;
  for (int i = 0; i < 4; ++i) raft_append64(h, 5 + i);
  raft_append64(h, conf.size());
  h.insert(h.end(), conf.begin(), conf.end());
  raft_append64(h, data_len);
  return raft_message(5, h, Bytes(payload_len, 0x5a));
}

// The well-formed messages of every type.
std::vector<Bytes> good_messages() {
  auto conf = configuration({{1, "127.0.0.1:7901"}, {2, "127.0.0.1:7902"}, {3, "10.0.0.3:7903"}});
  return {
      raft_message(3, fixed(40)),                // RequestVote
      raft_message(3, fixed(32)),                // RequestVote, the older form
      raft_message(4, fixed(24)),                // RequestVoteResult
      raft_message(4, fixed(16)),                // ... older
      append_entries({}),                        // a heartbeat
      append_entries({24, 4096, 8}),             // entries
      append_entries({16}, /*trailing=*/false),  // no trailing word
      raft_message(2, fixed(24)),                // AppendEntriesResult
      install_snapshot(conf, 3000, 3000),        // InstallSnapshot
      raft_message(6, fixed(24)),                // TimeoutNow
  };
}

}  // namespace

TEST_CASE("raft frame guard: well-formed messages pass, cut into reads of any size",
          "[raft][frames]") {
  auto seed = std::random_device()();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto good = good_messages();
  for (int round = 0; round < 200; ++round) {
    Bytes stream;
    size_t count = 1 + rng() % 12;
    for (size_t i = 0; i < count; ++i) {
      const Bytes& m = good[rng() % good.size()];
      stream.insert(stream.end(), m.begin(), m.end());
    }
    RaftFrameGuard guard;
    size_t at = 0;
    while (at < stream.size()) {
      size_t n = std::min<size_t>(stream.size() - at, 1 + rng() % 300);
      REQUIRE(guard.feed(ByteView(stream.data() + at, n)));
      at += n;
    }
    CHECK(guard.messages() == count);
    CHECK(guard.at_boundary());
  }
}

TEST_CASE("raft frame guard: broken framing and broken limits are refused at the header",
          "[raft][frames]") {
  RaftFrameLimits limits;
  limits.max_entries = 16;
  limits.max_entry_bytes = 1000;
  limits.max_append_bytes = 2000;
  limits.max_snapshot_bytes = 10000;
  limits.max_servers = 4;
  auto conf = configuration({{1, "127.0.0.1:7901"}});
  struct Case {
    const char* what;
    Bytes bytes;
    const char* reason;
  };
  Bytes huge_header;
  raft_append64(huge_header, 1);
  raft_append64(huge_header, uint64_t{1} << 40);  // the preamble says 1 TiB of header
  std::vector<Case> cases = {
      {"unknown type", raft_message(9, fixed(24)), "unknown type 9"},
      {"type zero", raft_message(0, fixed(24)), "unknown type 0"},
      {"empty header", raft_message(3, {}), "header of 0 bytes"},
      {"short RequestVote (libraft would read past it)", raft_message(3, fixed(8)), "header of 8"},
      {"short TimeoutNow", raft_message(6, fixed(16)), "header of 16"},
      {"huge fixed header", raft_message(2, fixed(4096)), "header of 4096"},
      {"a 1 TiB header", huge_header, "header of 1099511627776"},
      {"too many entries", append_entries(std::vector<uint32_t>(17, 8)), "header of"},
      {"entry too large", append_entries({1001}), "entry of 1001 bytes"},
      {"entries too large together", append_entries({1000, 1000, 8}), "AppendEntries of 2008"},
      {"entry of unknown type", append_entries({8}, true, 9), "unknown type 9"},
      {"entry count beyond the header",
       raft_message(1,
                    [] {
                      Bytes h;
                      for (int i = 0; i < 4; ++i) raft_append64(h, 0);
                      raft_append64(h, 3);  // three entries, no entry headers
                      return h;
                    }()),
       "for 3 entries"},
      {"snapshot too large", install_snapshot(conf, 10001, 0), "InstallSnapshot of 10001"},
      {"snapshot configuration overruns the header",
       [&] {
         Bytes h;
         for (int i = 0; i < 4; ++i) raft_append64(h, 0);
         raft_append64(h, 4096);  // conf length beyond the header
         raft_append64(h, 0);
         return raft_message(5, h);
       }(),
       "overruns"},
      {"snapshot configuration of a wrong format",
       install_snapshot(
           [&] {
             Bytes c = conf;
             c[0] = 2;
             return c;
           }(),
           10, 10),
       "format"},
      {"snapshot configuration of too many servers",
       install_snapshot(configuration({{1, "a:1"}, {2, "b:1"}, {3, "c:1"}, {4, "d:1"}, {5, "e:1"}}),
                        10, 10),
       "of 5 servers"},
      {"snapshot configuration with a server id 0",
       install_snapshot(configuration({{0, "a:1"}}), 10, 10), "has no id"},
      {"snapshot configuration with an unterminated address",
       install_snapshot(
           [] {
             Bytes c{1};
             raft_append64(c, 1);
             raft_append64(c, 1);
             c.insert(c.end(), 7, 'x');  // no NUL before the end
             return c;
           }(),
           10, 10),
       "malformed address"},
      {"snapshot configuration with a bad role",
       install_snapshot(configuration({{1, "a:1"}}, 3), 10, 10), "no valid role"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    // After a good message, and cut at every byte: refused all the same.
    Bytes stream = good_messages()[0];
    size_t good_end = stream.size();
    stream.insert(stream.end(), c.bytes.begin(), c.bytes.end());
    RaftFrameGuard guard(limits);
    Status st = Status::ok();
    size_t fed = 0;
    for (; fed < stream.size() && st; ++fed) st = guard.feed(ByteView(stream.data() + fed, 1));
    REQUIRE_FALSE(st);
    CHECK_THAT(st.reason(), Catch::Contains(c.reason));
    CHECK(guard.messages() == 1);
    // Refused by the end of the bad message's header: never inside its payload.
    CHECK(fed <= good_end + std::min<size_t>(c.bytes.size(), 16 + 4096 + 64));
    // Once refused, it stays refused.
    CHECK_FALSE(guard.feed(good_messages()[0]));
  }
}

TEST_CASE("raft frame guard: a payload is counted, never buffered", "[raft][frames]") {
  RaftFrameLimits limits;
  limits.max_snapshot_bytes = uint64_t{1} << 40;
  RaftFrameGuard guard(limits);
  auto conf = configuration({{1, "127.0.0.1:7901"}});
  Bytes m = install_snapshot(conf, uint64_t{1} << 36, 0);  // 64 GiB announced
  REQUIRE(guard.feed(m));
  CHECK_FALSE(guard.at_boundary());
  Bytes chunk(1 << 20, 0);
  for (int i = 0; i < 64; ++i) REQUIRE(guard.feed(chunk));  // 64 MiB of it
  CHECK(guard.messages() == 0);
}

}  // namespace chipledger
