// Status and Result<T>: the error channel of every library function.
// A Status is either ok or carries a reason a person can read; Result<T>
// holds a T or a failed Status. Exceptions are kept to the program edges.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace chipledger {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string reason) { return Status(std::move(reason), true); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return is_ok(); }
  const std::string& reason() const { return reason_; }

  // Prefixes the reason with context ("loading key: " + reason).
  Status context(const std::string& what) const {
    return failed_ ? error(what + ": " + reason_) : *this;
  }

 private:
  Status(std::string reason, bool failed) : reason_(std::move(reason)), failed_(failed) {}
  std::string reason_;
  bool failed_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok());
  }
  static Result error(std::string reason) { return Result(Status::error(std::move(reason))); }

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
