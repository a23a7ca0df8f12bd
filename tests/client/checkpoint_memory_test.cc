// CheckpointMemory and judge_checkpoint: the client remembers the largest
// checkpoint it verified per ledger, and a later one must extend it (a real
// RFC 9162 consistency proof); an older one, another root at the same size,
// or a proof that does not check are refused.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "client/checkpoint_memory.h"
#include "crypto/merkle.h"

namespace chipledger {
namespace {

namespace fs = std::filesystem;

// A log of `n` leaves "leaf-0".."leaf-(n-1)" and its checkpoint.
std::vector<Hash> leaves(size_t n, const std::string& prefix = "leaf-") {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(merkle::leaf_hash(as_bytes(prefix + std::to_string(i))));
  return out;
}
Checkpoint at(const std::vector<Hash>& log, size_t size) {
  return Checkpoint{"test-ledger",
                    size,
                    merkle::root_from_leaf_hashes(std::span<const Hash>(log).first(size)),
                    {}};
}
RememberedCheckpoint remembered(const Checkpoint& cp) {
  return {cp.size, cp.root, cp.text(), "", {}};
}

struct TempFolder {
  std::string path;
  TempFolder() {
    char tmpl[] = "/tmp/chipledger-memory-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempFolder() { fs::remove_all(path); }
};

TEST_CASE("checkpoint memory: a larger checkpoint must be proven to extend the remembered one",
          "[client][memory]") {
  auto log = leaves(20);
  auto before = remembered(at(log, 7));
  std::vector<Hash> proof = merkle::consistency_proof(log, 7);  // 7 -> 20

  CHECK(judge_checkpoint(std::nullopt, at(log, 3), {}).relation == CheckpointRelation::first);
  CHECK(judge_checkpoint(before, at(log, 7), {}).relation == CheckpointRelation::same);
  CHECK(judge_checkpoint(before, at(log, 20), proof).relation == CheckpointRelation::extends);

  auto older = judge_checkpoint(before, at(log, 6), {});
  CHECK(older.relation == CheckpointRelation::older);
  CHECK_FALSE(older.acceptable());
  CHECK(older.reason.find("older than") != std::string::npos);

  // Same size, another history: a fork.
  auto other = leaves(20, "other-");
  auto fork = judge_checkpoint(before, at(other, 7), {});
  CHECK(fork.relation == CheckpointRelation::forked);
  CHECK(fork.reason.find("split view") != std::string::npos);

  // A larger checkpoint of another history, with the honest log's proof or
  // its own: neither proves it extends what was seen.
  auto other_proof = merkle::consistency_proof(other, 7);
  CHECK(judge_checkpoint(before, at(other, 20), proof).relation == CheckpointRelation::forked);
  CHECK(judge_checkpoint(before, at(other, 20), other_proof).relation ==
        CheckpointRelation::forked);
  // Every flipped byte of the proof is refused.
  for (size_t i = 0; i < proof.size(); ++i) {
    auto bad = proof;
    bad[i][i % 32] ^= 1;
    CHECK_FALSE(judge_checkpoint(before, at(log, 20), bad).acceptable());
  }
  CHECK_FALSE(judge_checkpoint(before, at(log, 20), {}).acceptable());
}

TEST_CASE("checkpoint memory: the state file keeps the largest checkpoint per ledger",
          "[client][memory]") {
  TempFolder dir;
  std::string file = dir.path + "/state/checkpoints.json";
  auto log = leaves(10);
  {
    auto m = CheckpointMemory::load(file);
    REQUIRE(m);
    CHECK_FALSE(m->get("L#1").has_value());
    REQUIRE(m->remember("L#1", remembered(at(log, 5))));
    REQUIRE(m->remember("L#1", remembered(at(log, 3))));  // smaller: kept the larger
    REQUIRE(m->remember("L#2", remembered(at(log, 2))));
  }
  auto m = CheckpointMemory::load(file);
  REQUIRE(m);
  auto one = m->get("L#1");
  REQUIRE(one);
  CHECK(one->size == 5);
  CHECK(one->root == at(log, 5).root);
  CHECK(one->note == at(log, 5).text());
  REQUIRE(m->get("L#2"));
  CHECK(m->get("L#2")->size == 2);

  // A file that is not JSON is an error and stays as it is.
  { std::ofstream(file) << "not json"; }
  auto broken = CheckpointMemory::load(file);
  CHECK_FALSE(broken);
  CHECK(broken.reason().find("not JSON") != std::string::npos);
}

TEST_CASE("checkpoint memory: an anchor must be extended too, and is never written to the file",
          "[client][memory]") {
  TempFolder dir;
  std::string file = dir.path + "/checkpoints.json";
  auto m = CheckpointMemory::load(file);
  REQUIRE(m);
  auto log = leaves(30);
  auto fetch = [&log](uint64_t from, uint64_t to) -> Result<std::vector<Hash>> {
    REQUIRE(to <= log.size());
    return merkle::consistency_proof(std::span<const Hash>(log).first(to), from);
  };
  RememberedCheckpoint anchor = remembered(at(log, 12));
  anchor.origin = "of the derived trust file now.json";
  m->add_anchor("L#1", anchor);
  CHECK(m->must_extend("L#2").empty());  // another ledger's anchor is not this one's
  REQUIRE(m->must_extend("L#1").size() == 1);

  // Older than the anchor, with an empty state file: refused, naming it.
  auto older = judge_against_memory(*m, "L#1", at(log, 5), fetch);
  REQUIRE(older);
  CHECK(older->judgement.relation == CheckpointRelation::older);
  CHECK(older->judgement.reason.find("size 12 of the derived trust file now.json") !=
        std::string::npos);
  CHECK(older->against->size == 12);
  // A fork larger than the anchor: its own log's proof does not show it
  // extends the anchor.
  auto other = leaves(30, "other-");
  auto fork = judge_against_memory(
      *m, "L#1", at(other, 20), [&other](uint64_t from, uint64_t to) -> Result<std::vector<Hash>> {
        return merkle::consistency_proof(std::span<const Hash>(other).first(to), from);
      });
  REQUIRE(fork);
  CHECK(fork->judgement.relation == CheckpointRelation::forked);
  // The honest log extends it; remembering writes the file's entry only.
  auto ok = judge_against_memory(*m, "L#1", at(log, 20), fetch);
  REQUIRE(ok);
  CHECK(ok->judgement.relation == CheckpointRelation::extends);
  REQUIRE(m->remember("L#1", remembered(at(log, 20))));
  REQUIRE(m->must_extend("L#1").size() == 2);
  // With both, each must be extended: a checkpoint between the anchor and
  // the state file's is older than the state file's.
  auto between = judge_against_memory(*m, "L#1", at(log, 15), fetch);
  REQUIRE(between);
  CHECK(between->judgement.relation == CheckpointRelation::older);
  CHECK(between->judgement.reason.find("size 20 this client verified before") != std::string::npos);
  CHECK(judge_against_memory(*m, "L#1", at(log, 25), fetch)->judgement.acceptable());
  // A proof that cannot be had is an error, not a judgement.
  auto unreachable = judge_against_memory(*m, "L#1", at(log, 25), [](uint64_t, uint64_t) {
    return Result<std::vector<Hash>>::error("node down");
  });
  CHECK_FALSE(unreachable);
  // The file never holds the anchor.
  auto reloaded = CheckpointMemory::load(file);
  REQUIRE(reloaded);
  REQUIRE(reloaded->must_extend("L#1").size() == 1);
  CHECK(reloaded->must_extend("L#1")[0].size == 20);
}

TEST_CASE("checkpoint memory: split-view evidence names both notes and their signers",
          "[client][memory]") {
  TempFolder dir;
  auto m = CheckpointMemory::load(dir.path + "/checkpoints.json");
  REQUIRE(m);
  auto log = leaves(8);
  auto path = write_split_view_evidence(*m, "L#1", remembered(at(log, 4)), {"node-a", "node-b"},
                                        "served note\n", {"node-b", "node-c"}, {}, "a fork");
  REQUIRE(path);
  std::ifstream in(*path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("node-a") != std::string::npos);
  CHECK(text.find("node-c") != std::string::npos);
  CHECK(text.find("served note") != std::string::npos);
  CHECK(text.find("a fork") != std::string::npos);
}

}  // namespace
}  // namespace chipledger
