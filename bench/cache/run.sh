#!/usr/bin/env bash
# A CI runner that starts empty, with the build cache in a registry (issue: remote cache).
# One docker-registry on loopback holds the base image (Debian) and the cache of a 9-step
# Dockerfile (bench/lib/build_context.sh) made by a first build. Then, each from an empty store:
#   cached   imgbuild build --cache-from REF --push    (registry cache, mode=max)
#            BuildKit: docker build --cache-from REF + docker push, on an image built with
#            BUILDKIT_INLINE_CACHE=1 (Debian's docker 20.10), after `docker builder prune -af`
#            and removing every image
#   cold     the same build and push with no cache at all (--no-cache, base pulled)
# Prints seconds (median of N for cached, one run for cold) and the ratios. Targets: imgbuild
# cached <= 0.5x BuildKit cached, and <= 0.2x imgbuild's own cold build.
#
#   bench/cache/run.sh [--smoke] [--runs N]
#
# Full run: the Debian rootfs of bench/build (debootstrap, cached in /var/tmp/imgbuild-bench).
# --smoke: the busybox rootfs from testdata, one run (CI). Needs root, /dev/fuse, docker-registry;
# BuildKit is skipped when docker.io is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/args.sh"
parse_bench_args cache 5 "$@"
repo=$(cd "$here/../.." && pwd)
. "$here/../lib/imgbuild.sh"
find_imgbuild cache
bin=$IMGBUILD

. "$here/../lib/dockerd.sh"
work=$(mktemp -d /var/tmp/imgbuild-bench-cache.XXXXXX)
reg_pid=""
cleanup() {
  stop_private_dockerd
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null
  awk -v d="$work/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The registry, on a free loopback port.
. "$here/../lib/registry.sh"
start_bench_registry "$work" cache

# The base image, in the registry.
if [ $smoke = 1 ]; then
  "$repo/testdata/make-busybox-rootfs.sh" --tar "$work/base.tar" >/dev/null
else
  rootfs=$(debian_base_rootfs cache)
  tar --numeric-owner -C "$rootfs" -cf "$work/base.tar" .
fi
"$bin" --root "$work/seed" import "$work/base.tar" bench-base:latest >/dev/null
"$bin" --root "$work/seed" push -q bench-base:latest "$reg/bench-base:latest" >/dev/null

ctx=$work/ctx
. "$here/../lib/build_context.sh"
make_build_context "$ctx"
sed -i "s|^FROM bench-base:latest|FROM $reg/bench-base:latest|" "$ctx/Dockerfile"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
time_cmd() { local s; s=$(now); "$@" >"$work/last.log" 2>&1 || { echo "bench/cache: failed: $*" >&2; cat "$work/last.log" >&2; return 1; }; elapsed "$s"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A T
n=0
# Sets runner to an empty store, as a new CI runner has. Not called in $(...): n must count.
fresh() { n=$((n + 1)); runner=$work/runner-$n; }

# imgbuild: runner A fills the cache; each measured runner starts empty.
fresh
"$bin" --root "$runner" build -q -t "$reg/app:a" --push \
  --cache-to "type=registry,ref=$reg/app:cache,mode=max" "$ctx" >/dev/null
times=()
for _ in $(seq 1 "$runs"); do
  fresh
  times+=("$(time_cmd "$bin" --root "$runner" build -q -t "$reg/app:b" --push \
    --cache-from "type=registry,ref=$reg/app:cache" "$ctx")")
done
T[imgbuild,cached]=$(median "${times[@]}")
grep -q "sha256:" "$work/last.log" || { echo "bench/cache: no image ID from the cached build" >&2; exit 1; }
fresh
T[imgbuild,cold]=$(time_cmd "$bin" --root "$runner" build -q --no-cache -t "$reg/app:cold" --push "$ctx")
rm -rf "$work"/runner-*

peers=()
if start_private_dockerd "$work"; then
  peers+=(buildkit)
  docker() { "$DOCKER_BIN" "$@"; }
  empty_docker() {  # a new runner: no build cache, no image
    docker builder prune -af >/dev/null 2>&1 || true
    docker image ls -q | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  }
  bk() { DOCKER_BUILDKIT=1 "$DOCKER_BIN" build --network=host -q "$@"; }
  empty_docker
  bk -t "$reg/dapp:a" --build-arg BUILDKIT_INLINE_CACHE=1 "$ctx" >/dev/null
  docker push -q "$reg/dapp:a" >/dev/null
  bk_cached() { bk -t "$reg/dapp:b" --cache-from "$reg/dapp:a" "$ctx" && docker push -q "$reg/dapp:b"; }
  bk_cold() { bk -t "$reg/dapp:cold" --no-cache "$ctx" && docker push -q "$reg/dapp:cold"; }
  times=()
  for _ in $(seq 1 "$runs"); do
    empty_docker
    times+=("$(time_cmd bk_cached)")
  done
  T[buildkit,cached]=$(median "${times[@]}")
  empty_docker
  T[buildkit,cold]=$(time_cmd bk_cold)
  stop_private_dockerd
else
  echo "bench/cache: BuildKit skipped (docker.io not installed or dockerd did not start)"
fi

printf '%-8s %10s' case imgbuild
for p in "${peers[@]}"; do printf ' %10s %8s' "$p" ratio; done
echo
for c in cached cold; do
  printf '%-8s %10.3f' "$c" "${T[imgbuild,$c]}"
  for p in "${peers[@]}"; do
    printf ' %10.3f %8.2f' "${T[$p,$c]}" "$(echo "${T[imgbuild,$c]} / ${T[$p,$c]}" | bc -l)"
  done
  echo
done
printf 'imgbuild cached / imgbuild cold: %.2f\n' "$(echo "${T[imgbuild,cached]} / ${T[imgbuild,cold]}" | bc -l)"
