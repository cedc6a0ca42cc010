#!/usr/bin/env bash
# Installs what imgbuild needs from Debian's archive. Idempotent: installs only what is missing.
#   scripts/install-deps.sh build   compilers and -dev libraries (enough to build and run imgbuild)
#   scripts/install-deps.sh test    + the peers the integration tests talk to (registry, skopeo, ...)
#   scripts/install-deps.sh bench   + the peers the benchmarks compare against (docker, buildah, ...)
set -euo pipefail
mode=${1:-build}

build_pkgs=(build-essential cmake pkg-config git ca-certificates
  libfuse3-dev fuse3 liburing-dev libarchive-dev libssl-dev libzstd-dev zlib1g-dev liblzma-dev libbz2-dev
  nlohmann-json3-dev libcurl4-openssl-dev libcli11-dev libcap-dev libseccomp-dev
  busybox-static iproute2 procps slirp4netns uidmap)  # uidmap: rootless (docs/rootless.md)
test_pkgs=(catch2 libcpp-httplib-dev clang-16 libclang-rt-16-dev clang-format
  groff-base man-db  # the install test renders the generated man pages (tests/integration/install)
  docker-registry apache2-utils skopeo umoci oci-image-tool fuse-overlayfs runc curl
  python3 xz-utils bzip2 zstd docker.io
  golang-go golang-github-containerd-stargz-snapshotter-dev  # tests/tools/estargz-check
  stargz-snapshotter containerd  # ctr-remote on a private containerd (tests/interop)
  openssh-client  # ssh-agent and ssh-keygen for the build --ssh test
  autoconf automake perl)  # the last three build and run pjdfstest (tests/suites/run.sh)
bench_pkgs=(hyperfine debootstrap buildah podman crun docker.io)

pkgs=("${build_pkgs[@]}")
case "$mode" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
