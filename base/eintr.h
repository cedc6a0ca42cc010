// The one EINTR retry loop: calls f until it does not fail with EINTR. For the wrappers in base/
// and the few raw calls that must stay raw (poll loops with their own deadline, code between
// clone and exec); everything else calls a wrapper from base/sys.h.
#pragma once

#include <cerrno>

namespace imgbuild::sys {

template <class F>
auto retry_eintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace imgbuild::sys
