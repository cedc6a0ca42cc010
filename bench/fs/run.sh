#!/bin/bash
# imgfs vs fuse-overlayfs (Debian) vs kernel overlayfs on the same layers, warm cache, one run.
# Layers: a Debian rootfs (debootstrap minbase, cached under /var/tmp/imgbuild-bench/), a layer
# with one 1 GiB file and a layer with a directory of 15,000 empty files (ls_l: `ls -l` of it).
# Prints each figure (seconds, lower is better), the imgfs/fuse-overlayfs ratio and the
# imgfs/kernel ratio.
#
#   bench/fs/run.sh [--smoke]        (ROUNDS=N: rounds to take each figure's best of; default 3)
#
# --smoke: a tiny synthetic tree and a 16 MiB file instead (no debootstrap); takes seconds (CI).
# Needs root, /dev/fuse, fuse-overlayfs and a built imgfs ($IMGFS, else build*/cli/imgfs).
set -euo pipefail

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE=/var/tmp/imgbuild-bench

IMGFS="${IMGFS:-}"
if [[ -z "$IMGFS" ]]; then
  for c in "$REPO"/build/cli/imgfs "$REPO"/build*/cli/imgfs; do
    [[ -x "$c" ]] && IMGFS="$c" && break
  done
fi
# In --smoke mode (CI) a machine that cannot run it skips it rather than failing the run.
skip() { echo "bench/fs: $1" >&2; [[ $SMOKE == 1 ]] && { echo "bench/fs: skipped"; exit 0; }; exit 1; }
[[ -x "$IMGFS" ]] || skip "imgfs binary not found (build it or set IMGFS)"
[[ $(id -u) == 0 && -e /dev/fuse ]] || skip "needs root and /dev/fuse"
HAVE_FO=1
command -v fuse-overlayfs > /dev/null || { HAVE_FO=0; echo "bench/fs: fuse-overlayfs missing: its column is skipped" >&2; }

WORK="$(mktemp -d /var/tmp/imgbuild-bench-run.XXXXXX)"
MNT="$WORK/mnt"
cleanup() {
  mountpoint -q "$MNT" 2> /dev/null && { umount "$MNT" 2> /dev/null || umount -l "$MNT"; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- data
if [[ $SMOKE == 1 ]]; then
  ROOTFS="$WORK/rootfs"
  for d in $(seq 1 20); do
    mkdir -p "$ROOTFS/usr/share/d$d" "$ROOTFS/etc/d$d"
    for f in $(seq 1 25); do echo "file $d $f" > "$ROOTFS/usr/share/d$d/f$f"; done
    echo "conf $d" > "$ROOTFS/etc/d$d/conf"
  done
  BIG="$WORK/big"
  mkdir -p "$BIG"
  head -c $((16 << 20)) /dev/urandom > "$BIG/1g"
  WIDE="$WORK/wide"
  mkdir -p "$WIDE/wide"
  (cd "$WIDE/wide" && seq 1 1500 | sed 's/^/f/' | xargs touch)
  NCREATE=500 NAPPEND=20
else
  ROOTFS="$CACHE/rootfs"
  if [[ ! -d "$ROOTFS" ]]; then
    echo "bench/fs: creating $ROOTFS with debootstrap (once)" >&2
    mkdir -p "$CACHE"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" http://deb.debian.org/debian > "$CACHE/debootstrap.log"
    mv "$CACHE/rootfs.tmp" "$ROOTFS"
  fi
  BIG="$CACHE/big"
  if [[ ! -f "$BIG/1g" ]]; then
    mkdir -p "$BIG"
    head -c $((1 << 30)) /dev/urandom > "$BIG/1g.tmp" && mv "$BIG/1g.tmp" "$BIG/1g"
  fi
  WIDE="$CACHE/wide"
  if [[ ! -d "$WIDE/wide" ]]; then
    mkdir -p "$WIDE/wide.tmp"
    (cd "$WIDE/wide.tmp" && seq 1 15000 | sed 's/^/f/' | xargs touch)
    mv "$WIDE/wide.tmp" "$WIDE/wide"
  fi
  NCREATE=5000 NAPPEND=200
fi
# The files to append to: the first regular files below etc/ and usr/share/ (relative paths).
(cd "$ROOTFS" && find etc usr/share -xdev -type f -size -64k | sort | sed -n "1,${NAPPEND}p") > "$WORK/append.list"
RMTREE=usr/share

# Timing without forks inside the timed interval: start with t=$EPOCHREALTIME, stop with
# elapsed_into "$t" VAR, which stores the seconds since t in VAR.
elapsed_into() {
  local end=$EPOCHREALTIME
  printf -v "$2" '%s' "$(awk -v a="$end" -v b="$1" 'BEGIN { printf "%.6f", a - b }')"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# Best of two runs of a command (the first also warms the cache).
best2() {
  local a b t
  t=$EPOCHREALTIME; eval "$1" > /dev/null; elapsed_into "$t" a
  t=$EPOCHREALTIME; eval "$1" > /dev/null; elapsed_into "$t" b
  if lt "$a" "$b"; then echo "$a"; else echo "$b"; fi
}

prepare_dirs() {  # fs-name
  rm -rf "$WORK/$1-up" "$WORK/$1-work"
  mkdir -p "$WORK/$1-up" "$WORK/$1-work" "$MNT"
}
do_mount() {  # fs-name
  local opts="lowerdir=$WIDE:$BIG:$ROOTFS,upperdir=$WORK/$1-up,workdir=$WORK/$1-work"
  case "$1" in
    imgfs) "$IMGFS" imgfs "$MNT" -o "$opts" ;;
    fuse-overlayfs) fuse-overlayfs -o "$opts" "$MNT" ;;
    kernel) mount -t overlay overlay -o "$opts" "$MNT" ;;
  esac
}
do_umount() {
  sync
  umount "$MNT" 2> /dev/null || umount -l "$MNT"
  # fuse servers exit asynchronously after umount
  for _ in $(seq 50); do pgrep -f "$MNT" > /dev/null || break; sleep 0.1; done
}

