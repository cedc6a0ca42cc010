#!/usr/bin/env bash
# External file-system test suites on imgfs (docs/imgfs.md, "Conformance"):
#   1. pjdfstest (POSIX) inside a writable imgfs mount whose server runs under a 256-fd limit
#      (soft and hard, so it cannot raise it): 0 failures expected;
#   2. unionmount-testsuite --ov and --ov=3 through `mount -t fuse.imgfs`, with the suite's own
#      /lower, /upper and /mnt mounts and its `umount /mnt && umount /lower` at every test.
#
#   tests/suites/run.sh --imgfs BUILD/cli/imgfs [--suites DIR] [--only pjdfstest|unionmount]
#
# The suites' sources (DIR, default ../shared/suites next to the checkout) are only read: they are
# copied to a temp dir and built there. Everything runs in a private mount namespace, and the
# unionmount suite in a chroot made of bind mounts (a tmpfs root with /lower, /upper and /mnt of its
# own, and a directory holding imgfs mounted over /usr/local/sbin, where mount.fuse3 looks for it),
# so nothing is installed or created outside the temp dir. Needs root, /dev/fuse and the test
# packages (scripts/install-deps.sh test: autoconf, automake, perl's prove, python3).
# Exit: 0 all passed, 1 a failure, 77 skipped on request (IMGBUILD_SUITES_SKIP=1; never in CI).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
IMGFS=""
SUITES="$HERE/../../../shared/suites"
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --imgfs) IMGFS="$2"; shift 2 ;;
    --suites) SUITES="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    *) echo "usage: $0 --imgfs PATH [--suites DIR] [--only pjdfstest|unionmount]" >&2; exit 2 ;;
  esac
done

log() { echo "suites: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

if [[ "${IMGBUILD_SUITES_SKIP:-}" == 1 ]]; then
  [[ -n "${CI:-}" ]] && die "IMGBUILD_SUITES_SKIP=1 is not honoured in CI"
  log "SKIP: IMGBUILD_SUITES_SKIP=1"
  exit 77
fi
[[ -x "$IMGFS" ]] || die "imgfs binary not found: '$IMGFS' (--imgfs)"
[[ $(id -u) == 0 && -c /dev/fuse ]] || die "needs root and /dev/fuse"
[[ -d "$SUITES/pjdfstest" && -d "$SUITES/unionmount-testsuite" ]] ||
  die "no suites in $SUITES (--suites)"
for tool in autoreconf make cc prove python3 unshare chroot mount.fuse3; do
  command -v "$tool" > /dev/null || die "$tool missing: run scripts/install-deps.sh test"
done
IMGFS="$(cd "$(dirname "$IMGFS")" && pwd)/$(basename "$IMGFS")"
# Twice the cores: the tests sleep (timestamps) and fork a lot; more jobs overlap the waits.
JOBS=$((2 * $(nproc)))

WORK="$(mktemp -d /tmp/imgfs-suites.XXXXXX)"
# Mounts live in the private namespaces below and go with them; only files are left to remove.
trap 'rm -rf "$WORK"' EXIT

run_pjdfstest() {
  log "pjdfstest: building in $WORK/pjdfstest"
  cp -r "$SUITES/pjdfstest" "$WORK/pjdfstest"
  (cd "$WORK/pjdfstest" && autoreconf -ifs && ./configure && make pjdfstest) \
    > "$WORK/pjdfstest-build.log" 2>&1 || { tail -20 "$WORK/pjdfstest-build.log"; die "building pjdfstest"; }
  mkdir -p "$WORK/pjd/lower/dir" "$WORK/pjd/upper" "$WORK/pjd/mnt"
  echo lower > "$WORK/pjd/lower/dir/file"
  log "pjdfstest: prove -j$JOBS on imgfs (server limited to 256 fds)"
  local t=$SECONDS
  # The tests run inside a directory of the lower layer, so every file they make lives beside
  # lower entries, in a copied-up directory.
  unshare -m --propagation private bash -c '
    set -e
    ( ulimit -n 256 && exec "$1" imgfs "$2/mnt" -o "lowerdir=$2/lower,upperdir=$2/upper" )
    cd "$2/mnt/dir"
    prove -r -j"$3" "$4/tests"
  ' pjdfstest "$IMGFS" "$WORK/pjd" "$JOBS" "$WORK/pjdfstest" > "$WORK/pjdfstest.log" 2>&1 || {
    sed -n '/Test Summary Report/,$p' "$WORK/pjdfstest.log" | head -60
    die "pjdfstest on imgfs"
  }
  grep -E "^(Files=|Result:)" "$WORK/pjdfstest.log" >&2
  log "pjdfstest: passed in $((SECONDS - t)) s"
}

# A root of bind mounts of the host's system directories, with empty /lower, /upper, /mnt, /tmp
# of its own and imgfs as /usr/local/sbin/imgfs. Call inside a private mount namespace.
make_root() {
  local root=$1 entry name
  mkdir -p "$root"
  mount -t tmpfs suites-root "$root"
  for entry in bin sbin lib lib32 lib64 libx32 usr etc var run opt root home srv dev proc sys; do
    [[ -e "/$entry" || -L "/$entry" ]] || continue
    if [[ -L "/$entry" ]]; then
      ln -s "$(readlink "/$entry")" "$root/$entry"
    else
      mkdir "$root/$entry"
      mount --rbind "/$entry" "$root/$entry"
    fi
  done
  mkdir -p "$root/lower" "$root/upper" "$root/mnt" "$root/tmp"
  mount --bind "$WORK/sbin" "$root/usr/local/sbin"
  cp -r "$SUITES/unionmount-testsuite" "$root/unionmount-testsuite"
}

run_unionmount() {
  local mode t
  mkdir -p "$WORK/sbin"
  cp "$IMGFS" "$WORK/sbin/imgfs"
  for mode in --ov --ov=3; do
    log "unionmount-testsuite $mode --fuse=imgfs"
    t=$SECONDS
    # --xdev is not given: imgfs renames lower directories instead of returning EXDEV.
    unshare -m --propagation private bash -c "
      set -e
      $(declare -f make_root)
      WORK='$WORK' IMGFS='$IMGFS' SUITES='$SUITES'
      make_root '$WORK/root'
      # A mount the suite leaves at /mnt would keep its server alive in this namespace (which the
      # server itself then keeps alive) after the run: unmount it on the way out.
      trap \"umount -l '$WORK/root/mnt' 2>/dev/null || true\" EXIT
      chroot '$WORK/root' /bin/sh -c 'cd /unionmount-testsuite && ./run $mode --fuse=imgfs'
    " > "$WORK/unionmount$mode.log" 2>&1 || {
      tail -40 "$WORK/unionmount$mode.log"
      die "unionmount-testsuite $mode on imgfs"
    }
    log "unionmount-testsuite $mode: $(grep -c '^\*\*\* \./run' "$WORK/unionmount$mode.log") tests" \
      "passed in $((SECONDS - t)) s"
  done
}

[[ -z "$ONLY" || "$ONLY" == pjdfstest ]] && run_pjdfstest
[[ -z "$ONLY" || "$ONLY" == unionmount ]] && run_unionmount
log "all passed"
