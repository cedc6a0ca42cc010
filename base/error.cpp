#include "base/error.h"

#include <cstring>

namespace imgbuild {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kIo: return "io";
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kAlreadyExists: return "already exists";
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kPermission: return "permission";
    case ErrorKind::kLimit: return "limit";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kRegistry: return "registry";
    case ErrorKind::kRuntime: return "runtime";
    case ErrorKind::kBuild: return "build";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

std::string_view errno_name(int err) {
  const char* name = ::strerrorname_np(err);  // glibc >= 2.32
  return name != nullptr ? std::string_view(name) : std::string_view("E?");
}

static ErrorKind kind_for_errno(int err) {
  switch (err) {
    case ENOENT: return ErrorKind::kNotFound;
    case EEXIST: return ErrorKind::kAlreadyExists;
    case EACCES:
    case EPERM: return ErrorKind::kPermission;
    case EINVAL: return ErrorKind::kInvalidArgument;
    case ENOTSUP: return ErrorKind::kUnsupported;
    default: return ErrorKind::kIo;
  }
}

Error Error::from_errno(std::string_view op, std::string_view subject, int err) {
  std::string msg(op);
  msg += '(';
  msg += subject;
  msg += "): ";
  std::string_view name = errno_name(err);
  if (name == "E?") {
    msg += "E" + std::to_string(err);
  } else {
    msg += name;
  }
  msg += " (";
  msg += std::strerror(err);
  msg += ')';
  return Error(kind_for_errno(err), std::move(msg), err);
}

Error Error::with_context(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).with_context(context);
}

Error Error::with_context(std::string_view context) && {
  std::string msg(context);
  msg += ": ";
  msg += message_;
  message_ = std::move(msg);
  return std::move(*this);
}

}  // namespace imgbuild
