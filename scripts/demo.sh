#!/usr/bin/env bash
# The main job: build imgbuild, make a busybox base image locally (no downloads), import it into a
# store, build examples/hello/Dockerfile on it (`imgbuild -f Dockerfile -t hello .`) and run the
# result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build -DIMGBUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target imgbuild
bin=build/cli/imgbuild
export IMGBUILD_ROOT=${IMGBUILD_ROOT:-$PWD/build/demo-store}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
testdata/make-busybox-rootfs.sh --tar "$work/busybox.tar"
"$bin" import "$work/busybox.tar" busybox:latest
(cd examples/hello && "../../$bin" -f Dockerfile -t hello --progress plain .)
"$bin" images
"$bin" run --rm hello

# The README's tutorial: a web server image, published on a free loopback port, opened, removed.
"$bin" build -t web examples/web
"$bin" rm -f demo-web > /dev/null 2>&1 || true
"$bin" run -d -p 127.0.0.1::80 --name demo-web web
addr=$("$bin" port demo-web 80)
echo "web is published on $addr:"
for _ in $(seq 1 100); do busybox wget -qO- "http://$addr/" && break; sleep 0.1; done
"$bin" rm -f demo-web