declare -A R
FIGS=(mount stat_all tar_all ls_l seq_read_1g append_copyup create_small write_fsync rm_rf)
# Each figure starts with nothing dirty, so writeback left by one figure (or one filesystem) does
# not land in the next one's time.
run_fs() {
  local fs=$1 t
  prepare_dirs "$fs"
  sync
  t=$EPOCHREALTIME; do_mount "$fs"; elapsed_into "$t" "R[$fs,mount]"
  R[$fs,stat_all]=$(best2 "find '$MNT' -xdev -path '$MNT/wide' -prune -o -printf '%i %s %m\n'")
  R[$fs,tar_all]=$(best2 "tar -C '$MNT' --exclude=./1g --exclude=./wide -cf - . | cat")
  # Stats and reads the ACL of every file (one GETXATTR each unless the kernel caches ACLs).
  R[$fs,ls_l]=$(best2 "ls -l '$MNT/wide'")
  R[$fs,seq_read_1g]=$(best2 "cat '$MNT/1g'")
  sync; t=$EPOCHREALTIME
  (cd "$MNT" && while read -r f; do echo x >> "$f"; done < "$WORK/append.list")
  elapsed_into "$t" "R[$fs,append_copyup]"
  sync; t=$EPOCHREALTIME
  mkdir "$MNT/new"
  (cd "$MNT/new" && for i in $(seq $NCREATE); do echo "$i" > "f$i"; done)
  elapsed_into "$t" "R[$fs,create_small]"
  sync; t=$EPOCHREALTIME
  dd if=/dev/zero of="$MNT/written" bs=1M count=$(( SMOKE ? 16 : 256 )) conv=fsync status=none
  elapsed_into "$t" "R[$fs,write_fsync]"
  sync; t=$EPOCHREALTIME
  rm -rf "$MNT/$RMTREE" "$MNT/new"
  elapsed_into "$t" "R[$fs,rm_rf]"
  do_umount
}

FSES=(imgfs kernel)
[[ $HAVE_FO == 1 ]] && FSES=(imgfs fuse-overlayfs kernel)
# Rounds over all filesystems, keeping each figure's best: one slow moment of the machine (this
# VM's disk and page allocator vary by 2-3x between minutes) then does not decide a ratio.
ROUNDS=${ROUNDS:-$(( SMOKE ? 1 : 3 ))}
declare -A BEST
for round in $(seq "$ROUNDS"); do
  for fs in "${FSES[@]}"; do
    run_fs "$fs"
    [[ -n "${VERBOSE:-}" ]] && for f in "${FIGS[@]}"; do echo "round $round $fs $f ${R[$fs,$f]}"; done >&2
    for f in "${FIGS[@]}"; do
      b=${BEST[$fs,$f]:-}
      if [[ -z "$b" ]] || lt "${R[$fs,$f]}" "$b"; then BEST[$fs,$f]=${R[$fs,$f]}; fi
    done
  done
done
for k in "${!BEST[@]}"; do R[$k]=${BEST[$k]}; done

echo "bench/fs: $( [[ $SMOKE == 1 ]] && echo smoke || echo "Debian rootfs ($(find "$ROOTFS" -xdev | wc -l) entries) + 1 GiB file") ; seconds, warm cache, best of $ROUNDS rounds"
printf "%-14s %10s %15s %10s %12s %12s\n" figure imgfs fuse-overlayfs kernel imgfs/fo imgfs/kernel
for f in "${FIGS[@]}"; do
  i=${R[imgfs,$f]}; k=${R[kernel,$f]}; o=${R[fuse-overlayfs,$f]:-}
  rf="-"; [[ -n "$o" ]] && rf=$(ratio "$i" "$o")
  rk=$(ratio "$i" "$k")
  printf "%-14s %10.3f %15s %10.3f %12s %12s\n" "$f" "$i" "${o:+$(printf %.3f "$o")}" "$k" "$rf" "$rk"
done
