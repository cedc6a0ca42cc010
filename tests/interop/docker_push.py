#!/usr/bin/env python3
"""Interop: an image pushed by `docker push` (Docker schema 2) and pulled by imgbuild gives the
same root filesystem and config as the image docker has; and an image imgbuild builds and saves
with `save --format docker` loads into docker (`docker load`) with the same ID, config and tree,
and pushed with `--compression estargz` is pulled by `docker pull` to the same tree; and the Go
templates scripts use (`inspect`, `images`, `history`, `ps --format`) print the same text in both.

    tests/interop/docker_push.py --imgbuild build/cli/imgbuild --testdata testdata [--keep]

Starts, in one temporary directory, a private dockerd (own socket, no iptables, no bridge;
overlay2, else vfs) and a `docker-registry` on 127.0.0.1. Makes a busybox base with
testdata/make-busybox-rootfs.sh, `docker import`s it, builds a multi-layer image with BuildKit
(COPY, RUN, a deleted file, a deleted and recreated directory), pushes it, pulls it with imgbuild
and compares:
  - the tree imgbuild mounts (`imgbuild mount`, read-only) with `docker export` of a created
    container (docker's per-container stubs dropped), by type, mode, owner, size, sha256 and
    symlink target;
  - the config (Env, Cmd, Entrypoint, WorkingDir, User), the image ID and the manifest digest;
  - the pulled manifest's media type (Docker schema 2) and its layers' media types.
Exit status: 0 on a match, 1 on a mismatch or setup failure, 77 when skipped on request
(IMGBUILD_INTEROP_SKIP=1; refused when CI is set). Needs root (dockerd, FUSE).
"""

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time

SKIP = 77
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from peers import PeerError as Failure, Peers, log, run, skip_requested  # noqa: E402
from trees import entry, tree_of_dir  # noqa: E402

DOCKER_SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User"]
# What docker adds to every container (the "init" layer), absent from the image itself.
DOCKER_STUBS = ["/.dockerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab",
                "/dev/console", "/dev/pts", "/dev/shm"]

DOCKERFILE = """\
FROM interop-base:latest
ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /app
COPY files/ /app/
RUN mkdir -p /data/sub /cache && echo one > /data/sub/a && echo two > /data/b \\
 && ln -s sub/a /data/link && ln /data/sub/a /data/hard && chmod 0640 /data/b \\
 && chown 1000:1000 /data/b && touch /cache/x /cache/y && chmod 4755 /app/run.sh
RUN rm /data/b /bin/vi && rm -rf /home/app /cache && mkdir /cache && echo z > /cache/z \\
 && echo extra:x:2000: >> /etc/group
USER 1000:1000
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
"""


class Services(Peers):
    """The peers of this test, plus the imgbuild mounts it makes; cleanup() undoes all of them."""

    def __init__(self, imgbuild, keep):
        super().__init__("imgbuild-interop-docker-", keep=keep)
        self.imgbuild_bin = imgbuild
        self.mountpoints = []
        self.store = os.path.join(self.tmp, "store")

    def docker_cmd(self, *argv, check=True, timeout=120):
        return super().docker_cmd(*argv, check=check, timeout=timeout)

    def imgbuild(self, *argv, timeout=120):
        return run([self.imgbuild_bin, "--root", self.store, *argv], timeout=timeout)[1]

    def start_dockerd(self):
        return super().start_dockerd("set IMGBUILD_INTEROP_SKIP=1")

    def mount(self, image, where):
        os.makedirs(where)
        self.imgbuild("mount", image, where)
        self.mountpoints.append(where)

    def umount(self, where):
        self.imgbuild("umount", where)
        self.mountpoints.remove(where)

    def cleanup(self):
        for m in list(self.mountpoints):
            try:
                self.umount(m)
            except (Failure, subprocess.TimeoutExpired):
                subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        super().cleanup()


# --------------------------------------------------------------------------------------------
# Trees: path -> {type, mode, owner, size, sha256, link}.


def norm(name):
    return "/" + "/".join(p for p in name.split("/") if p not in ("", "."))


def tree_of_export(archive):
    """The tree of a `docker export` tar (one flat layer; hard links resolved to their target)."""
    tree = {}
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            path = norm(m.name)
            if path == "/":
                continue
            if m.islnk():
                target = norm(m.linkname)
                tree[path] = dict(tree[target])
                continue
            if m.isreg():
                digest = hashlib.sha256(t.extractfile(m).read()).hexdigest()
                tree[path] = entry("file", m.mode, m.uid, m.gid, m.size, digest)
            elif m.isdir():
                tree[path] = entry("dir", m.mode, m.uid, m.gid)
            elif m.issym():
                tree[path] = entry("symlink", m.mode, m.uid, m.gid, link=m.linkname)
            elif m.ischr() or m.isblk():
                tree[path] = entry("dev %d:%d" % (m.devmajor, m.devminor), m.mode, m.uid, m.gid)
            elif m.isfifo():
                tree[path] = entry("fifo", m.mode, m.uid, m.gid)
            else:
                raise Failure("%s: unexpected tar member type %r" % (m.name, m.type))
    return tree


