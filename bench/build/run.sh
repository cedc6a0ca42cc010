#!/usr/bin/env bash
# imgbuild's build engine against its peers, in one run, same Dockerfiles and contexts:
#   cold      a multi-step Dockerfile on a Debian base already present locally (no build cache)
#   noop      the same build again (everything cached)
#   onefile   a rebuild after changing one context file
#   bigrun    a build whose RUN writes 3,000 files, 250 MB
#   emptyrun  20 RUN steps (5 in smoke mode) that change nothing (`RUN true`), --network host --no-cache: what a
#             step costs beyond its process (issue 16: under 50 ms between two steps)
#   untar     a RUN extracting a 50 MB tarball of 20,000 entries (from a base image holding it),
#             --no-cache
#   aptget    RUN apt-get update && apt-get install -y curl on the Debian base, --network host
#             --no-cache (full run only: needs Debian's archive)
#   buildpush the aptget build (--no-cache) and a push of the image to an empty local
#             docker-registry, each tool to its own fresh registry (`docker push`, `buildah push`);
#             in smoke mode the bigrun Dockerfile instead (issue 16: <= 0.8x BuildKit)
# Peers: `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host` on a private dockerd the script
# starts (bench/lib/dockerd.sh; or $DOCKER_HOST when set) and `buildah bud --layers` with its own
# store; a peer that is not installed is reported as skipped (scripts/install-deps.sh bench). Prints seconds per case (best of N for
# noop) and the imgbuild/peer ratios. Targets: noop <= 0.25x BuildKit; cold, onefile <= 1.0x.
#
#   bench/build/run.sh [--smoke] [--runs N]
#
# Full run: the Debian rootfs of bench/layer (debootstrap, cached in /var/tmp/imgbuild-bench).
# --smoke: the busybox rootfs from testdata, small bigrun, one run (CI). Needs root + /dev/fuse.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/args.sh"
parse_bench_args build 5 "$@"
repo=$(cd "$here/../.." && pwd)
. "$here/../lib/imgbuild.sh"
find_imgbuild build
bin=$IMGBUILD

