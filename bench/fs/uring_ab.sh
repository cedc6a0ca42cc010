#!/bin/bash
# imgfs through FUSE over io_uring against imgfs through /dev/fuse: the same binary, the same
# kernel setting (enable_uring=Y; `-o nouring` for /dev/fuse), rounds interleaved so that the
# machine's load falls on both alike. Prints every round and each figure's median and best.
#
#   bench/fs/uring_ab.sh            (ROUNDS=N, default 5; needs root and a kernel with
#                                    /sys/module/fuse/parameters/enable_uring, Linux 6.14+)
#
# Figures, seconds (writable mount, one lower layer):
#   xattr_rt     20,000 getxattr(2) of an absent user.* xattr on an upper file: every one a
#                GETXATTR round trip (the kernel caches no xattrs but ACLs) and ENODATA
#   create_small 5,000 `echo $i > f$i` (bash), as bench/fs/run.sh
#   tar_x_20k    `tar x` of 20,000 files of 10-109 bytes in 200 directories
#   rm_rf        `rm -rf` of those 20,000 files
#   write_fsync  dd of 256 MiB with conv=fsync
#   cpu_us_per_request  the server's CPU time (all threads, user + system) over all of the above,
#                per request it served (microseconds)
# enable_uring is put back as it was on exit.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
IMGFS="${IMGFS:-$REPO/build/cli/imgfs}"
PARAM=/sys/module/fuse/parameters/enable_uring
ROUNDS=${ROUNDS:-5}
[[ -x "$IMGFS" ]] || { echo "uring_ab: no imgfs at $IMGFS (set IMGFS)" >&2; exit 1; }
[[ $(id -u) == 0 && -w $PARAM ]] || { echo "uring_ab: needs root and $PARAM" >&2; exit 1; }

# The lock tests/integration/fs/uring_test.cpp holds while it changes the setting.
exec 9> /tmp/imgbuild-enable-uring.lock
flock 9
WORK="$(mktemp -d /var/tmp/imgbuild-uring-ab.XXXXXX)"
MNT="$WORK/mnt"
OLD=$(cat $PARAM)
cleanup() {
  mountpoint -q "$MNT" 2> /dev/null && { umount "$MNT" 2> /dev/null || umount -l "$MNT"; }
  echo "$OLD" > $PARAM
  rm -rf "$WORK"
}
trap cleanup EXIT
echo Y > $PARAM

mkdir -p "$WORK/lower/dir" "$MNT" "$WORK/src"
for d in $(seq 200); do
  mkdir "$WORK/src/d$d"
  for f in $(seq 100); do head -c $((10 + f)) /dev/zero > "$WORK/src/d$d/f$f"; done
done
tar -C "$WORK/src" -cf "$WORK/20k.tar" .
rm -rf "$WORK/src"

elapsed() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.4f", a - b }'; }
declare -A R
FIGS=(xattr_rt create_small tar_x_20k rm_rf write_fsync cpu_us_per_request)
MODES=(uring nouring)

run_mode() {  # mode round
  local mode=$1 t
  rm -rf "$WORK/up" && mkdir "$WORK/up"
  "$IMGFS" -f "$MNT" -o "lowerdir=$WORK/lower,upperdir=$WORK/up,debug_stats,$mode" \
    2> "$WORK/server.log" &
  local pid=$!
  for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
  echo x > "$MNT/statme"
  sync
  t=$EPOCHREALTIME
  python3 -c "import os
for _ in range(20000):
  try: os.getxattr('$MNT/statme', 'user.absent')
  except OSError: pass"
  R[$mode,$2,xattr_rt]=$(elapsed "$t")
  sync; mkdir "$MNT/new"; t=$EPOCHREALTIME
  (cd "$MNT/new" && for i in $(seq 5000); do echo "$i" > "f$i"; done)
  R[$mode,$2,create_small]=$(elapsed "$t")
  sync; mkdir "$MNT/t"; t=$EPOCHREALTIME
  tar -C "$MNT/t" -xf "$WORK/20k.tar"
  R[$mode,$2,tar_x_20k]=$(elapsed "$t")
  sync; t=$EPOCHREALTIME
  rm -rf "$MNT/t"
  R[$mode,$2,rm_rf]=$(elapsed "$t")
  sync; t=$EPOCHREALTIME
  dd if=/dev/zero of="$MNT/written" bs=1M count=256 conv=fsync status=none
  R[$mode,$2,write_fsync]=$(elapsed "$t")
  # The server's CPU time (user + system, clock ticks), all threads, for every request it served.
  local ticks
  ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  umount "$MNT"
  wait
  local ring requests
  ring=$(sed -n 's/.*through io_uring: \([0-9]*\).*/\1/p' "$WORK/server.log")
  requests=$(sed -n 's/.*requests: \([^;]*\).*/\1/p' "$WORK/server.log" | tr ',' '\n' |
    awk '{ n += $2 } END { print n }')
  R[$mode,$2,cpu_us_per_request]=$(awk -v t="$ticks" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  echo "round $2 $mode: $(for f in "${FIGS[@]}"; do printf '%s %s ' "$f" "${R[$mode,$2,$f]}"; done)requests $requests, through io_uring ${ring:-0}; load $(cut -d' ' -f1-3 /proc/loadavg)"
}

for round in $(seq "$ROUNDS"); do
  # Alternate which goes first, so neither always follows the other's writeback.
  if ((round % 2)); then order=(uring nouring); else order=(nouring uring); fi
  for mode in "${order[@]}"; do run_mode "$mode" "$round"; done
done

stats() {  # values... -> "median best"
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f", m, v[1] }'
}
printf "%-19s %20s %20s %8s\n" figure "uring median/best" "/dev/fuse median/best" "ratio"
for f in "${FIGS[@]}"; do
  u=(); d=()
  for r in $(seq "$ROUNDS"); do u+=("${R[uring,$r,$f]}"); d+=("${R[nouring,$r,$f]}"); done
  read -r um ub <<< "$(stats "${u[@]}")"
  read -r dm db <<< "$(stats "${d[@]}")"
  printf "%-19s %20s %20s %8s\n" "$f" "$um / $ub" "$dm / $db" \
    "$(awk -v a="$um" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
