// Fuzzes the lexical path cleaner: the first byte picks the policy, the rest is the path. Checks
// the invariants every caller relies on: no "." or empty component, ".." only under kKeep (and
// then only at the front), an error only where the policy allows one, and idempotence.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/path_clean.h"

using imgbuild::DotDot;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const DotDot policies[] = {DotDot::kReject, DotDot::kClamp, DotDot::kKeep, DotDot::kForbid};
  DotDot policy = policies[data[0] % 4];
  std::string_view path(reinterpret_cast<const char*>(data + 1), size - 1);

  auto parts = imgbuild::clean_path_parts(path, policy);
  if (!parts) {
    if (policy == DotDot::kClamp || policy == DotDot::kKeep) std::abort();  // never fail
    if (path.find("..") == std::string_view::npos) std::abort();            // only ".." can fail
    return 0;
  }
  bool leading = true;
  for (const auto& part : *parts) {
    if (part.empty() || part == "." || part.find('/') != std::string::npos) std::abort();
    if (part == "..") {
      // Above the root: only kKeep keeps it, and only before every real component.
      if (policy != DotDot::kKeep || !leading) std::abort();
    } else {
      leading = false;
    }
  }
  std::string joined = imgbuild::join_path_parts(*parts);
  auto whole = imgbuild::clean_path(path, policy);
  if (!whole || *whole != joined) std::abort();
  if (!joined.empty() && (joined.front() == '/' || joined.back() == '/')) std::abort();
  auto again = imgbuild::clean_path(joined, policy);
  if (!again || *again != joined) std::abort();  // idempotent
  return 0;
}
