#!/usr/bin/env bash
# Builds imgbuild's Debian package with CPack and checks it.
#   scripts/check_deb.sh [--build-dir BUILD] --quick   cpack -G DEB into a temp dir; the control
#                                                      fields (Depends from dpkg-shlibdeps plus
#                                                      fuse3, Recommends) and the file list (CTest
#                                                      package_deb, seconds)
#   scripts/check_deb.sh [--build-dir BUILD]           also installs it with apt into a fresh
#                                                      Debian 12 root and runs `imgbuild version`
#                                                      and `imgbuild completion bash` there (root;
#                                                      debootstrap once, cached by bench/lib/args.sh;
#                                                      needs deb.debian.org; minutes)
# The build dir must have been built (imgbuild, imgfs and the imgbuild_docs target). Exit 77: the
# tools it needs are missing (dpkg-deb, dpkg-shlibdeps from dpkg-dev; scripts/install-deps.sh test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift ;;
    --quick) quick=1 ;;
    *) echo "usage: $0 [--build-dir BUILD] [--quick]" >&2; exit 2 ;;
  esac
  shift
done
build=$(cd "$build" && pwd)
log() { echo "check_deb: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { log "skipped: $tool is not installed"; exit 77; }
done

work=$(mktemp -d /tmp/imgbuild-deb.XXXXXX)
root=""
cleanup() {
  if [ -n "$root" ]; then
    for m in dev/pts dev proc; do umount "$root/$m" 2>/dev/null || true; done
    umount "$root" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log "cpack -G DEB ($build)"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/imgbuild_*.deb)
[ -f "${debs[0]}" ] || fail "no imgbuild_*.deb in $(ls "$work/out")"
deb=${debs[0]}
log "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
[[ $(basename "$deb") =~ ^imgbuild_[0-9.]+_[a-z0-9]+\.deb$ ]] || fail "unexpected name $(basename "$deb")"

dpkg-deb -I "$deb" >"$work/info"
dpkg-deb -c "$deb" >"$work/contents"
dpkg-deb -f "$deb" Package Version Architecture Maintainer Installed-Size Depends Recommends
depends=$(dpkg-deb -f "$deb" Depends)
for dep in fuse3 libc6 libfuse3-3 liburing2 libarchive13 libcurl4 libssl3 libzstd1 libcap2 libseccomp2; do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done
[ "$(dpkg-deb -f "$deb" Recommends)" = "uidmap, slirp4netns" ] ||
  fail "Recommends: $(dpkg-deb -f "$deb" Recommends)"
for f in ./usr/bin/imgbuild ./usr/bin/imgfs ./usr/share/bash-completion/completions/imgbuild \
  ./usr/share/zsh/vendor-completions/_imgbuild ./usr/share/man/man1/imgbuild.1 \
  ./usr/share/man/man1/imgbuild-build.1 ./usr/share/doc/imgbuild/README.md; do
  grep -q " $f\$" "$work/contents" || fail "$f is not in the package"
done
log "files: $(grep -c '^-' "$work/contents") ($(grep -c 'man1/.*\.1$' "$work/contents") man pages)"
if [ "$quick" = 1 ]; then
  log "ok (quick)"
  exit 0
fi

[ "$(id -u)" = 0 ] || { log "skipped: installing into a Debian root needs root"; exit 77; }
command -v debootstrap >/dev/null || { log "skipped: debootstrap is not installed"; exit 77; }
# shellcheck source=../bench/lib/args.sh
. "$here/../bench/lib/args.sh"
base=$(debian_base_rootfs check_deb)
# A fresh root each time: an overlay on the cached debootstrap tree, thrown away at exit.
mkdir -p "$work/upper" "$work/ovl-work" "$work/root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl-work" "$work/root"
root="$work/root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive "$@"; }
[ ! -e "$root/usr/bin/imgbuild" ] || fail "the base root already has imgbuild"
log "apt-get install ./$(basename "$deb") in a fresh Debian $(cat "$root/etc/debian_version")"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update"; }
in_root sh -c "cd /tmp && apt-get install -y --no-install-recommends ./$(basename "$deb")" \
  >>"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; fail "apt-get install"; }
log "apt set up $(grep -c '^Setting up ' "$work/apt.log") packages: $(grep '^Setting up ' "$work/apt.log" |
  cut -d' ' -f3 | sed 's/:amd64//' | tr '\n' ' ')"
log "installed: $(in_root dpkg-query -W -f='${Package} ${Version} ${Status}' imgbuild)"
out=$(in_root imgbuild version) || fail "imgbuild version failed in the Debian root"
echo "$out"
[[ $out == "imgbuild "* ]] || fail "imgbuild version printed: $out"
in_root imgfs --version
in_root sh -c 'imgbuild completion bash | bash -n' || fail "the completion script is not valid bash"
in_root sh -c 'command -v mount.fuse3 >/dev/null' || fail "fuse3's mount helper is missing"
log "ok"
