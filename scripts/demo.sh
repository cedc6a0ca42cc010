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
