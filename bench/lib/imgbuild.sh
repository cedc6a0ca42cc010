# Sourced by the benchmarks: which imgbuild binary to measure.
#
#   find_imgbuild NAME   sets IMGBUILD: $IMGBUILD_BINARY (what bench/run-all.sh passes), else
#                        $IMGBUILD, else build/cli/imgbuild or build*/cli/imgbuild of this
#                        checkout; exits naming bench/NAME when there is none.

find_imgbuild() {
  local name=$1 repo c
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  IMGBUILD=${IMGBUILD_BINARY:-${IMGBUILD:-}}
  if [ -z "$IMGBUILD" ]; then
    for c in "$repo"/build/cli/imgbuild "$repo"/build*/cli/imgbuild; do
      [ -x "$c" ] && { IMGBUILD=$c; break; }
    done
  fi
  [ -x "$IMGBUILD" ] || {
    echo "bench/$name: imgbuild binary not found (build it or set IMGBUILD_BINARY)" >&2
    exit 1
  }
}
