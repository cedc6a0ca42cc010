#!/usr/bin/env bash
# Rootless against root, in one run (docs/rootless.md): the build bench's cold, no-op and
# one-file-changed builds and `run --rm busybox true`, each by root and by an ordinary user with
# subordinate ids (created here: imgbuild-bench), same binary, same Dockerfile and base image.
# Prints seconds per case and the rootless/root ratio (target: <= 1.2 each). buildah rootless is
# measured beside when it works as that user (it needs its own setup; reported as skipped if not).
#
#   bench/rootless/run.sh [--smoke] [--runs N]
#
# Needs root (to create the user and give /dev/fuse and /dev/net/tun mode 0666, as Debian's udev
# rules do), uidmap, busybox-static. --smoke: one run of each (CI).
set -euo pipefail

runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) runs=1 ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: $0 [--smoke] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../lib/imgbuild.sh"
find_imgbuild rootless
[ "$(id -u)" = 0 ] || { echo "bench/rootless: needs root (it creates the test user)" >&2; exit 1; }
command -v newuidmap >/dev/null || { echo "bench/rootless: newuidmap missing (apt-get install uidmap)" >&2; exit 1; }

user=imgbuild-bench
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
  # Past every range already given out, so no two users share ids.
  start=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: 'NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print (m > 100000 ? m : 100000) }')
  usermod --add-subuids "$start-$((start + 65535))" --add-subgids "$start-$((start + 65535))" "$user"
fi
chmod 0666 /dev/fuse /dev/net/tun

work=$(mktemp -d /var/tmp/imgbuild-bench-rootless.XXXXXX)
chmod 0755 "$work"
trap 'pkill -KILL -u "$user" 2>/dev/null || true; rm -rf "$work"' EXIT
# The user runs a copy: the checkout may be under a directory only root can enter.
install -m 0755 "$IMGBUILD" "$work/imgbuild"
IMGBUILD=$work/imgbuild
"$repo/testdata/make-busybox-rootfs.sh" --tar "$work/base.tar" >/dev/null
chmod 0644 "$work/base.tar"

# The measured sequence, run once as root and once as the user: prints "case seconds" lines.
cat > "$work/timed.sh" <<'SH'
set -eu
bin=$1 store=$2 base=$3 ctx=$4 runs=$5
now() { date +%s.%N; }
t() { local s; s=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; echo "$(now) - $s" | bc; }
best() { local b="" x; for _ in $(seq 1 "$runs"); do x=$(t "$@"); if [ -z "$b" ] || [ "$(echo "$x < $b" | bc)" = 1 ]; then b=$x; fi; done; echo "$b"; }
export IMGBUILD_ROOT=$store
"$bin" import "$base" bench-base:latest >/dev/null
"$bin" images >/dev/null   # the first rootless command makes the namespaces: not measured
echo "cold $(t "$bin" build -q -t bench-app "$ctx")"
echo "noop $(best "$bin" build -q -t bench-app "$ctx")"
echo two > "$ctx/one.txt"
echo "onefile $(t "$bin" build -q -t bench-app "$ctx")"
echo one > "$ctx/one.txt"
echo "run $(best "$bin" run --rm bench-base:latest true)"
SH

. "$here/../lib/build_context.sh"
make_build_context "$work/ctx-root"
mkdir -p "$work/user"
make_build_context "$work/user/ctx"
chown -R "$user:" "$work/user"

declare -A T
while read -r c s; do T[root,$c]=$s; done < <(bash "$work/timed.sh" "$IMGBUILD" "$work/store-root" "$work/base.tar" "$work/ctx-root" "$runs")
home=$(getent passwd "$user" | cut -d: -f6)
while read -r c s; do T[rootless,$c]=$s; done < <(runuser -u "$user" -- env -i HOME="$home" PATH=/usr/bin:/bin \
  bash "$work/timed.sh" "$IMGBUILD" "$work/user/store" "$work/base.tar" "$work/user/ctx" "$runs")

buildah_note="buildah rootless: not installed"
if command -v buildah >/dev/null; then
  bah() { runuser -u "$user" -- env -i HOME="$home" PATH=/usr/bin:/bin:/usr/sbin XDG_RUNTIME_DIR="$work/user/xdg" \
    buildah --root "$work/user/buildah" --runroot "$work/user/xdg/run" --storage-driver vfs "$@"; }
  mkdir -p "$work/user/xdg"; chown "$user:" "$work/user/xdg"; chmod 0700 "$work/user/xdg"
  if c=$(bah from scratch 2>"$work/buildah.err") && bah add "$c" "$work/base.tar" / >/dev/null 2>>"$work/buildah.err" &&
     bah commit -q "$c" bench-base:latest >/dev/null 2>>"$work/buildah.err"; then
    s=$(date +%s.%N)
    if bah bud --layers --runtime /usr/sbin/runc --isolation chroot -q -t bench-app "$work/user/ctx" >/dev/null 2>>"$work/buildah.err"; then
      T[buildah,cold]=$(echo "$(date +%s.%N) - $s" | bc)
      s=$(date +%s.%N)
      bah bud --layers --runtime /usr/sbin/runc --isolation chroot -q -t bench-app "$work/user/ctx" >/dev/null 2>>"$work/buildah.err"
      T[buildah,noop]=$(echo "$(date +%s.%N) - $s" | bc)
      buildah_note="buildah rootless (vfs, chroot isolation): cold ${T[buildah,cold]} s, noop ${T[buildah,noop]} s"
    else
      buildah_note="buildah rootless: bud failed here ($(tail -1 "$work/buildah.err"))"
    fi
  else
    buildah_note="buildah rootless: setup failed here ($(tail -1 "$work/buildah.err"))"
  fi
fi

printf '%-8s %10s %10s %8s\n' case root rootless ratio
for c in cold noop onefile run; do
  r=${T[root,$c]} u=${T[rootless,$c]}
  printf '%-8s %10.3f %10.3f %8.2f\n' "$c" "$r" "$u" "$(echo "$u / $r" | bc -l)"
done
echo "$buildah_note"
