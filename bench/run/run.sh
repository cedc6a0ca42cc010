#!/bin/bash
# `imgbuild run --rm busybox true` against `runc run` on a prepared bundle of the same rootfs
# (runc does no image mounting at all), median of 20 runs each, in one run. Prints both medians
# (milliseconds, lower is better) and the imgbuild/runc ratio (target: <= 1).
#
#   bench/run/run.sh [--smoke]
#
# --smoke: 3 runs each (CI; takes seconds). Needs root, /dev/fuse, runc, busybox-static and a
# built imgbuild ($IMGBUILD_BINARY or $IMGBUILD, else build*/cli/imgbuild).
set -euo pipefail

RUNS=20
[[ "${1:-}" == "--smoke" ]] && RUNS=3
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

. "$HERE/../lib/imgbuild.sh"
find_imgbuild run
[[ $(id -u) == 0 && -e /dev/fuse ]] || { echo "bench/run: needs root and /dev/fuse" >&2; exit 1; }
command -v runc > /dev/null || { echo "bench/run: runc missing (apt-get install runc)" >&2; exit 1; }

WORK="$(mktemp -d /var/tmp/imgbuild-bench-run.XXXXXX)"
cleanup() {
  runc delete -f "bench-$$" > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the same rootfs twice: an image in a fresh store, and a runc bundle
export IMGBUILD_ROOT="$WORK/store"
"$REPO/testdata/make-busybox-rootfs.sh" --tar "$WORK/busybox.tar"
"$IMGBUILD" import "$WORK/busybox.tar" busybox:latest > /dev/null
mkdir -p "$WORK/bundle/rootfs"
tar -C "$WORK/bundle/rootfs" -xf "$WORK/busybox.tar"
(cd "$WORK/bundle" && runc spec)
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"true"/' "$WORK/bundle/config.json"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

time_imgbuild() {
  local t0 t1
  t0=$(now_ns)
  "$IMGBUILD" run --rm busybox true
  t1=$(now_ns)
  echo $(((t1 - t0) / 1000))
}
time_runc() {
  local t0 t1
  t0=$(now_ns)
  runc run --bundle "$WORK/bundle" "bench-$$" < /dev/null
  t1=$(now_ns)
  echo $(((t1 - t0) / 1000))
}

# One warm-up each (page cache, first unpack of the layer), then alternate so drift hits both.
time_imgbuild > /dev/null
time_runc > /dev/null
: > "$WORK/imgbuild.us"
: > "$WORK/runc.us"
for _ in $(seq 1 "$RUNS"); do
  time_imgbuild >> "$WORK/imgbuild.us"
  time_runc >> "$WORK/runc.us"
done
IMG=$(median < "$WORK/imgbuild.us")
RUNC=$(median < "$WORK/runc.us")
left=$(ls "$IMGBUILD_ROOT/containers" 2> /dev/null | wc -l)
[[ "$left" == 0 ]] || { echo "bench/run: $left container directories left behind" >&2; exit 1; }
awk -v i="$IMG" -v r="$RUNC" -v n="$RUNS" 'BEGIN {
  printf "run --rm busybox true, median of %d\n", n
  printf "  imgbuild run  %8.1f ms\n", i / 1000
  printf "  runc run      %8.1f ms\n", r / 1000
  printf "  ratio imgbuild/runc  %.2f\n", i / r
}'
