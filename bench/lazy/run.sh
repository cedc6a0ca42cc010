#!/usr/bin/env bash
# Lazy mounts (issue 15): reading one file of a registry image with `mount --lazy` (eStargz: the
# TOCs, then only that file) against pulling the whole image first, from an empty store, on a
# loopback docker-registry. The image is the Debian base plus a RUN that writes files of mixed
# sizes (about 1 GiB in all; incompressible), pushed with --compression estargz. Cases:
#   lazy-first-byte   mount --lazy + read 4 KiB of one small file
#   full-first-byte   pull + mount + the same read
#   pull              a plain pull into an empty store
#   pull-after-lazy   the pull of the same image in the store that mounted it lazily
#   lazy-read-part    mount --lazy + cat of /data/medium/* and /data/big/f0 (a large part)
#   pull-after-part   the pull after that: only what the reads did not fetch is downloaded
#   skopeo-copy       skopeo copy of the image to a local OCI layout (a peer's full download)
#   lazy-run-true     run --lazy --rm IMG true (until it exits)
#   full-run-true     pull + run --rm IMG true
# Prints seconds (median of N) and the ratios. Targets: lazy first byte < 0.2 s and < 0.1x the
# full pull + mount; pull after a lazy mount no slower than a plain pull.
#
#   bench/lazy/run.sh [--smoke] [--runs N]
#
# --smoke: busybox and a few MiB of files, one run (CI). Needs root, /dev/fuse, docker-registry.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/args.sh"
parse_bench_args lazy 3 "$@"
repo=$(cd "$here/../.." && pwd)
. "$here/../lib/imgbuild.sh"
find_imgbuild lazy
bin=$IMGBUILD

