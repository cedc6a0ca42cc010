# Sourced by the benchmarks: the options every bench/<area>/run.sh takes.
#
#   parse_bench_args NAME DEFAULT_RUNS "$@"   sets smoke (0/1) and runs; --smoke means one run on
#                                             small data (CI), --runs N repeats the timed cases
#   debian_base_rootfs NAME                   prints the Debian minbase rootfs the full runs use,
#                                             made once with debootstrap in /var/tmp/imgbuild-bench

parse_bench_args() {
  local name=$1
  runs=$2
  smoke=0
  shift 2
  while [ $# -gt 0 ]; do
    case "$1" in
      --smoke) smoke=1; runs=1 ;;
      --runs) runs=$2; shift ;;
      *) echo "usage: bench/$name/run.sh [--smoke] [--runs N]" >&2; exit 2 ;;
    esac
    shift
  done
}

debian_base_rootfs() {
  local name=$1 cache=/var/tmp/imgbuild-bench
  if [ ! -d "$cache/rootfs" ]; then
    echo "bench/$name: creating $cache/rootfs with debootstrap (once)" >&2
    mkdir -p "$cache"; rm -rf "$cache/rootfs.tmp"
    debootstrap --variant=minbase bookworm "$cache/rootfs.tmp" http://deb.debian.org/debian \
      >"$cache/debootstrap.log"
    mv "$cache/rootfs.tmp" "$cache/rootfs"
  fi
  echo "$cache/rootfs"
}
