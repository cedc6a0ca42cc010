#!/bin/bash
# imgbuild push/pull against a local CNCF distribution registry on loopback, beside skopeo + umoci.
# Image: the Debian base rootfs (debootstrap minbase, cached under /var/tmp/imgbuild-bench/) as one
# gzip layer in an OCI layout (cached too). Figures (seconds, lower is better), in one run:
#   push   imgbuild push to an empty registry   vs  skopeo copy oci:... docker://... (empty registry)
#   pull   imgbuild pull (download + unpack)    vs  skopeo copy docker://... oci:... + umoci unpack
#   pull with every layer already present (imgbuild)
#
#   bench/registry/run.sh [--smoke]
#
# --smoke: a few MB of synthetic files instead of Debian (no debootstrap); takes seconds (CI).
# Needs docker-registry, skopeo, umoci and a built imgbuild ($IMGBUILD_BINARY, else build*/cli/).
set -euo pipefail

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE=/var/tmp/imgbuild-bench

. "$HERE/../lib/imgbuild.sh"
find_imgbuild registry
for tool in docker-registry skopeo umoci; do
  command -v $tool > /dev/null || { echo "bench/registry: $tool missing (scripts/install-deps.sh test)" >&2; exit 1; }
done

WORK="$(mktemp -d /var/tmp/imgbuild-bench-registry.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_registry NAME: starts an empty registry; sets HOST.
start_registry() {
  local dir="$WORK/reg-$1" port
  port=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/config.yml" << YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  PIDS+=($!)
  HOST="127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -sf "http://$HOST/v2/" > /dev/null && return 0
    sleep 0.05
  done
  echo "bench/registry: registry on $HOST did not start" >&2
  cat "$dir/log" >&2
  exit 1
}

# ---- the image as an OCI layout (one gzip layer)
make_layout() {  # rootfs layout
  local rootfs=$1 layout=$2 tmp="$2.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp/blobs/sha256"
  tar --sort=name --numeric-owner -C "$rootfs" -cf "$tmp/layer.tar" .
  local diff_id layer size cfg cfg_digest cfg_size man man_digest
  diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  gzip -n -c "$tmp/layer.tar" > "$tmp/layer.tgz"
  rm "$tmp/layer.tar"
  layer=$(sha256sum "$tmp/layer.tgz" | cut -d' ' -f1)
  size=$(stat -c %s "$tmp/layer.tgz")
  mv "$tmp/layer.tgz" "$tmp/blobs/sha256/$layer"
  cfg='{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/bash"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$diff_id'"]},"history":[{"created_by":"debootstrap"}]}'
  printf '%s' "$cfg" > "$tmp/cfg"
  cfg_digest=$(sha256sum "$tmp/cfg" | cut -d' ' -f1)
  cfg_size=$(stat -c %s "$tmp/cfg")
  mv "$tmp/cfg" "$tmp/blobs/sha256/$cfg_digest"
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cfg_digest'","size":'$cfg_size'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$layer'","size":'$size'}]}'
  printf '%s' "$man" > "$tmp/man"
  man_digest=$(sha256sum "$tmp/man" | cut -d' ' -f1)
  mv "$tmp/man" "$tmp/blobs/sha256/$man_digest"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci-layout"
  echo '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$man_digest'","size":'${#man}',"annotations":{"org.opencontainers.image.ref.name":"base"}}]}' > "$tmp/index.json"
  rm -rf "$layout"
  mv "$tmp" "$layout"
}

if [[ $SMOKE == 1 ]]; then
  ROOTFS="$WORK/rootfs"
  for d in $(seq 1 10); do
    mkdir -p "$ROOTFS/usr/share/d$d"
    for f in $(seq 1 20); do head -c 8192 /dev/urandom > "$ROOTFS/usr/share/d$d/f$f"; done
  done
  LAYOUT="$WORK/layout"
  make_layout "$ROOTFS" "$LAYOUT"
else
  ROOTFS="$CACHE/rootfs"
  if [[ ! -d "$ROOTFS" ]]; then
    echo "bench/registry: creating $ROOTFS with debootstrap (once)" >&2
    mkdir -p "$CACHE"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" http://deb.debian.org/debian > "$CACHE/debootstrap.log"
    mv "$CACHE/rootfs.tmp" "$ROOTFS"
  fi
  LAYOUT="$CACHE/registry-oci"
  if [[ ! -f "$LAYOUT/index.json" ]]; then
    echo "bench/registry: writing $LAYOUT (once)" >&2
    make_layout "$ROOTFS" "$LAYOUT"
  fi
fi
LAYER_BYTES=$(find "$LAYOUT/blobs" -type f -printf '%s\n' | sort -n | tail -1)
echo "image: $(echo "scale=1; $LAYER_BYTES / 1000000" | bc) MB compressed, one gzip layer"

SKOPEO=(skopeo copy -q --src-tls-verify=false --dest-tls-verify=false)
export DOCKER_CONFIG="$WORK/docker"

# ---- source registry with the image (pushed by skopeo), and the image in an imgbuild store
start_registry src
SRC=$HOST
"${SKOPEO[@]}" "oci:$LAYOUT:base" "docker://$SRC/bench/base:1"
STORE="$WORK/store"
"$IMGBUILD" --root "$STORE" pull -q "$SRC/bench/base:1" > /dev/null

# ---- push to an empty registry
start_registry push-imgbuild
t=$(now)
"$IMGBUILD" --root "$STORE" push -q "$SRC/bench/base:1" "$HOST/bench/base:1" > /dev/null
PUSH_IMGBUILD=$(elapsed "$t")

start_registry push-skopeo
t=$(now)
"${SKOPEO[@]}" "oci:$LAYOUT:base" "docker://$HOST/bench/base:1"
PUSH_SKOPEO=$(elapsed "$t")

# ---- pull + unpack into empty stores
sync
t=$(now)
"$IMGBUILD" --root "$WORK/store-pull" pull -q "$SRC/bench/base:1" > /dev/null
PULL_IMGBUILD=$(elapsed "$t")

t=$(now)
"${SKOPEO[@]}" "docker://$SRC/bench/base:1" "oci:$WORK/skopeo-oci:base"
umoci unpack --image "$WORK/skopeo-oci:base" "$WORK/bundle" > /dev/null
PULL_SKOPEO=$(elapsed "$t")

# ---- pull again: every layer present
t=$(now)
"$IMGBUILD" --root "$WORK/store-pull" pull -q "$SRC/bench/base:1" > /dev/null
PULL_PRESENT=$(elapsed "$t")

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf 'push (empty registry)      imgbuild %6.2fs   skopeo copy          %6.2fs   ratio %s\n' \
  "$PUSH_IMGBUILD" "$PUSH_SKOPEO" "$(ratio "$PUSH_IMGBUILD" "$PUSH_SKOPEO")"
printf 'pull + unpack              imgbuild %6.2fs   skopeo + umoci       %6.2fs   ratio %s\n' \
  "$PULL_IMGBUILD" "$PULL_SKOPEO" "$(ratio "$PULL_IMGBUILD" "$PULL_SKOPEO")"
printf 'pull, layers present       imgbuild %6.2fs\n' "$PULL_PRESENT"