def compare_trees(ib, dk):
    # docker export shows the container's stubs in place of whatever the image has there.
    for stub in DOCKER_STUBS:
        dk.pop(stub, None)
        ib.pop(stub, None)
    for tree in (ib, dk):  # symlink permission bits mean nothing on Linux
        for e in tree.values():
            if e["type"] == "symlink":
                e["mode"] = "0777"
    diffs = []
    for path in sorted(set(ib) | set(dk)):
        if path not in dk:
            diffs.append("%s: only in imgbuild (%s)" % (path, ib[path]))
        elif path not in ib:
            diffs.append("%s: only in docker (%s)" % (path, dk[path]))
        elif ib[path] != dk[path]:
            for k in sorted(set(ib[path]) | set(dk[path])):
                if ib[path].get(k) != dk[path].get(k):
                    diffs.append("%s: %s: imgbuild %s, docker %s" %
                                 (path, k, ib[path].get(k), dk[path].get(k)))
    return diffs


def expect_paths(tree, present, absent):
    diffs = ["%s: missing from the pulled tree" % p for p in present if p not in tree]
    diffs += ["%s: should have been deleted by a whiteout" % p for p in absent if p in tree]
    return diffs


# --------------------------------------------------------------------------------------------


def compare_configs(ib, dk):
    ib_config, dk_config = ib.get("Config") or {}, dk.get("Config") or {}
    diffs = []
    for field in CONFIG_FIELDS:
        a, b = ib_config.get(field) or None, dk_config.get(field) or None
        if a != b:
            diffs.append("config %s: imgbuild %s, docker %s" %
                         (field, json.dumps(a), json.dumps(b)))
    return diffs


def docker_tree(s, ref, name):
    """The tree of a container docker creates from ref (`docker export`)."""
    export = os.path.join(s.tmp, name + ".tar")
    cid = s.docker_cmd("create", ref)[1].strip().splitlines()[-1]
    s.docker_cmd("export", "-o", export, cid)
    s.docker_cmd("rm", cid)
    return tree_of_export(export)


def imgbuild_tree(s, ref, name):
    """The tree imgbuild mounts for ref (read-only `imgbuild mount`)."""
    mnt = os.path.join(s.tmp, name)
    s.mount(ref, mnt)
    try:
        return tree_of_dir(mnt)
    finally:
        s.umount(mnt)


