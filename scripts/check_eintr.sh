#!/usr/bin/env bash
# Fails when a hand-written EINTR loop (`== EINTR`, `!= EINTR`) appears outside the places allowed
# below: everything else calls a wrapper from base/sys.h (or sys::retry_eintr from base/eintr.h,
# which is inline and safe between clone and exec). Run from anywhere; scripts/test.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed=(
  # The one retry loop, and the wrappers that turn EINTR into something else (poll: a timeout).
  base/eintr.h
  base/sys.cpp
  # Code between clone and exec (no allocation, no wrappers that could take locks).
  runtime/child_mounts.cpp
  # The non-blocking pty pump: EINTR and EAGAIN both mean "nothing now", not an error.
  runtime/run.cpp
)

exclude=()
for path in "${allowed[@]}"; do exclude+=(":(exclude)$path"); done
hits=$(git grep -nE '[!=]= *EINTR\b' -- '*.cpp' '*.h' "${exclude[@]}" || true)
if [[ -n "$hits" ]]; then
  echo "check_eintr: hand-written EINTR loops; use base/sys.h wrappers or sys::retry_eintr:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check_eintr: no EINTR loops outside the allowed files"
