// Every custody rule, broken on purpose through the real CLI: the ledger
// refuses (exit 2) with its reason on stderr, and nothing changes (the log
// size and the serial's state are what they were).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/node_process.h"

namespace chipledger::integ {
namespace {

constexpr int kRefused = 2;

class Rules {
 public:
  Rules() { node.start(); }

  std::vector<std::string> author(const std::string& as, const std::string& key_of) const {
    return {"--as", as, "--key", node.key_file(key_of)};
  }
  std::vector<std::string> reg(const std::string& as, const std::string& key_of,
                               const std::string& serial) const {
    auto a = author(as, key_of);
    std::vector<std::string> out = {"register"};
    out.insert(out.end(), a.begin(), a.end());
    out.insert(out.end(),
               {"--serial", serial, "--model", "AX-100", "--fab-site", "fab-1", "--country", "TW"});
    return out;
  }
  std::vector<std::string> move(const std::string& verb, const std::string& as,
                                const std::string& key_of, const std::string& serial,
                                const std::string& to = "") const {
    auto a = author(as, key_of);
    std::vector<std::string> out = {verb};
    out.insert(out.end(), a.begin(), a.end());
    out.insert(out.end(), {"--serial", serial});
    if (verb == "transfer") out.insert(out.end(), {"--to", to, "--ship-to", "SG"});
    return out;
  }

  // The serial's proven state and the checkpoint's size and signers ("" when
  // not registered); the checkpoint's age and signature times move on.
  std::string state(const std::string& serial) {
    auto r = node.cli({"--json", "status", serial});
    if (r.exit_code != 0) return "";
    auto j = nlohmann::json::parse(r.out);
    j["checkpoint"].erase("age_ms");
    j["checkpoint"].erase("signed_at");
    return j.dump();
  }

  void ok(const std::vector<std::string>& args) {
    auto r = node.cli(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }

  // Runs args, which the ledger must refuse with `reason`, changing nothing.
  void refused(const std::vector<std::string>& args, const std::string& reason,
               const std::string& serial) {
    uint64_t size = node.log_size();
    std::string before = state(serial);
    auto r = node.cli(args);
    INFO(r.describe());
    CHECK(r.exit_code == kRefused);
    CHECK(r.err.find("refused: ") != std::string::npos);
    CHECK(r.err.find(reason) != std::string::npos);
    CHECK(r.out.empty());
    CHECK(node.log_size() == size);
    CHECK(state(serial) == before);
  }

  NodeProcess node;
};

TEST_CASE("custody rules: every violation is refused with its reason", "[integration]") {
  Rules t;
  const std::string s = "AX100-RULES-0001";
  t.ok(t.reg("maker", "maker", s));
  REQUIRE(t.node.log_size() == 1);

  // Who may register, and only once.
  t.refused(t.reg("distributor", "distributor", "AX100-RULES-0002"),
            "only a manufacturer may register chips; distributor is distributor",
            "AX100-RULES-0002");
  CHECK(t.state("AX100-RULES-0002").empty());
  t.refused(t.reg("datacenter", "datacenter", "AX100-RULES-0002"),
            "only a manufacturer may register chips", "AX100-RULES-0002");
  t.refused(t.reg("maker", "maker", s), "serial " + s + " is already registered (by maker)", s);

  // Only the holder transfers, and only to a member who can hold custody.
  t.refused(t.move("transfer", "distributor", "distributor", s, "datacenter"),
            "is held by maker, not by distributor; only the holder may transfer it", s);
  t.refused(t.move("transfer", "maker", "maker", s, "ghost"), "unknown recipient 'ghost'", s);
  t.refused(t.move("transfer", "maker", "maker", s, "auditor"),
            "recipient auditor (auditor) cannot hold custody of chips", s);
  t.refused(t.move("transfer", "maker", "maker", s, "maker"),
            "a member cannot transfer chips to itself", s);
  t.refused(t.move("accept", "distributor", "distributor", s), "is not in transit", s);

  // Keys and members.
  t.refused(t.move("transfer", "maker", "distributor", s, "distributor"),
            "is not a key of member maker", s);
  t.refused(t.reg("maker", "distributor", "AX100-RULES-0003"), "is not a key of member maker",
            "AX100-RULES-0003");
  t.refused(t.move("transfer", "nobody", "maker", s, "distributor"), "unknown member 'nobody'", s);
  t.refused(t.reg("nobody", "maker", "AX100-RULES-0003"), "unknown member 'nobody'",
            "AX100-RULES-0003");

  // In transit: nobody moves it until the recipient answers.
  t.ok(t.move("transfer", "maker", "maker", s, "distributor"));
  REQUIRE(t.node.log_size() == 2);
  t.refused(t.move("transfer", "maker", "maker", s, "datacenter"),
            "is in transit to distributor; it cannot move until distributor accepts or rejects it",
            s);
  t.refused(t.move("transfer", "distributor", "distributor", s, "datacenter"),
            "is in transit to distributor", s);
  t.refused(t.move("accept", "datacenter", "datacenter", s),
            "is in transit to distributor, not to datacenter; only the named recipient may accept",
            s);
  t.refused(t.move("reject", "maker", "maker", s),
            "is in transit to distributor, not to maker; only the named recipient may reject", s);

  // A serial nobody registered: the CLI finds no state and refuses itself.
  auto unknown = t.node.cli(t.move("transfer", "maker", "maker", "AX100-NEVER", "distributor"));
  INFO(unknown.describe());
  CHECK(unknown.exit_code == kRefused);
  CHECK(unknown.err.find("AX100-NEVER is not registered") != std::string::npos);

  // Reject: custody returns to the sender, and verify agrees.
  t.ok(t.move("reject", "distributor", "distributor", s));
  REQUIRE(t.node.log_size() == 3);
  auto state = nlohmann::json::parse(t.state(s));
  CHECK(state["holder"] == "maker");
  CHECK(state["status"] == "held");
  CHECK(state["pending_to"].is_null());
  auto verify = t.node.cli({"verify", s, "--trust", t.node.trust_file(), "--json"});
  INFO(verify.describe());
  REQUIRE(verify.exit_code == 17);  // the chain checks; held by its maker, not installed
  auto report = nlohmann::json::parse(verify.out);
  CHECK(report["verdict"] == "not-installed");
  CHECK(report["findings"].size() == 1);
  CHECK(report["holder"] == "maker");
  CHECK(report["chain"].size() == 3);
  // After the reject the recipient has nothing to accept; the holder may ship again.
  t.refused(t.move("accept", "distributor", "distributor", s), "is not in transit", s);
  t.ok(t.move("transfer", "maker", "maker", s, "datacenter"));
  CHECK(t.node.log_size() == 4);
  CHECK(t.node.stop() == 0);
}

}  // namespace
}  // namespace chipledger::integ
