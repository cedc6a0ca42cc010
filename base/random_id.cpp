#include "base/random_id.h"

#include <sys/random.h>

#include <cerrno>
#include <vector>

#include "base/eintr.h"

namespace imgbuild {

Result<std::string> random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  size_t got = 0;
  while (got < raw.size()) {
    ssize_t n =
        sys::retry_eintr([&] { return ::getrandom(raw.data() + got, raw.size() - got, 0); });
    if (n < 0) return fail_errno("getrandom", std::to_string(bytes) + " bytes");
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace imgbuild
