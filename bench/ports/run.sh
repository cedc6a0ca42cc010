#!/bin/bash
# Throughput through a published port: download a 1 GiB file from busybox httpd in a container,
# once through `-p` (imgbuild's splice proxy into the container's network namespace) and once
# with `--network host` (no proxy), in one run. Best of 3 each; prints MiB/s and the ratio
# published/host (target: >= 0.80).
#
#   bench/ports/run.sh [--smoke]
#
# --smoke: a 64 MiB file, one transfer each (CI). Needs root, /dev/fuse, busybox-static and a
# built imgbuild ($IMGBUILD_BINARY or $IMGBUILD, else build*/cli/imgbuild). The file is served
# from a host tmpfs bound into the container, so neither side reads a disk or FUSE.
set -euo pipefail

SIZE_MB=1024
RUNS=3
[[ "${1:-}" == "--smoke" ]] && SIZE_MB=64 && RUNS=1
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

. "$HERE/../lib/imgbuild.sh"
find_imgbuild ports
[[ $(id -u) == 0 && -e /dev/fuse ]] || { echo "bench/ports: needs root and /dev/fuse" >&2; exit 1; }

WORK="$(mktemp -d /var/tmp/imgbuild-bench-ports.XXXXXX)"
WWW="$(mktemp -d /dev/shm/imgbuild-bench-www.XXXXXX)"
export IMGBUILD_ROOT="$WORK/store"
cleanup() {
  "$IMGBUILD" rm -f bench-web > /dev/null 2>&1 || true
  rm -rf "$WORK" "$WWW"
}
trap cleanup EXIT

"$REPO/testdata/make-busybox-rootfs.sh" --tar "$WORK/busybox.tar"
"$IMGBUILD" import "$WORK/busybox.tar" busybox:latest > /dev/null
head -c "$((SIZE_MB * 1024 * 1024))" /dev/zero > "$WWW/big"
chmod 0755 "$WWW"
chmod 0644 "$WWW/big"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

# Downloads /big from 127.0.0.1:$1; prints the microseconds it took (checks the byte count).
download() {
  local port=$1 t0 t1 bytes
  for _ in $(seq 1 200); do  # the server starts after `run -d` returns
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    sleep 0.05
  done
  t0=$(now_ns)
  bytes=$(exec 3<> "/dev/tcp/127.0.0.1/$port"; printf 'GET /big HTTP/1.0\r\n\r\n' >&3; cat <&3 | wc -c)
  t1=$(now_ns)
  ((bytes > SIZE_MB * 1024 * 1024)) || { echo "bench/ports: short download ($bytes bytes)" >&2; exit 1; }
  echo $(((t1 - t0) / 1000))
}

best_of() {  # mode port
  local best=0 us
  for _ in $(seq 1 "$RUNS"); do
    us=$(download "$2")
    ((best == 0 || us < best)) && best=$us
  done
  echo "$best"
}

measure() {  # published|host
  local port
  port=$(free_port)
  if [[ $1 == published ]]; then
    "$IMGBUILD" run -d --name bench-web -v "$WWW:/www:ro" -p "127.0.0.1:$port:80" busybox:latest \
      httpd -f -p 80 -h /www > /dev/null
  else
    "$IMGBUILD" run -d --name bench-web -v "$WWW:/www:ro" --network host busybox:latest \
      httpd -f -p "127.0.0.1:$port" -h /www > /dev/null
  fi
  best_of "$1" "$port"
  "$IMGBUILD" rm -f bench-web > /dev/null
}

PUB=$(measure published)
HOST=$(measure host)
awk -v p="$PUB" -v h="$HOST" -v mb="$SIZE_MB" -v n="$RUNS" 'BEGIN {
  printf "download %d MiB from busybox httpd, best of %d\n", mb, n
  printf "  -p 127.0.0.1:PORT:80 (splice proxy)  %8.0f MiB/s\n", mb / (p / 1e6)
  printf "  --network host (no proxy)           %8.0f MiB/s\n", mb / (h / 1e6)
  printf "  ratio published/host  %.2f (target >= 0.80)\n", h / p
}'