. "$here/../lib/dockerd.sh"
work=$(mktemp -d /var/tmp/imgbuild-bench-build.XXXXXX)
unmount_under() {  # lazily unmounts everything below $1 (peers' stores leave mounts behind)
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
trap 'stop_private_dockerd; unmount_under "$work"; rm -rf "$work"' EXIT
store=$work/store

# The base rootfs as a tar.
if [ $smoke = 1 ]; then
  "$repo/testdata/make-busybox-rootfs.sh" --tar "$work/base.tar" >/dev/null
  files=300; size_kb=85
else
  rootfs=$(debian_base_rootfs build)
  tar --numeric-owner -C "$rootfs" -cf "$work/base.tar" .
  files=3000; size_kb=85
fi
"$bin" --root "$store" import "$work/base.tar" bench-base:latest >/dev/null

ctx=$work/ctx
. "$here/../lib/build_context.sh"
make_build_context "$ctx"
big=$work/big
mkdir -p "$big"
cat > "$big/Dockerfile" <<DF
FROM bench-base:latest
RUN mkdir /big && i=0 && while [ \$i -lt $files ]; do head -c ${size_kb}k /dev/zero > /big/f\$i; i=\$((i+1)); done
DF

empty=$work/empty
mkdir -p "$empty"
steps=$([ $smoke = 1 ] && echo 5 || echo 20)  # buildah takes ~4 s a step
{ echo "FROM bench-base:latest"; for i in $(seq 1 "$steps"); do echo "RUN true # $i"; done; } > "$empty/Dockerfile"

# untar: 200 directories of 100 files of 2.5 kB (2,000 entries and 5 MB in smoke mode), random
# bytes, in a base image built untimed by each tool; the timed build only extracts it.
untar=$work/untar
mkdir -p "$untar/base"
python3 - "$untar/base/t.tar" "$([ $smoke = 1 ] && echo 20 || echo 200)" <<'PY'
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for d in range(int(sys.argv[2])):
        for f in range(100):
            data = os.urandom(2500)
            info = tarfile.TarInfo(f"d{d}/f{f}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
PY
printf 'FROM bench-base:latest\nCOPY t.tar /t.tar\n' > "$untar/base/Dockerfile"
printf 'FROM bench-untar-base:latest\nRUN mkdir /x && tar -xf /t.tar -C /x\n' > "$untar/Dockerfile"

apt=$work/apt
mkdir -p "$apt"
cat > "$apt/Dockerfile" <<'DF'
FROM bench-base:latest
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
DF
cases="cold noop onefile bigrun emptyrun untar"
[ $smoke = 1 ] || cases="$cases aptget"
cases="$cases buildpush"
pushctx=$apt pushnet="--network host"
[ $smoke = 1 ] && pushctx=$big pushnet=""
. "$here/../lib/registry.sh"
# time_buildpush TOOL CMD...: seconds of CMD (which builds and pushes to $reg/bench/push:1) with
# a fresh docker-registry of its own.
time_buildpush() {
  local tool=$1 t; shift
  mkdir -p "$work/reg-$tool"
  start_bench_registry "$work/reg-$tool" build >/dev/null
  t=$(time_cmd "$@") || { kill "$reg_pid"; return 1; }
  kill "$reg_pid"; wait "$reg_pid" 2>/dev/null || true
  echo "$t"
}

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
time_cmd() { local s; s=$(now); "$@" >/dev/null 2>&1 || { echo "bench/build: failed: $*" >&2; return 1; }; elapsed "$s"; }
best() { local b=""; for _ in $(seq 1 "$runs"); do local t; t=$(time_cmd "$@"); if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi; done; echo "$b"; }

declare -A T
T[imgbuild,cold]=$(time_cmd "$bin" --root "$store" build -q -t bench-app "$ctx")
T[imgbuild,noop]=$(best "$bin" --root "$store" build -q -t bench-app "$ctx")
echo two > "$ctx/one.txt"
T[imgbuild,onefile]=$(time_cmd "$bin" --root "$store" build -q -t bench-app "$ctx")
echo one > "$ctx/one.txt"
T[imgbuild,bigrun]=$(time_cmd "$bin" --root "$store" build -q -t bench-big "$big")
T[imgbuild,emptyrun]=$(time_cmd "$bin" --root "$store" build -q --network host --no-cache -t bench-empty "$empty")
"$bin" --root "$store" build -q -t bench-untar-base "$untar/base" >/dev/null
T[imgbuild,untar]=$(time_cmd "$bin" --root "$store" build -q --no-cache -t bench-untar "$untar")
[ $smoke = 1 ] || T[imgbuild,aptget]=$(time_cmd "$bin" --root "$store" build -q --network host --no-cache -t bench-apt "$apt")
ib_buildpush() {
  "$bin" --root "$store" build -q $pushnet --no-cache -t bench-push "$pushctx" &&
    "$bin" --root "$store" push -q bench-push "$reg/bench/push:1"
}
T[imgbuild,buildpush]=$(time_buildpush imgbuild ib_buildpush)

peers=()
if start_private_dockerd "$work"; then
  peers+=(buildkit)
  docker() { "$DOCKER_BIN" "$@"; }
  docker rmi -f bench-app bench-big bench-base:latest >/dev/null 2>&1 || true
  docker import "$work/base.tar" bench-base:latest >/dev/null
  docker builder prune -af >/dev/null 2>&1 || true
  bk() { DOCKER_BUILDKIT=1 "$DOCKER_BIN" build --network=host -q -t "$1" "${@:3}" "$2"; }
  T[buildkit,cold]=$(time_cmd bk bench-app "$ctx")
  T[buildkit,noop]=$(best bk bench-app "$ctx")
  echo two > "$ctx/one.txt"
  T[buildkit,onefile]=$(time_cmd bk bench-app "$ctx")
  echo one > "$ctx/one.txt"
  T[buildkit,bigrun]=$(time_cmd bk bench-big "$big")
  T[buildkit,emptyrun]=$(time_cmd bk bench-empty "$empty" --no-cache)
  bk bench-untar-base "$untar/base" >/dev/null
  T[buildkit,untar]=$(time_cmd bk bench-untar "$untar" --no-cache)
  [ $smoke = 1 ] || T[buildkit,aptget]=$(time_cmd bk bench-apt "$apt" --no-cache)
  bk_buildpush() { bk "$reg/bench/push:1" "$pushctx" --no-cache && docker push -q "$reg/bench/push:1"; }
  T[buildkit,buildpush]=$(time_buildpush buildkit bk_buildpush)
  stop_private_dockerd
else
  echo "bench/build: BuildKit skipped (docker.io not installed or dockerd did not start)"
fi
if command -v buildah >/dev/null; then
  peers+=(buildah)
  bstore=$work/buildah
  bah() { buildah --root "$bstore/root" --runroot "$bstore/run" --storage-driver overlay "$@"; }
  # runc: Debian's default crun refuses hybrid (v1+v2) cgroup hosts like this one.
  bh() { bah bud --layers --runtime /usr/sbin/runc --network=host -q -t "$1" "${@:3}" "$2"; }
  # The same base: a scratch container with the rootfs tar added, committed.
  c=$(bah from scratch)
  bah add "$c" "$work/base.tar" / >/dev/null
  bah commit -q "$c" bench-base:latest >/dev/null
  bah rm "$c" >/dev/null
  T[buildah,cold]=$(time_cmd bh bench-app "$ctx")
  T[buildah,noop]=$(best bh bench-app "$ctx")
  echo two > "$ctx/one.txt"
  T[buildah,onefile]=$(time_cmd bh bench-app "$ctx")
  echo one > "$ctx/one.txt"
  T[buildah,bigrun]=$(time_cmd bh bench-big "$big")
  T[buildah,emptyrun]=$(time_cmd bh bench-empty "$empty" --no-cache)
  bh bench-untar-base "$untar/base" >/dev/null
  T[buildah,untar]=$(time_cmd bh bench-untar "$untar" --no-cache)
  [ $smoke = 1 ] || T[buildah,aptget]=$(time_cmd bh bench-apt "$apt" --no-cache)
  bh_buildpush() {
    bh bench-push "$pushctx" --no-cache && bah push -q --tls-verify=false bench-push "docker://$reg/bench/push:1"
  }
  T[buildah,buildpush]=$(time_buildpush buildah bh_buildpush)
  bah umount -a >/dev/null 2>&1 || true
else
  echo "bench/build: buildah skipped (not installed)"
fi

printf '%-10s %10s' case imgbuild
for p in "${peers[@]}"; do printf ' %10s %12s' "$p" "ratio"; done
echo
for c in $cases; do
  printf '%-10s %10.3f' "$c" "${T[imgbuild,$c]}"
  for p in "${peers[@]}"; do
    printf ' %10.3f %12.2f' "${T[$p,$c]}" "$(echo "${T[imgbuild,$c]} / ${T[$p,$c]}" | bc -l)"
  done
  echo
done