def test(s, args):
    t0 = time.monotonic()
    driver = s.start_dockerd()
    registry = s.start_registry()
    log("dockerd up (%s), registry at %s (%.1fs)" % (driver, registry, time.monotonic() - t0))

    base_tar = os.path.join(s.tmp, "busybox.tar")
    run([os.path.join(args.testdata, "make-busybox-rootfs.sh"), "--tar", base_tar], timeout=120)
    s.docker_cmd("import", base_tar, "interop-base:latest")

    ctx = os.path.join(s.tmp, "context")
    os.makedirs(ctx + "/files/etc")
    with open(ctx + "/Dockerfile", "w") as f:
        f.write(DOCKERFILE)
    with open(ctx + "/files/run.sh", "w") as f:
        f.write("#!/bin/sh\necho run\n")
    with open(ctx + "/files/etc/app.conf", "w") as f:
        f.write("key=value\n" * 1000)
    with open(ctx + "/files/big.bin", "wb") as f:
        f.write(os.urandom(3 << 20))  # more than one read for the blob and the extractor
    ref = registry + "/interop/app:1"
    s.docker_cmd("build", "--network=host", "--progress=plain", "-t", ref, ctx, timeout=180)
    _, out = s.docker_cmd("push", ref)
    log("docker build + push: %.1fs" % (time.monotonic() - t0))
    docker_image = json.loads(s.docker_cmd("image", "inspect", ref)[1])[0]
    pushed_digest = None
    for rd in docker_image.get("RepoDigests") or []:
        if rd.startswith(registry + "/interop/app@"):
            pushed_digest = rd.split("@", 1)[1]

    s.imgbuild("pull", ref)
    ib = json.loads(s.imgbuild("inspect", ref))[0]
    diffs = []
    if ib.get("ManifestMediaType") != DOCKER_SCHEMA2:
        diffs.append("manifest media type: %s, expected %s" %
                     (ib.get("ManifestMediaType"), DOCKER_SCHEMA2))
    # `inspect` shows descriptors with OCI media types; the stored manifest is the registry's bytes.
    manifest_digest = ib.get("ManifestDigest") or ""
    with open(os.path.join(s.store, "blobs", "sha256", manifest_digest.split(":")[-1]), "rb") as f:
        manifest_bytes = f.read()
    if "sha256:" + hashlib.sha256(manifest_bytes).hexdigest() != manifest_digest:
        diffs.append("stored manifest does not hash to %s" % manifest_digest)
    manifest = json.loads(manifest_bytes)
    if manifest.get("mediaType") != DOCKER_SCHEMA2:
        diffs.append("stored manifest mediaType: %s" % manifest.get("mediaType"))
    layers = manifest.get("layers") or []
    if len(layers) < 4:
        diffs.append("manifest has %d layers, expected at least 4 (base, COPY, 2 RUN)" %
                     len(layers))
    for layer in layers:
        if layer.get("mediaType") != DOCKER_LAYER:
            diffs.append("layer %s: media type %s" % (layer.get("digest"), layer.get("mediaType")))
    if ib.get("Id") != docker_image["Id"]:
        diffs.append("image ID: imgbuild %s, docker %s" % (ib.get("Id"), docker_image["Id"]))
    if pushed_digest is None or ib.get("ManifestDigest") != pushed_digest:
        diffs.append("manifest digest: imgbuild %s, docker push %s" %
                     (ib.get("ManifestDigest"), pushed_digest))
    diffs += compare_configs(ib, docker_image)
    dk_tree = docker_tree(s, ref, "export")
    ib_tree = imgbuild_tree(s, ref, "mnt")
    diffs += expect_paths(ib_tree, ["/app/run.sh", "/app/big.bin", "/data/link", "/data/hard",
                                    "/cache/z", "/bin/sh"],
                          ["/data/b", "/bin/vi", "/home/app", "/cache/x", "/cache/y"])
    diffs += compare_trees(ib_tree, dk_tree)
    log("compared %d paths, %d layers (%.1fs)" % (len(ib_tree), len(layers),
                                                  time.monotonic() - t0))
    diffs += saved_to_docker_load(s, ref)
    log("imgbuild save --format docker -> docker load compared (%.1fs)" % (time.monotonic() - t0))
    diffs += output_formats(s, "interop/saved:1")
    log("--format output compared with docker's (%.1fs)" % (time.monotonic() - t0))
    diffs += estargz_to_docker_pull(s, registry)
    log("imgbuild push --compression estargz -> docker pull compared (%.1fs)" %
        (time.monotonic() - t0))
    return diffs


# Docker's relative times ("Less than a second ago", "3 seconds ago", "About a minute ago") differ
# by when each tool was asked: compared as one token.
RELATIVE_TIME = re.compile(r"(Less than a second|About a minute|About an hour|\d+ \w+)( ago)?")


def output_formats(s, name):
    """What scripts parse: the same Go templates give the same text from both tools, for one image
    (loaded into docker with the same ID) and for an exited container of it in each tool."""
    queries = [
        ["inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", name],
        ["inspect", "--format", "{{.Config.Env}}", name],
        ["inspect", "--format", "{{json .Config.Cmd}} {{.Config.User}}|{{.Config.WorkingDir}}",
         name],
        ["inspect", "--format", "{{index .RepoTags 0}} {{len .RootFS.Layers}}", name],
        ["inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", name],
        ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", name],
        ["images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}", name],
        ["history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", name],
        ["ps", "-a", "--filter", "name=fmt-exited",
         "--format", "{{.Names}} {{.Image}} {{.Status}}"],
        ["ps", "-a", "--no-trunc", "--filter", "name=fmt-exited", "--format", "{{.Command}}"],
        ["ps", "-a", "--filter", "name=fmt-exited", "--format", "{{.Command}}|{{.State}}"],
    ]
    s.docker_cmd("run", "--network", "none", "--name", "fmt-exited", name, "sh", "-c", "exit 3",
                 check=False)
    run([s.imgbuild_bin, "--root", s.store, "run", "--network", "none", "--name", "fmt-exited",
         name, "sh", "-c", "exit 3"], check=False)
    diffs = []
    try:
        for q in queries:
            ib = RELATIVE_TIME.sub("<T>", s.imgbuild(*q))
            dk = RELATIVE_TIME.sub("<T>", s.docker_cmd(*q)[1])
            if ib != dk:
                diffs.append("%s: imgbuild %r, docker %r" % (" ".join(q), ib, dk))
        # `images --format '{{json .}}'`: the same fields (values differ where sizes are computed
        # differently), and the same ID.
        ib_json = json.loads(s.imgbuild("images", "--format", "{{json .}}", name).splitlines()[0])
        dk_json = json.loads(s.docker_cmd("images", "--format", "{{json .}}", name)[1]
                             .splitlines()[0])
        if sorted(ib_json) != sorted(dk_json):
            diffs.append("images {{json .}} fields: imgbuild %s, docker %s" %
                         (sorted(ib_json), sorted(dk_json)))
        for field in ["Repository", "Tag", "ID"]:
            if ib_json.get(field) != dk_json.get(field):
                diffs.append("images {{json .}} %s: imgbuild %r, docker %r" %
                             (field, ib_json.get(field), dk_json.get(field)))
    finally:
        s.docker_cmd("rm", "-f", "fmt-exited", check=False)
        run([s.imgbuild_bin, "--root", s.store, "rm", "-f", "fmt-exited"], check=False)
    return diffs


