#!/usr/bin/env python3
"""BuildKit conformance suite: builds every case under cases/ with imgbuild and with Docker's
BuildKit, then compares the flattened file trees and the image configs.

    tests/conformance/run.py --imgbuild build/cli/imgbuild --testdata testdata [CASE...]

See docs/conformance.md for what is compared, what is normalised and why. Exit status: 0 when
every case matches, 1 on a mismatch or a setup failure, 77 when skipped on request
(IMGBUILD_CONFORMANCE_SKIP=1; never in CI).
"""

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# Config fields compared (the image config's "config" object). A field that is absent, null or
# an empty list/object is the same thing to the runtime, so those all normalise to None.
CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Labels",
                 "Volumes", "StopSignal", "Healthcheck", "Shell", "OnBuild"]

sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from peers import PeerError as SetupError, Peers, log, run  # noqa: E402


# --------------------------------------------------------------------------------------------
# Flattening an image saved as a docker-archive (docker save / imgbuild save --format docker).


class Node:
    __slots__ = ("type", "mode", "uid", "gid", "size", "sha256", "link", "dev")

    def __init__(self, member, data):
        self.mode = member.mode & 0o7777
        self.uid, self.gid = member.uid, member.gid
        self.size, self.sha256, self.link, self.dev = 0, None, None, None
        if member.isreg():
            self.type = "file"
            self.size = member.size
            self.sha256 = hashlib.sha256(data).hexdigest()
        elif member.isdir():
            self.type = "dir"
        elif member.issym():
            self.type = "symlink"
            self.link = member.linkname
        elif member.ischr() or member.isblk():
            self.type = "chardev" if member.ischr() else "blockdev"
            self.dev = "%d:%d" % (member.devmajor, member.devminor)
        elif member.isfifo():
            self.type = "fifo"
        else:
            raise SetupError("unexpected tar member type %r for %s" % (member.type, member.name))


