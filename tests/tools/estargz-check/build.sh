#!/bin/sh
# Builds estargz-check (usage in main.go) from Debian's packaged Go sources, offline:
#   build.sh OUT_BINARY
# Needs golang-go and golang-github-containerd-stargz-snapshotter-dev (scripts/install-deps.sh).
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache" GOFLAGS= \
  go build -o "$out" "$here/main.go"
