# Sourced by benchmarks that measure Docker's BuildKit: a private dockerd for one run.
#
#   start_private_dockerd WORKDIR   sets DOCKER_HOST (and DOCKER_BIN) or returns 1
#   stop_private_dockerd            kills it and lazily unmounts what it left under WORKDIR
#
# When DOCKER_HOST is already set and answers, that daemon is used and nothing is started.
# Debian's docker.io client (/usr/bin/docker) is used, never another docker on PATH. The daemon
# has no iptables and no bridge (builds use --network=host), overlay2 storage, else vfs.

DOCKER_BIN=/usr/bin/docker
_dockerd_pid=""
_dockerd_dir=""

start_private_dockerd() {
  local dir=$1/dockerd driver
  if [ -n "${DOCKER_HOST:-}" ] && timeout 10 "$DOCKER_BIN" version >/dev/null 2>&1; then
    return 0
  fi
  [ -x "$DOCKER_BIN" ] && command -v dockerd >/dev/null || return 1
  mkdir -p "$dir"
  _dockerd_dir=$dir
  export DOCKER_HOST="unix://$dir/docker.sock"
  for driver in overlay2 vfs; do
    dockerd --data-root "$dir/data-$driver" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
      -H "$DOCKER_HOST" --iptables=false --ip6tables=false --bridge=none \
      --storage-driver "$driver" >"$dir/dockerd-$driver.log" 2>&1 &
    _dockerd_pid=$!
    for _ in $(seq 1 120); do
      kill -0 "$_dockerd_pid" 2>/dev/null || break
      if timeout 5 "$DOCKER_BIN" version >/dev/null 2>&1; then return 0; fi
      sleep 0.5
    done
    kill "$_dockerd_pid" 2>/dev/null; wait "$_dockerd_pid" 2>/dev/null || true
    _dockerd_pid=""
  done
  echo "bench: dockerd did not start (tried overlay2 and vfs): $(tail -3 "$dir"/dockerd-vfs.log)" >&2
  unset DOCKER_HOST
  return 1
}

stop_private_dockerd() {
  [ -n "$_dockerd_pid" ] || return 0
  kill "$_dockerd_pid" 2>/dev/null; wait "$_dockerd_pid" 2>/dev/null || true
  _dockerd_pid=""
  # dockerd leaves overlay and shm mounts behind; never rm -rf through a mount.
  awk -v d="$_dockerd_dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
