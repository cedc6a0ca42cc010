#!/usr/bin/env bash
# The layer codec against GNU tar, on the same tree and the same blobs, warm cache:
#   create a gzip layer   vs  tar -c | gzip -6
#   create a zstd layer   vs  tar -c | zstd -T0 -3
#   extract the gzip blob vs  tar -xzf
#   extract the zstd blob vs  tar --zstd -xf
# Prints seconds (best of N runs), blob sizes, and the ratio imgbuild/GNU tar (target: <= 1.0).
#
#   bench/layer/run.sh [--smoke] [--runs N]
#
# Full run: a Debian rootfs (debootstrap --variant=minbase bookworm, ~200 MB, ~7k files) cached
# in /var/tmp/imgbuild-bench/rootfs and reused. --smoke: the busybox rootfs of
# testdata/make-busybox-rootfs.sh, one run, seconds (CI). Needs a built imgbuild
# ($IMGBUILD_BINARY, else build/cli/imgbuild or build-*/cli/imgbuild), GNU tar, gzip, zstd.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/args.sh"
parse_bench_args layer 3 "$@"
repo=$(cd "$here/../.." && pwd)

. "$here/../lib/imgbuild.sh"
find_imgbuild layer
bin=$IMGBUILD
for tool in tar gzip zstd; do
  command -v $tool >/dev/null || { echo "bench/layer: $tool missing (scripts/install-deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/imgbuild-bench-layer.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ $smoke = 1 ]; then
  rootfs=$work/rootfs
  "$repo/testdata/make-busybox-rootfs.sh" "$rootfs" >/dev/null
else
  command -v debootstrap >/dev/null || [ -d /var/tmp/imgbuild-bench/rootfs ] ||
    { echo "bench/layer: debootstrap missing (scripts/install-deps.sh bench)" >&2; exit 1; }
  rootfs=$(debian_base_rootfs layer)
fi

# best_of CMD...: runs the shell command `runs` times, cleaning $work/x before each run, and
# prints the fastest wall-clock time in seconds.
best_of() {
  local best="" start end t
  for _ in $(seq "$runs"); do
    rm -rf "$work/x"
    sync
    start=$(date +%s.%N)
    bash -c "$1" >/dev/null
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  echo "$best"
}

tar -C "$rootfs" -cf /dev/null .  # warm the page cache for both sides
entries=$(find "$rootfs" -xdev | wc -l)
size=$(du -sh --apparent-size "$rootfs" | cut -f1)
echo "bench/layer: $([ $smoke = 1 ] && echo "smoke (busybox rootfs)" || echo "Debian rootfs") $rootfs: $entries entries, $size; best of $runs, warm cache, $(nproc) CPUs"

status=0
row() {  # row NAME IMGBUILD_CMD GNU_CMD [IMGBUILD_BLOB GNU_BLOB]
  local ours theirs ratio sizes=""
  ours=$(best_of "$2")
  theirs=$(best_of "$3")
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  if [ $# -ge 5 ]; then
    sizes=$(printf '  blob %s MB vs %s MB' "$(($(stat -c %s "$4") / 1000000))" "$(($(stat -c %s "$5") / 1000000))")
  fi
  local verdict=ok
  if awk -v r="$ratio" 'BEGIN { exit !(r > 1.0) }'; then verdict="OVER 1.0"; fi
  printf '%-14s imgbuild %8ss  GNU tar %8ss  ratio %5s  %s%s\n' "$1" "$ours" "$theirs" "$ratio" "$verdict" "$sizes"
}

row "create gzip" "'$bin' layer create --compression gzip '$rootfs' '$work/ours.tgz'" \
  "tar -C '$rootfs' -cf - . | gzip -6 > '$work/gnu.tgz'" "$work/ours.tgz" "$work/gnu.tgz"
row "create zstd" "'$bin' layer create --compression zstd '$rootfs' '$work/ours.zst'" \
  "tar -C '$rootfs' -cf - . | zstd -q -T0 -3 > '$work/gnu.zst'" "$work/ours.zst" "$work/gnu.zst"
# Both extract the same blob (ours), which GNU tar reads like any other tar.
row "extract gzip" "'$bin' layer extract '$work/ours.tgz' '$work/x'" \
  "mkdir '$work/x' && tar -C '$work/x' -xzf '$work/ours.tgz'"
row "extract zstd" "'$bin' layer extract '$work/ours.zst' '$work/x'" \
  "mkdir '$work/x' && tar -C '$work/x' --zstd -xf '$work/ours.zst'"
rm -rf "$work/x"

# The extracted tree must be the tree we started from (spot check: same listing).
"$bin" layer extract "$work/ours.zst" "$work/check" >/dev/null
if ! diff <(cd "$rootfs" && find . | sort) <(cd "$work/check" && find . | sort) >/dev/null; then
  echo "bench/layer: extracted tree differs from $rootfs" >&2
  status=1
fi
exit $status