def estargz_to_docker_pull(s, registry):
    """eStargz layers are gzip to every client: an image imgbuild pushes with --compression
    estargz is pulled by `docker pull` (which checks each layer's diff ID) to the same tree."""
    name = "interop/saved:1"
    ref = registry + "/interop/esgz:1"
    s.imgbuild("push", "--compression", "estargz", name, ref)
    s.docker_cmd("pull", ref)
    dk = json.loads(s.docker_cmd("image", "inspect", ref)[1])[0]
    diffs = []
    ib = json.loads(s.imgbuild("inspect", name))[0]
    if dk["Id"] == ib.get("Id"):
        diffs.append("eStargz: docker pulled the local image ID %s; the TOC changes it" % dk["Id"])
    ib_tree = imgbuild_tree(s, name, "mnt-esgz")
    diffs += ["eStargz docker pull: " + d for d in
              compare_trees(ib_tree, docker_tree(s, ref, "export-esgz"))]
    return diffs


def saved_to_docker_load(s, base_ref):
    """The other way, through an archive: an image imgbuild builds (on the pulled one), saved in
    Docker's format, is loaded by `docker load` with the same image ID, config and tree."""
    ctx = os.path.join(s.tmp, "context-save")
    os.makedirs(ctx)
    with open(ctx + "/Dockerfile", "w") as f:
        f.write("FROM %s\n"
                "USER 0\n"
                "RUN echo built-by-imgbuild > /made && rm /app/run.sh && mkdir -p /new/dir\n"
                "ENV SAVED=1\n"
                "CMD [\"cat\", \"/made\"]\n" % base_ref)
    name = "interop/saved:1"
    s.imgbuild("build", "-q", "-t", name, ctx)
    archive = os.path.join(s.tmp, "saved.tar")
    s.imgbuild("save", "--format", "docker", "-o", archive, name)
    s.docker_cmd("load", "-i", archive)
    ib = json.loads(s.imgbuild("inspect", name))[0]
    dk = json.loads(s.docker_cmd("image", "inspect", name)[1])[0]
    diffs = []
    if ib.get("Id") != dk["Id"]:
        diffs.append("docker load: image ID %s, imgbuild %s" % (dk["Id"], ib.get("Id")))
    ib_tree = imgbuild_tree(s, name, "mnt-saved")
    diffs += expect_paths(ib_tree, ["/made", "/new/dir", "/app/big.bin"], ["/app/run.sh"])
    diffs += ["docker load: " + d for d in
              compare_configs(ib, dk) + compare_trees(ib_tree, docker_tree(s, name, "export-saved"))]
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imgbuild", required=True, help="the imgbuild binary")
    ap.add_argument("--testdata", required=True, help="the testdata directory")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.imgbuild = os.path.abspath(args.imgbuild)

    skipped = skip_requested("IMGBUILD_INTEROP_SKIP", SKIP)
    if skipped is not None:
        return skipped
    if os.geteuid() != 0:
        log("FAIL: this test needs root (dockerd, FUSE)")
        return 1

    def on_signal(signum, _frame):
        raise Failure("interrupted by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    s = Services(args.imgbuild, args.keep)
    try:
        diffs = test(s, args)
    except (Failure, subprocess.TimeoutExpired) as e:
        log("FAIL: %s" % e)
        return 1
    finally:
        s.cleanup()
    if diffs:
        log("FAIL: docker push -> imgbuild pull differs:\n  " + "\n  ".join(diffs))
        return 1
    log("ok: docker push -> imgbuild pull gives the same rootfs and config")
    return 0


if __name__ == "__main__":
    sys.exit(main())
