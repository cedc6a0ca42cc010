// Errors as values: every fallible library call returns Result<T> (std::expected<T, Error>).
//
// An Error carries a kind (what a caller may branch on), the errno when a syscall failed, and a
// message naming the operation and its subject, e.g. "openat(layers/sha256/ab12/etc): ENOENT".
// Context is prepended on the way up ("pulling localhost:5000/app:1: ..."). Only cli/ prints
// errors and maps them to exit codes.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace imgbuild {

enum class ErrorKind {
  kIo,               // a syscall or stream failed
  kInvalidArgument,  // the caller passed something malformed (reference, flag, digest)
  kNotFound,         // the named thing does not exist (image, blob, file, stage)
  kAlreadyExists,
  kCorrupt,  // data failed verification (digest mismatch, bad tar, bad JSON)
  kUnsupported,
  kPermission,
  kLimit,     // a configured safety limit was exceeded (tar sizes, name lengths)
  kParse,     // Dockerfile or other user text could not be parsed
  kNetwork,   // transport-level failure talking to a registry
  kRegistry,  // the registry answered with an error status
  kRuntime,   // container setup or execution failed
  kBuild,     // a build step failed
  kCancelled,
  kInternal,
};

std::string_view error_kind_name(ErrorKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message, int err = 0)
      : kind_(kind), errno_(err), message_(std::move(message)) {}

  // "op(subject): ESYMBOL (description)" for a failed syscall; kind derived from the errno.
  static Error from_errno(std::string_view op, std::string_view subject, int err);

  ErrorKind kind() const { return kind_; }
  int errno_value() const { return errno_; }
  const std::string& message() const { return message_; }

  // Prepends "context: " to the message.
  Error with_context(std::string_view context) const&;
  Error with_context(std::string_view context) &&;

 private:
  ErrorKind kind_;
  int errno_;
  std::string message_;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error(kind, std::move(message)));
}
inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }
// Captures errno at the call: use right after the failing syscall.
inline std::unexpected<Error> fail_errno(std::string_view op, std::string_view subject,
                                         int err = errno) {
  return std::unexpected<Error>(Error::from_errno(op, subject, err));
}

// Adds context to an error result, passing values through unchanged.
template <class T>
Result<T> with_context(Result<T> result, std::string_view context) {
  if (!result) return std::unexpected<Error>(std::move(result).error().with_context(context));
  return result;
}

// "ENOENT" for ENOENT; "E<n>" when unknown.
std::string_view errno_name(int err);

}  // namespace imgbuild

#define IMGBUILD_CONCAT_INNER(a, b) a##b
#define IMGBUILD_CONCAT(a, b) IMGBUILD_CONCAT_INNER(a, b)

// TRY(expr): evaluates a Result; on error returns it from the enclosing function, otherwise yields
// the value (or void). GNU statement expression, as SerenityOS's TRY.
#define IMGBUILD_TRY_IMPL(expr, tmp)                                     \
  ({                                                                     \
    auto&& tmp = (expr);                                                 \
    if (!tmp) [[unlikely]]                                               \
      return std::unexpected<::imgbuild::Error>(std::move(tmp).error()); \
    std::move(tmp).value();                                              \
  })
#define TRY(expr) IMGBUILD_TRY_IMPL(expr, IMGBUILD_CONCAT(imgbuild_try_, __COUNTER__))

// TRY_CTX(expr, context): like TRY, prepending context to the error message.
#define IMGBUILD_TRY_CTX_IMPL(expr, ctx, tmp)                                              \
  ({                                                                                       \
    auto&& tmp = (expr);                                                                   \
    if (!tmp) [[unlikely]]                                                                 \
      return std::unexpected<::imgbuild::Error>(std::move(tmp).error().with_context(ctx)); \
    std::move(tmp).value();                                                                \
  })
#define TRY_CTX(expr, ctx) \
  IMGBUILD_TRY_CTX_IMPL(expr, ctx, IMGBUILD_CONCAT(imgbuild_try_, __COUNTER__))