def norm(name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def remove_tree(tree, path):
    tree.pop(path, None)
    prefix = path.rstrip("/") + "/"
    for p in [p for p in tree if p.startswith(prefix)]:
        del tree[p]


def apply_layer(tree, layer):
    members = layer.getmembers()
    # Whiteouts and opaque markers hide what lower layers had; they apply before this layer's
    # own entries, whatever their order inside the tar.
    for m in members:
        path = norm(m.name)
        d, base = os.path.split(path)
        if base == ".wh..wh..opq":
            prefix = d.rstrip("/") + "/"
            for p in [p for p in tree if p.startswith(prefix)]:
                del tree[p]
        elif base.startswith(".wh."):
            remove_tree(tree, os.path.join(d, base[4:]))
    for m in members:
        path = norm(m.name)
        base = os.path.basename(path)
        if base.startswith(".wh.") or path == "/":
            continue
        if m.islnk():
            target = norm(m.linkname)
            if target not in tree:
                raise SetupError("hard link %s to missing %s" % (path, target))
            remove_tree(tree, path)
            tree[path] = tree[target]
            continue
        data = layer.extractfile(m).read() if m.isreg() else None
        node = Node(m, data)
        old = tree.get(path)
        if old is not None and not (old.type == "dir" and node.type == "dir"):
            remove_tree(tree, path)
        tree[path] = node


def flatten(archive):
    """Returns (tree, config) of the only image in a docker-archive tar."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        if len(manifest) != 1:
            raise SetupError("%s: %d images in manifest.json" % (archive, len(manifest)))
        config = json.load(outer.extractfile(manifest[0]["Config"]))
        tree = {}
        for layer_path in manifest[0]["Layers"]:
            blob = outer.extractfile(layer_path).read()
            with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as layer:
                apply_layer(tree, layer)
    return tree, config


def describe(tree):
    """Per path: a dict of the compared fields. Hard links are reported as the set of paths
    sharing one inode, named by its smallest member."""
    groups = {}
    for path, node in tree.items():
        groups.setdefault(id(node), []).append(path)
    out = {}
    for path, node in tree.items():
        d = {"type": node.type, "mode": "%04o" % node.mode, "owner": "%d:%d" % (node.uid, node.gid)}
        if node.type == "file":
            d["size"] = node.size
            d["sha256"] = node.sha256[:16]
        if node.link is not None:
            d["link"] = node.link
        if node.dev is not None:
            d["dev"] = node.dev
        group = sorted(groups[id(node)])
        if len(group) > 1:
            d["hardlinks"] = ",".join(group)
        out[path] = d
    return out


def normalise_config(config):
    c = config.get("config") or {}
    out = {}
    for f in CONFIG_FIELDS:
        v = c.get(f)
        out[f] = v if v not in (None, [], {}, "") else None
    return out


def mount_targets(dockerfile):
    """The absolute targets of every RUN --mount in a Dockerfile, and the directories above them."""
    out = set()
    with open(dockerfile) as f:
        text = f.read().replace("\\\n", " ")
    for word in text.split():
        if not word.startswith("--mount="):
            continue
        fields = dict(f.partition("=")[::2] for f in word[len("--mount="):].split(","))
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if not target and fields.get("type") == "secret" and fields.get("id"):
            target = "/run/secrets/" + fields["id"]  # BuildKit's default secret target
        if target and target.startswith("/"):
            p = norm(target)
            while p != "/":
                out.add(p)
                p = os.path.dirname(p)
    return out


def drop_mount_stubs(bk, ib, targets):
    """BuildKit before v0.11 leaves the directories it creates as RUN --mount targets in the layer
    (moby/buildkit#3307, #3314 remove them). Such a directory is dropped from BuildKit's tree when
    it is empty there and imgbuild has no such path; anything else is compared as usual."""
    for path in sorted(targets, key=len, reverse=True):
        node = bk.get(path)
        if node is None or node.type != "dir" or path in ib:
            continue
        if any(p.startswith(path + "/") for p in bk):
            continue
        del bk[path]


def compare(ib_archive, bk_archive, dockerfile):
    ib_tree, ib_config = flatten(ib_archive)
    bk_tree, bk_config = flatten(bk_archive)
    drop_mount_stubs(bk_tree, ib_tree, mount_targets(dockerfile))
    diffs = []
    a, b = describe(ib_tree), describe(bk_tree)
    for path in sorted(set(a) | set(b)):
        if path not in b:
            diffs.append("%s: only in imgbuild (%s)" % (path, fmt(a[path])))
        elif path not in a:
            diffs.append("%s: only in BuildKit (%s)" % (path, fmt(b[path])))
        else:
            for field in sorted(set(a[path]) | set(b[path])):
                va, vb = a[path].get(field), b[path].get(field)
                if va != vb:
                    diffs.append("%s: %s: imgbuild %s, BuildKit %s" % (path, field, va, vb))
    ca, cb = normalise_config(ib_config), normalise_config(bk_config)
    for f in CONFIG_FIELDS:
        if ca[f] != cb[f]:
            diffs.append("config %s: imgbuild %s, BuildKit %s" %
                         (f, json.dumps(ca[f]), json.dumps(cb[f])))
    return diffs


def snapshot(root):
    """Everything about a directory tree that a build could change."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            entry = (st.st_mode, st.st_uid, st.st_gid, st.st_size)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry += (hashlib.sha256(f.read()).hexdigest(),)
            elif stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            out[os.path.relpath(p, root)] = entry
    return out


def fmt(d):
    return " ".join("%s=%s" % kv for kv in d.items())


# --------------------------------------------------------------------------------------------
# The services the suite starts: a private dockerd and a registry.


class Harness(Peers):
    def __init__(self, args):
        super().__init__("imgbuild-conformance-", keep=args.keep)
        self.args = args
        self.store = os.path.join(self.tmp, "store")
        self.storage_driver = "external"

    def start_dockerd(self):
        host = os.environ.get("IMGBUILD_CONFORMANCE_DOCKER_HOST")
        if host:
            # An explicitly named daemon: its busybox:latest is replaced by the suite's base.
            self.docker_env["DOCKER_HOST"] = host
            self.docker = self.docker or "docker"
            self.docker_cmd("version")
            return
        self.storage_driver = super().start_dockerd(
            "set IMGBUILD_CONFORMANCE_SKIP=1 to skip this suite on a developer machine")

    def imgbuild(self, *argv, check=True, timeout=300):
        return run([self.args.imgbuild, "--root", self.store, *argv], check=check, timeout=timeout)

    def make_base(self):
        """One busybox base for both tools: imported by imgbuild, pushed to the registry and
        pulled from there by docker, so both start from the very same layer and config."""
        bb = os.path.join(self.tmp, "busybox.tar")
        run([os.path.join(self.args.testdata, "make-busybox-rootfs.sh"), "--tar", bb])
        self.imgbuild("import", bb, "busybox:latest")
        registry = self.start_registry()
        ref = registry + "/conformance/busybox:latest"
        self.imgbuild("push", "busybox:latest", ref)
        self.docker_cmd("pull", ref)
        self.docker_cmd("tag", ref, "busybox:latest")


# --------------------------------------------------------------------------------------------
# Cases.


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def prepare_context(h, case, tool):
    """Copies the case into a fresh context directory and runs its setup.sh there, which makes
    what git cannot store (special files, hard links, owners, modes). Each tool gets its own copy,
    so one tool's build can never influence the other's."""
    src = os.path.join(h.args.cases, case)
    ctx = os.path.join(h.tmp, "ctx", tool, case)
    shutil.copytree(src, ctx, symlinks=True)
    if os.path.exists(os.path.join(ctx, "setup.sh")):
        p = subprocess.run(["sh", "-eu", "setup.sh"], cwd=ctx, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if p.returncode != 0:
            raise SetupError("%s/setup.sh failed:\n%s" % (case, p.stdout.decode(errors="replace")))
        os.unlink(os.path.join(ctx, "setup.sh"))
    return ctx


def build_flags(ctx):
    flags = []
    for kv in read_lines(os.path.join(ctx, "build-args")):
        flags += ["--build-arg", kv]
    for t in read_lines(os.path.join(ctx, "target")):
        flags += ["--target", t]
    # "ID=FILE" lines: --secret id=ID,src=<context>/FILE for both tools.
    for line in read_lines(os.path.join(ctx, "secrets")):
        sid, _, path = line.partition("=")
        flags += ["--secret", "id=%s,src=%s" % (sid, os.path.join(ctx, path))]
    return flags


def expected_errors(ctx):
    """A case with an `expect-error` file is a Dockerfile both tools must refuse. Each line is
    `TOOL: TEXT` (TOOL imgbuild, buildkit or both): TEXT must appear in that tool's output."""
    path = os.path.join(ctx, "expect-error")
    if not os.path.exists(path):
        return None
    want = {"imgbuild": [], "BuildKit": []}
    for line in read_lines(path):
        tool, _, text = line.partition(":")
        tool, text = tool.strip(), text.strip()
        if tool not in ("imgbuild", "buildkit", "both") or not text:
            raise SetupError("%s: bad line %r (want `imgbuild|buildkit|both: TEXT`)" % (path, line))
        if tool in ("imgbuild", "both"):
            want["imgbuild"].append(text)
        if tool in ("buildkit", "both"):
            want["BuildKit"].append(text)
    os.unlink(path)
    return want


def check_refused(tool, rc, text, texts):
    """Problems with a build that should have failed with each of `texts` in its output."""
    if rc == 0:
        return ["%s built a Dockerfile it should refuse" % tool]
    problems = ["%s's error lacks %r:\n%s" % (tool, t, indent(text[-3000:]))
                for t in texts if t not in text]
    if tool == "imgbuild" and not re.search(r"Dockerfile:\d+", text):
        problems.append("imgbuild's error names no Dockerfile line:\n%s" % indent(text[-3000:]))
    return problems


def run_case(h, case):
    tag = "conformance/%s:latest" % case.lower()
    out = os.path.join(h.tmp, "out", case)
    os.makedirs(out)
    problems = []

    def build(tool, ctx, argv, save):
        before = snapshot(ctx)
        t0 = time.monotonic()
        rc, text = argv(ctx)
        h.timings.setdefault(case, []).append(time.monotonic() - t0)
        if rc != 0:
            problems.append("%s build failed (exit %d):\n%s" % (tool, rc, indent(text[-3000:])))
            return False
        if snapshot(ctx) != before:
            problems.append("%s changed the build context" % tool)
        save()
        return True

    ib_ctx = prepare_context(h, case, "imgbuild")
    bk_ctx = prepare_context(h, case, "buildkit")
    flags = build_flags(ib_ctx)
    refusals = expected_errors(ib_ctx)
    if refusals is not None:
        expected_errors(bk_ctx)  # the file is not part of BuildKit's context either
        rc, text = h.imgbuild("build", "--progress", "plain", "-f",
                              os.path.join(ib_ctx, "Dockerfile"), "-t", tag, *flags, ib_ctx,
                              check=False)
        problems += check_refused("imgbuild", rc, text, refusals["imgbuild"])
        rc, text = h.docker_cmd("build", "--network=host", "--progress=plain", "-f",
                                os.path.join(bk_ctx, "Dockerfile"), "-t", tag, *flags, bk_ctx,
                                check=False)
        problems += check_refused("BuildKit", rc, text, refusals["BuildKit"])
        return problems
    ok = build("imgbuild", ib_ctx,
               lambda ctx: h.imgbuild("build", "--progress", "plain", "-f",
                                      os.path.join(ctx, "Dockerfile"), "-t", tag, *flags, ctx,
                                      check=False),
               lambda: h.imgbuild("save", "--format", "docker", "-o", out + "/imgbuild.tar", tag))
    ok = build("BuildKit", bk_ctx,
               lambda ctx: h.docker_cmd("build", "--network=host", "--progress=plain", "-f",
                                        os.path.join(ctx, "Dockerfile"), "-t", tag, *flags, ctx,
                                        check=False),
               lambda: h.docker_cmd("save", "-o", out + "/buildkit.tar", tag)) and ok
    if ok:
        problems += compare(out + "/imgbuild.tar", out + "/buildkit.tar",
                            os.path.join(ib_ctx, "Dockerfile"))
    return problems


def indent(text):
    return "".join("    " + l + "\n" for l in text.rstrip().splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgbuild", required=True, help="the imgbuild binary")
    ap.add_argument("--testdata", required=True, help="testdata/ (make-busybox-rootfs.sh)")
    ap.add_argument("--cases", default=os.path.join(HERE, "cases"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (images, logs)")
    ap.add_argument("case", nargs="*", help="run only these cases (default: all)")
    args = ap.parse_args()
    args.imgbuild = os.path.abspath(args.imgbuild)
    args.testdata = os.path.abspath(args.testdata)

    if os.environ.get("IMGBUILD_CONFORMANCE_SKIP") == "1":
        if os.environ.get("CI"):
            log("FAIL: IMGBUILD_CONFORMANCE_SKIP=1 is not honoured in CI")
            return 1
        log("SKIP: IMGBUILD_CONFORMANCE_SKIP=1")
        return SKIP
    if os.geteuid() != 0:
        log("FAIL: the conformance suite needs root (dockerd, imgbuild RUN)")
        return 1

    cases = args.case or sorted(d for d in os.listdir(args.cases)
                                if os.path.isdir(os.path.join(args.cases, d)))
    h = Harness(args)
    h.timings = {}

    def on_signal(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    start = time.monotonic()
    failed = []
    try:
        h.start_dockerd()
        h.make_base()
        log("conformance: dockerd up (%s), base loaded in %.1fs" %
            (h.storage_driver, time.monotonic() - start))
        for case in cases:
            diffs = run_case(h, case)
            ti, tb = (h.timings.get(case, []) + [0, 0])[:2]
            if diffs:
                failed.append(case)
                log("FAIL %s (imgbuild %.1fs, BuildKit %.1fs)" % (case, ti, tb))
                for d in diffs:
                    log("  " + d)
            else:
                log("ok   %s (imgbuild %.1fs, BuildKit %.1fs)" % (case, ti, tb))
    except SetupError as e:
        log("FAIL: conformance setup: %s" % e)
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 1
    finally:
        h.cleanup()
    log("conformance: %d/%d cases match BuildKit in %.1fs" %
        (len(cases) - len(failed), len(cases), time.monotonic() - start))
    if failed:
        log("mismatching: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