work=$(mktemp -d /var/tmp/imgbuild-bench-lazy.XXXXXX)
reg_pid=""
cleanup() {
  awk -v d="$work/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. "$here/../lib/registry.sh"
start_bench_registry "$work" lazy

if [ $smoke = 1 ]; then
  "$repo/testdata/make-busybox-rootfs.sh" --tar "$work/base.tar" >/dev/null
  small=100 medium=10 big=1 big_mib=4
else
  rootfs=$(debian_base_rootfs lazy)
  tar --numeric-owner -C "$rootfs" -cf "$work/base.tar" .
  small=3000 medium=500 big=12 big_mib=64
fi
seed=$work/seed
"$bin" --root "$seed" import "$work/base.tar" bench-base:latest >/dev/null
mkdir -p "$work/ctx"
cat > "$work/ctx/Dockerfile" <<DOCKERFILE
FROM bench-base:latest
RUN mkdir -p /data/small /data/medium /data/big && \\
    i=0; while [ \$i -lt $small ]; do head -c 4096 /dev/urandom > /data/small/f\$i; i=\$((i+1)); done && \\
    i=0; while [ \$i -lt $medium ]; do head -c 262144 /dev/urandom > /data/medium/f\$i; i=\$((i+1)); done && \\
    i=0; while [ \$i -lt $big ]; do head -c ${big_mib}m /dev/urandom > /data/big/f\$i; i=\$((i+1)); done
DOCKERFILE
"$bin" --root "$seed" build -q --network none -t bench-lazy:1 "$work/ctx" >/dev/null
ref=$reg/bench/lazy:1
"$bin" --root "$seed" push -q --compression estargz bench-lazy:1 "$ref" >/dev/null
size=$(du -sb "$work/registry" | cut -f1)

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
n=0
fresh() { n=$((n + 1)); store=$work/store-$n; }  # sets store: a new, empty one (no subshell)
run_timed() {  # run_timed VAR CMD...: the command's seconds in VAR
  local var=$1 s; shift
  sync  # the writeback of earlier cases (extracted layers, removed stores) is not this one's
  s=$(now)
  "$@" >"$work/last.log" 2>&1 || { echo "bench/lazy: failed: $*" >&2; cat "$work/last.log" >&2; exit 1; }
  printf -v "$var" '%s' "$(elapsed "$s")"
}
file=/data/small/f7
lazy_read() {  # store mountpoint
  "$bin" --root "$1" mount --lazy "$ref" "$2" && head -c 4096 "$2$file" >/dev/null
}
lazy_read_part() {  # store mountpoint
  "$bin" --root "$1" mount --lazy "$ref" "$2" && cat "$2"/data/medium/* "$2/data/big/f0" >/dev/null
}
full_read() {
  "$bin" --root "$1" pull -q "$ref" && "$bin" --root "$1" mount "$ref" "$2" &&
    head -c 4096 "$2$file" >/dev/null
}
lazy_run() { "$bin" --root "$1" run --lazy --rm --network none "$ref" true; }
full_run() {
  "$bin" --root "$1" pull -q "$ref" && "$bin" --root "$1" run --rm --network none "$ref" true
}
declare -A T
lazy=() full=() pull=() after=() copy=() lrun=() frun=() part=() apart=() kept=()
for _ in $(seq 1 "$runs"); do
  # An untimed pull first: the first pull after the previous round's cleanup is up to 1.5x
  # slower, whichever case it is (measured both ways); then the plain pull.
  fresh
  "$bin" --root "$store" pull -q "$ref" >/dev/null
  fresh
  run_timed t "$bin" --root "$store" pull -q "$ref"; pull+=("$t")
  fresh; s1=$store; mkdir -p "$work/m1-$n"
  run_timed t lazy_read "$s1" "$work/m1-$n"; lazy+=("$t")
  # What the lazy read fetched of the layers: the partial blobs keep exactly those bytes (the
  # footers, TOCs and the file's chunk), allocated in a sparse file.
  lazy_bytes=$(du -s -B1 "$s1"/lazy/sha256/*.partial 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  "$bin" --root "$s1" umount "$work/m1-$n" >/dev/null
  run_timed t "$bin" --root "$s1" pull -q "$ref"; after+=("$t")
  fresh; s3=$store; mkdir -p "$work/m3-$n"
  run_timed t lazy_read_part "$s3" "$work/m3-$n"; part+=("$t")
  "$bin" --root "$s3" umount "$work/m3-$n" >/dev/null
  kept+=("$(du -c --block-size=1 "$s3"/lazy/sha256/*.partial | tail -1 | cut -f1)")
  run_timed t "$bin" --root "$s3" pull -q "$ref"; apart+=("$t")
  fresh; s2=$store; mkdir -p "$work/m2-$n"
  run_timed t full_read "$s2" "$work/m2-$n"; full+=("$t")
  "$bin" --root "$s2" umount "$work/m2-$n" >/dev/null
  if command -v skopeo >/dev/null; then
    run_timed t skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/oci-$n:x"; copy+=("$t")
  fi
  fresh
  run_timed t lazy_run "$store"; lrun+=("$t")
  fresh
  run_timed t full_run "$store"; frun+=("$t")
  rm -rf "$work"/store-* "$work"/oci-*
done
T[lazy]=$(median "${lazy[@]}")
T[full]=$(median "${full[@]}")
T[pull]=$(median "${pull[@]}")
T[after]=$(median "${after[@]}")
T[part]=$(median "${part[@]}")
T[apart]=$(median "${apart[@]}")

printf 'image: %d MB in the registry (eStargz)\n' $((size / 1000000))
printf 'lazy first byte fetched %d kB of the layers (%.3f%% of the registry'"'"'s %d MB)\n' \
  $((lazy_bytes / 1000)) "$(echo "100 * $lazy_bytes / $size" | bc -l)" $((size / 1000000))
printf '%-18s %10s\n' case seconds
printf '%-18s %10.3f\n' lazy-first-byte "${T[lazy]}" full-first-byte "${T[full]}" \
  pull "${T[pull]}" pull-after-lazy "${T[after]}" lazy-read-part "${T[part]}" \
  pull-after-part "${T[apart]}"
if [ ${#copy[@]} -gt 0 ]; then printf '%-18s %10.3f\n' skopeo-copy "$(median "${copy[@]}")"; fi
T[lrun]=$(median "${lrun[@]}")
T[frun]=$(median "${frun[@]}")
printf '%-18s %10.3f\n' lazy-run-true "${T[lrun]}" full-run-true "${T[frun]}"
printf 'lazy / full run: %.3f\n' "$(echo "${T[lrun]} / ${T[frun]}" | bc -l)"
printf 'lazy / full first byte: %.3f\n' "$(echo "${T[lazy]} / ${T[full]}" | bc -l)"
printf 'pull after lazy / plain pull: %.2f\n' "$(echo "${T[after]} / ${T[pull]}" | bc -l)"
printf 'runs (s): pull %s; pull-after-lazy %s; pull-after-part %s\n' "${pull[*]}" "${after[*]}" "${apart[*]}"
printf 'pull after part / plain pull: %.2f (%d MB of the layers kept by the lazy reads)\n' \
  "$(echo "${T[apart]} / ${T[pull]}" | bc -l)" $(($(median "${kept[@]}") / 1000000))
