# Sourced by the benchmarks: a private docker-registry on a free loopback port.
#
#   start_bench_registry WORK NAME   starts it with its storage in WORK/registry; sets reg
#                                    (127.0.0.1:PORT) and reg_pid (stop it with kill "$reg_pid")

start_bench_registry() {
  local work=$1 name=$2 port
  command -v docker-registry >/dev/null ||
    { echo "bench/$name: docker-registry not installed" >&2; return 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  reg_pid=$!
  reg=127.0.0.1:$port
  for _ in $(seq 1 100); do curl -sf "http://$reg/v2/" >/dev/null && return 0; sleep 0.05; done
  echo "bench/$name: docker-registry did not start: $(cat "$work/registry.log")" >&2
  return 1
}
