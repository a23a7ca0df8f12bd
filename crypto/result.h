// Status and Result<T>: the error channel of every library function.
// A Status is either ok or carries a code and a reason a person can read;
// Result<T> holds a T or a failed Status. Callers decide on the code (as
// LevelDB's IsNotFound/IsCorruption/IsIOError), never on the reason's
// text. Exceptions are kept to the program edges.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace chipledger {

// What kind of failure a Status is (docs/api.md, "Errors").
enum class StatusCode : uint8_t {
  ok = 0,
  failed,       // not classified further
  invalid,      // malformed input (an encoding, a request): nothing was done
  refused,      // well-formed, but the rules or the policy say no: nothing was done
  not_found,    // what was asked for does not exist
  unavailable,  // not now (no leader, full, stopped): retry later
  io,           // the storage (or the system) could not read or write
  corrupt,      // stored data does not decode or does not check
  unknown,      // the outcome is not known: it may still take effect (ask again)
};

// "io", "corrupt", ...: for logs and JSON answers.
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string reason) { return Status(StatusCode::failed, std::move(reason)); }
  static Status error(StatusCode code, std::string reason) {
    assert(code != StatusCode::ok);
    return Status(code, std::move(reason));
  }
  static Status invalid(std::string r) { return error(StatusCode::invalid, std::move(r)); }
  static Status refused(std::string r) { return error(StatusCode::refused, std::move(r)); }
  static Status not_found(std::string r) { return error(StatusCode::not_found, std::move(r)); }
  static Status unavailable(std::string r) { return error(StatusCode::unavailable, std::move(r)); }
  static Status io(std::string r) { return error(StatusCode::io, std::move(r)); }
  static Status corrupt(std::string r) { return error(StatusCode::corrupt, std::move(r)); }
  static Status unknown(std::string r) { return error(StatusCode::unknown, std::move(r)); }

  bool is_ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  bool is_invalid() const { return code_ == StatusCode::invalid; }
  bool is_refused() const { return code_ == StatusCode::refused; }
  bool is_not_found() const { return code_ == StatusCode::not_found; }
  bool is_unavailable() const { return code_ == StatusCode::unavailable; }
  bool is_io() const { return code_ == StatusCode::io; }
  bool is_corrupt() const { return code_ == StatusCode::corrupt; }
  bool is_unknown() const { return code_ == StatusCode::unknown; }
  // The storage failed (io or corrupt): a node applying a block stops
  // (fail-stop) instead of taking it for a refusal.
  bool is_storage_failure() const { return is_io() || is_corrupt(); }
  const std::string& reason() const { return reason_; }

  // Prefixes the reason with context ("loading key: " + reason); keeps the code.
  Status context(const std::string& what) const {
    return is_ok() ? *this : Status(code_, what + ": " + reason_);
  }
  // The same failure under another code (ok stays ok).
  Status with_code(StatusCode code) const {
    return is_ok() || code == StatusCode::ok ? *this : Status(code, reason_);
  }

 private:
  Status(StatusCode code, std::string reason) : reason_(std::move(reason)), code_(code) {}
  std::string reason_;
  StatusCode code_ = StatusCode::ok;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok());
  }
  static Result error(std::string reason) { return Result(Status::error(std::move(reason))); }
  static Result error(StatusCode code, std::string reason) {
    return Result(Status::error(code, std::move(reason)));
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }
  const std::string& reason() const {
    static const std::string kNone;
    return is_ok() ? kNone : std::get<Status>(v_).reason();
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace chipledger

namespace chipledger {
inline Status to_status(const Status& s) { return s; }
template <typename T>
Status to_status(const Result<T>& r) {
  return r.status();
}
}  // namespace chipledger

// Returns the failed Status from the enclosing function when `expr` (a Status
// or a Result) failed. The enclosing function returns Status or Result<U>.
#define CL_TRY(expr)                                            \
  do {                                                          \
    ::chipledger::Status cl_s_ = ::chipledger::to_status(expr); \
    if (!cl_s_.is_ok()) return cl_s_;                           \
  } while (0)
