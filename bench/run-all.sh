#!/usr/bin/env bash
# Runs every benchmark: each bench/<area>/run.sh, in name order, with the same arguments.
#   bench/run-all.sh            full runs (need scripts/install-deps.sh bench; minutes)
#   bench/run-all.sh --smoke    small data, seconds each: checks the benchmarks still work (CI)
# A benchmark that fails makes the whole run fail, after the others have run.
# The imgbuild binary is $IMGBUILD_BINARY, else build/cli/imgbuild of this checkout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*/run.sh; do
  [ -e "$script" ] || continue
  area=$(basename "$(dirname "$script")")
  echo "=== bench/$area"
  if ! bash "$script" "$@"; then
    echo "=== bench/$area FAILED" >&2
    status=1
  fi
done
exit $status
