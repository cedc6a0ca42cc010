#!/usr/bin/env python3
"""Interop: an image converted to eStargz by stargz-snapshotter's own `ctr-remote` mounts lazily
with imgbuild (`mount --lazy`), and its files are those of a full pull of the same image.

    tests/interop/ctr_remote_lazy.py --imgbuild build/cli/imgbuild --testdata testdata [--keep]

Starts, in one temporary directory, a private containerd (own root, state and socket) and a
`docker-registry` on 127.0.0.1. imgbuild builds an image on a local busybox base (small files, a
5 MB file that spans two chunks, a symlink, a hard link) and pushes it as gzip; `ctr-remote`
pulls it, converts it (`image convert --estargz --oci`) and pushes the result. imgbuild then
mounts that image lazily and, in another store, pulls and mounts it in full, and compares the
trees by type, mode, owner, size, symlink target and sha256. Two differences are the format's:
a full pull extracts ctr-remote's TOC entry (`/stargz.index.json`, inside its tar stream), which a
lazy mount does not show (as stargz-snapshotter's does not); and a directory's link count is not
compared (2 in a lazy tree until the directory is first read).
Exit status: 0 on a match, 1 on a mismatch or setup failure, 77 when skipped on request
(IMGBUILD_INTEROP_SKIP=1; refused when CI is set). Needs root (containerd, FUSE).
"""

import argparse
import os
import shutil
import subprocess
import sys

SKIP = 77
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from peers import PeerError as Failure, Peers, log, run, skip_requested, wait_for  # noqa: E402
from trees import tree_of_dir  # noqa: E402

DOCKERFILE = """\
FROM busybox:latest
RUN mkdir -p /data/small /data/deep/a/b && for i in $(seq 1 50); do echo "file $i" > /data/small/f$i; done \\
 && head -c 5000000 /dev/urandom > /data/big && ln -s ../big /data/deep/link \\
 && ln /data/big /data/deep/a/b/hard && echo note > /data/note && chmod 0640 /data/note
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgbuild", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    skipped = skip_requested("IMGBUILD_INTEROP_SKIP", SKIP)
    if skipped is not None:
        return skipped
    ctr = shutil.which("ctr-remote")
    containerd = shutil.which("containerd", path="/usr/bin:/usr/sbin")
    if not ctr or not containerd:
        log("ctr-remote/containerd not found: install Debian's stargz-snapshotter and containerd "
            "(scripts/install-deps.sh test)")
        return 1
    peers = Peers("imgbuild-ctr-remote-", keep=args.keep)
    mounts = []
    try:
        t = peers.tmp
        sock = t + "/containerd.sock"
        with open(t + "/containerd.toml", "w") as f:
            f.write('version = 2\nroot = "%s/ctrd-root"\nstate = "%s/ctrd-state"\n'
                    '[grpc]\n  address = "%s"\n' % (t, t, sock))
        peers.spawn([containerd, "--config", t + "/containerd.toml"], "containerd.log")
        c = [ctr, "-a", sock]
        wait_for(lambda: run(c + ["version"], check=False, timeout=10)[0] == 0, 30, "containerd")
        registry = peers.start_registry()
        src, esgz = registry + "/interop/src:1", registry + "/interop/src:esgz"

        def imgbuild(store, *argv, check=True):
            return run([args.imgbuild, "--root", t + "/" + store, *argv], check=check)

        run([args.testdata + "/make-busybox-rootfs.sh", "--tar", t + "/busybox.tar"])
        imgbuild("a", "import", t + "/busybox.tar", "busybox:latest")
        os.makedirs(t + "/ctx")
        with open(t + "/ctx/Dockerfile", "w") as f:
            f.write(DOCKERFILE)
        imgbuild("a", "build", "-q", "-t", src, t + "/ctx")
        imgbuild("a", "push", src)
        run(c + ["image", "pull", "--plain-http", src])
        run(c + ["image", "convert", "--estargz", "--oci", src, esgz])
        run(c + ["image", "push", "--plain-http", esgz])

        lazy, full = t + "/lazy", t + "/full"
        os.makedirs(lazy)
        os.makedirs(full)
        imgbuild("b", "mount", "--lazy", esgz, lazy)
        mounts.append(("b", lazy))
        imgbuild("c", "pull", "-q", esgz)
        imgbuild("c", "mount", esgz, full)
        mounts.append(("c", full))
        a, b = tree_of_dir(lazy), tree_of_dir(full)
        b.pop("/stargz.index.json", None)
        diff = ["%s: lazy %s, full %s" % (p, a.get(p), b.get(p))
                for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
        if diff:
            raise Failure("lazy mount and full pull differ:\n" + "\n".join(diff[:40]))
        regular = sum(1 for v in a.values() if v["type"] == "file")
        log("ok: ctr-remote's eStargz image mounts lazily with imgbuild: %d entries, %d regular "
            "files identical to a full pull" % (len(a), regular))
        return 0
    except (Failure, subprocess.TimeoutExpired, OSError) as e:
        log("FAILED: %s" % e)
        log(peers.logtail("containerd.log"))
        return 1
    finally:
        for store, m in reversed(mounts):
            subprocess.run([args.imgbuild, "--root", peers.tmp + "/" + store, "umount", m],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peers.cleanup()


if __name__ == "__main__":
    sys.exit(main())
