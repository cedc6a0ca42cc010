#!/bin/bash
# Dockerfile front end: time for `imgbuild parse` to parse, plan and expand a generated
# 5,000-instruction multi-stage Dockerfile (ARG/ENV with expansions, RUN with continuations,
# COPY --from, heredocs, LABEL, EXPOSE, WORKDIR), printed as JSON to /dev/null. Reports the best
# and median of 7 runs in milliseconds, and the process start-up time (`imgbuild version`) for
# reference, since the figure includes it.
#
#   bench/parse/run.sh [--smoke]
#
# --smoke: 500 instructions, 2 runs (CI). Needs a built imgbuild ($IMGBUILD_BINARY or $IMGBUILD,
# else build*/cli/imgbuild).
set -euo pipefail

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
HERE="$(cd "$(dirname "$0")" && pwd)"

. "$HERE/../lib/imgbuild.sh"
find_imgbuild parse

COUNT=5000
RUNS=7
if [[ $SMOKE == 1 ]]; then COUNT=500; RUNS=2; fi

WORK="$(mktemp -d /tmp/imgbuild-bench-parse.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
DF="$WORK/Dockerfile"

# ---- generate: stages of 250 instructions each, every one depending on the previous stage.
awk -v count="$COUNT" 'BEGIN {
  print "# syntax=docker/dockerfile:1"
  print "ARG BASE=debian"
  print "ARG TAG=12"
  n = 2; stage = 0
  while (n < count) {
    if (stage == 0) print "FROM ${BASE}:${TAG} AS s0"
    else printf "FROM s%d AS s%d\n", stage - 1, stage
    n++
    for (i = 0; i < 249 && n < count; i++) {
      k = n % 10
      if (k == 0) printf "ARG V%d=value-%d\n", n, n
      else if (k == 1) printf "ENV E%d=\"${V%d:-dflt} $HOME\" P%d=/opt/%d/bin:$PATH\n", n, n - 1, n, n
      else if (k == 2) printf "RUN set -eux; \\\n    echo %d \\\n    && make -j2 target-%d\n", n, n
      else if (k == 3) printf "COPY --chown=1000:1000 --chmod=0644 src/%d/*.go \"/app/${V%d}/\"\n", n, n - 3
      else if (k == 4) printf "LABEL org.example.step%d=\"%d\" org.example.dir=${E%d}\n", n, n, n - 3
      else if (k == 5) printf "WORKDIR /work/${V%d}/%d\n", n - 5, n
      else if (k == 6) printf "EXPOSE %d/tcp ${TAG}%d/udp\n", 1000 + n % 50000, n % 10
      else if (k == 7) {
        if (stage > 0) printf "COPY --from=s%d /out/%d /in/%d\n", stage - 1, n, n
        else printf "COPY <<EOF /etc/conf-%d\nvalue=${V%d}\nEOF\n", n, n - 7
      }
      else if (k == 8) printf "RUN [\"/bin/sh\", \"-c\", \"echo %d\"]\n", n
      else printf "USER app%d:app\n", n
      n++
    }
    stage++
  }
}' > "$DF"
instructions=$(grep -cE '^(FROM|ARG|ENV|RUN|COPY|LABEL|WORKDIR|EXPOSE|USER) ' "$DF")

"$IMGBUILD" parse -f "$DF" --format json > /dev/null  # validates (and warms the page cache)

ms() { echo $(( $1 / 1000000 )).$(( ($1 / 10000) % 100 )); }
wall_best() {  # best wall-clock nanoseconds of $RUNS runs of a command
  local best=0
  for _ in $(seq "$RUNS"); do
    local a b
    a=$(date +%s%N)
    "$@" > /dev/null 2>&1
    b=$(date +%s%N)
    (( best == 0 || b - a < best )) && best=$(( b - a ))
  done
  echo "$best"
}
# In-process figures from --timing (steady clock around parse, plan and expand only).
mapfile -t totals < <(for _ in $(seq "$RUNS"); do
  "$IMGBUILD" parse -f "$DF" --timing 2>&1 > /dev/null | sed -n 's/.*total \([0-9.]*\) ms/\1/p'
done | sort -n)
last=$("$IMGBUILD" parse -f "$DF" --timing 2>&1 > /dev/null | grep '^timing:')
process=$(wall_best "$IMGBUILD" parse -f "$DF" --format json)
start=$(wall_best "$IMGBUILD" version)

echo "bench/parse: $instructions instructions, $(wc -l < "$DF") lines, $(grep -c '^FROM' "$DF") stages"
echo "  parse + plan + expand (in process):  best ${totals[0]} ms, median ${totals[$(( RUNS / 2 ))]} ms over $RUNS runs"
echo "    last run: ${last#timing: }"
echo "  whole 'imgbuild parse --format json' process: best $(ms "$process") ms (start-up alone: $(ms "$start") ms)"
