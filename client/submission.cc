#include "client/submission.h"

#include <algorithm>
#include <thread>

namespace chipledger {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The pause before asking again while a node is busy, electing or has the
// transaction on its way: short against an election (~1 s), long against
// a round trip.
constexpr milliseconds kPause{50};

class Resolver {
 public:
  Resolver(NodeClient& node, const SignedTransaction& tx, Clock::time_point deadline,
           milliseconds per_call)
      : node_(node), tx_(tx), deadline_(deadline), per_call_(per_call) {}

  SubmitOutcome run() {
    using K = SubmitReply::Kind;
    const milliseconds before = node_.call_timeout();
    while (!out_.kind_set) {
      if (!bound_call()) break;
      ++out_.value.attempts;
      SubmitReply r = node_.submit_once(tx_);
      switch (r.kind) {
        case K::accepted:
          finish_accepted(r.index, r.duplicate);
          break;
        case K::refused:
          finish(SubmitOutcome::Kind::refused, r.reason);
          break;
        case K::redirect:
          if (r.leader.empty() || r.leader == node_.url() || !node_.switch_to(r.leader)) {
            // No usable leader named (or a node naming itself): another
            // node, after a pause, never a tight loop.
            next_node("a follower naming leader " + (r.leader.empty() ? "none" : r.leader));
          } else {
            note("node " + r.leader + ": named the leader by a follower");
          }
          break;
        case K::retry:
          next_node(r.reason);
          break;
        case K::unknown:
          out_.value.was_unknown = true;
          note("node " + node_.url() + ": outcome unknown: " + r.reason);
          resolve_unknown();
          break;
      }
    }
    node_.set_call_timeout(before);
    if (!out_.kind_set) {
      out_.value.kind = out_.value.was_unknown ? SubmitOutcome::Kind::unknown
                                               : SubmitOutcome::Kind::not_submitted;
      if (out_.value.reason.empty()) out_.value.reason = "no node answered in time";
    }
    return std::move(out_.value);
  }

 private:
  // Ask the node that may have it until it knows; a node that does not
  // know it at all gets it again (the loop in run()).
  void resolve_unknown() {
    using L = TxLookup::Kind;
    while (bound_call()) {
      TxLookup l = node_.lookup(tx_.txid);
      if (l.kind == L::accepted) {
        note("asked " + node_.url() + ": accepted at index " + std::to_string(l.index));
        return finish_accepted(l.index, true);
      }
      if (l.kind == L::not_found) {
        note("asked " + node_.url() + ": not there; submitting again");
        return;
      }
      if (l.kind == L::no_answer) return next_node(l.reason);
      note("asked " + node_.url() + ": on its way");
      pause();
    }
  }

  void finish_accepted(uint64_t index, bool duplicate) {
    out_.value.index = index;
    out_.value.duplicate = duplicate;
    finish(SubmitOutcome::Kind::accepted, "");
  }
  void finish(SubmitOutcome::Kind kind, const std::string& reason) {
    out_.value.kind = kind;
    out_.value.reason = reason;
    out_.kind_set = true;
  }
  // One line per step; a step repeated (a node asked again and again) is
  // one line with a count.
  void note(std::string line) {
    auto& trail = out_.value.trail;
    if (line == last_line_ && !trail.empty()) {
      trail.back() = line + " (" + std::to_string(++repeats_ + 1) + " times)";
      return;
    }
    last_line_ = line;
    repeats_ = 0;
    trail.push_back(std::move(line));
  }

  // A node that did not help: the next one, after a pause (an election).
  void next_node(const std::string& why) {
    note("node " + node_.url() + ": " + why);
    out_.value.reason = why;
    node_.switch_to_next();
    pause();
  }

  void pause() {
    auto until = std::min(deadline_, Clock::now() + kPause);
    std::this_thread::sleep_until(until);
  }

  // Sets the next call's timeout; false once the deadline has passed.
  bool bound_call() {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    if (left.count() <= 0) return false;
    node_.set_call_timeout(std::min(left, per_call_));
    return true;
  }

  NodeClient& node_;
  const SignedTransaction& tx_;
  const Clock::time_point deadline_;
  const milliseconds per_call_;
  std::string last_line_;
  size_t repeats_ = 0;
  struct {
    SubmitOutcome value;
    bool kind_set = false;
  } out_;
};

}  // namespace

const char* submit_outcome_name(SubmitOutcome::Kind kind) {
  switch (kind) {
    case SubmitOutcome::Kind::accepted:
      return "accepted";
    case SubmitOutcome::Kind::refused:
      return "refused";
    case SubmitOutcome::Kind::not_submitted:
      return "not-submitted";
    case SubmitOutcome::Kind::unknown:
      return "unknown";
  }
  return "unknown";
}

SubmitOutcome submit_and_resolve(NodeClient& node, const SignedTransaction& tx,
                                 std::chrono::steady_clock::time_point deadline,
                                 std::chrono::milliseconds per_call) {
  return Resolver(node, tx, deadline, per_call).run();
}

}  // namespace chipledger
