#!/usr/bin/env python3
"""Rootless acceptance (docs/rootless.md): an ordinary user builds, runs, mounts, pushes and
pulls, and the images it builds are byte-identical to root's.

    tests/rootless/run.py --imgbuild build/cli/imgbuild --repo .

Runs as root, which it needs only to set the stage: it creates two users (imgbuild-rl with
subordinate ids in /etc/subuid and /etc/subgid, imgbuild-rl-nosub without), makes /dev/fuse and
/dev/net/tun 0666 as Debian's udev rules do on ordinary hosts (these machines leave them 0600),
and prepares a busybox base image that root saves and the user loads, so both stores start from
the same image. Everything else runs as the user (runuser). Checks:

  - every conformance case (tests/conformance/cases, except the expect-error ones) and
    examples/hello and examples/web: the image ID built rootless with SOURCE_DATE_EPOCH equals
    root's; each context is prepared by its setup.sh as root for root and inside `imgbuild
    unshare` for the user, so both contexts have the same owners;
  - run -u 1000 prints uid 1000; a RUN chown 33:33 gives a layer whose tar header says 33:33;
  - mount an image and read it (through `imgbuild unshare`); run -d -p 127.0.0.1:PORT:80 of
    examples/web answers HTTP; push to and pull from a local docker-registry; push it as
    eStargz, mount --lazy and read it, run -d --lazy answers HTTP;
  - a root-owned host directory bound with -v stays unwritable, CapEff is Docker's default set;
  - cgroup limits refuse with the promised message where no delegated cgroup v2 exists;
  - /dev/fuse at 0600 gives the promised message; the user without subordinate ids gets the
    promised message for an image with other owners, and can use an image without.

Exit status: 0 pass, 1 fail, 77 skipped (not root, or runuser/newuidmap missing; never in CI).
"""

import argparse
import http.client
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tarfile
import json

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from peers import PeerError, Peers, free_port, log, run, wait_for  # noqa: E402

SKIP = 77
USER = "imgbuild-rl"
NOSUB = "imgbuild-rl-nosub"
EPOCH = "1700000000"
# Cases that cannot build rootless, with the text their error must show (docs/rootless.md): the
# kernel refuses mknod of devices in a user namespace, to BuildKit's rootless mode too.
KNOWN_LIMITS = {"04-special-files": "mknod: /special/null: Operation not permitted"}


def ensure_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/sh", name])
        return pwd.getpwnam(name)


def subid_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f]
    except FileNotFoundError:
        return []


def set_subids(name, want):
    """Gives name a 65536-id range in /etc/subuid and /etc/subgid (want) or none (not want)."""
    for path in ("/etc/subuid", "/etc/subgid"):
        lines = [l for l in subid_lines(path) if l and not l.startswith(name + ":")]
        if want:
            # Past every existing range, so no two users share ids.
            end = 100000
            for l in lines:
                parts = l.split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    end = max(end, int(parts[1]) + int(parts[2]))
            lines.append("%s:%d:65536" % (name, end))
        with open(path, "w") as f:
            f.write("".join(l + "\n" for l in lines))


class Rootless:
    def __init__(self, args, peers):
        self.args = args
        self.peers = peers
        self.tmp = peers.tmp
        os.chmod(self.tmp, 0o755)
        self.failures = []

    # ---- running things
    def root(self, *argv, check=True, env_extra=None):
        env = dict(os.environ, IMGBUILD_ROOT=os.path.join(self.tmp, "root-store"),
                   SOURCE_DATE_EPOCH=EPOCH)
        env.update(env_extra or {})
        return run([self.args.imgbuild, *argv], check=check, env=env)

    def user(self, name, *argv, check=True, cwd=None):
        """Runs argv (imgbuild's arguments, or a shell command with sh=True) as name."""
        home = pwd.getpwnam(name).pw_dir
        store = os.path.join(self.tmp, name, "store")
        env = ["HOME=" + home, "USER=" + name, "LOGNAME=" + name, "PATH=/usr/bin:/bin",
               "IMGBUILD_ROOT=" + store, "SOURCE_DATE_EPOCH=" + EPOCH]
        cmd = ["runuser", "-u", name, "--", "env", "-i", *env]
        if cwd:
            cmd = ["runuser", "-u", name, "--", "sh", "-c", 'cd "$0" && exec "$@"', cwd,
                   "env", "-i", *env]
        return run(cmd + [self.args.imgbuild, *argv], check=check)

    def check(self, ok, what, detail=""):
        log(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail[-2000:]))
        if not ok:
            self.failures.append(what)

    # ---- stage
    def setup(self):
        for dev in ("/dev/fuse", "/dev/net/tun"):
            os.chmod(dev, 0o666)  # as Debian's udev rules make them on ordinary hosts
        for name, sub in ((USER, True), (NOSUB, False)):
            ensure_user(name)
            set_subids(name, sub)
            d = os.path.join(self.tmp, name)
            os.makedirs(d)
            pw = pwd.getpwnam(name)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        tar = os.path.join(self.tmp, "busybox-rootfs.tar")
        run([os.path.join(self.args.repo, "testdata", "make-busybox-rootfs.sh"), "--tar", tar])
        self.root("import", tar, "busybox:latest")
        self.base = os.path.join(self.tmp, "busybox-image.tar")
        self.root("save", "-o", self.base, "busybox:latest")
        os.chmod(self.base, 0o644)
        self.user(USER, "load", "-i", self.base)

    def contexts(self):
        cases = os.path.join(self.args.repo, "tests", "conformance", "cases")
        out = []
        for case in sorted(os.listdir(cases)):
            if os.path.exists(os.path.join(cases, case, "expect-error")):
                continue
            out.append((case, os.path.join(cases, case)))
        for ex in ("hello", "web"):
            out.append(("examples/" + ex, os.path.join(self.args.repo, "examples", ex)))
        return out

    def prepare(self, src, dst, owner):
        shutil.copytree(src, dst, symlinks=True)
        if owner:
            pw = pwd.getpwnam(owner)
            run(["chown", "-R", "-h", "%d:%d" % (pw.pw_uid, pw.pw_gid), dst])
        if not os.path.exists(os.path.join(dst, "setup.sh")):
            return
        if owner:
            # Inside the user's namespace the setup's chowns give the same owners as root's.
            self.user(owner, "unshare", "sh", "-eu", "setup.sh", cwd=dst)
        else:
            run(["sh", "-c", 'cd "$0" && sh -eu setup.sh', dst])
        os.unlink(os.path.join(dst, "setup.sh"))

    @staticmethod
    def flags(ctx):
        out = []
        def lines(name):
            p = os.path.join(ctx, name)
            if not os.path.exists(p):
                return []
            with open(p) as f:
                return [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for kv in lines("build-args"):
            out += ["--build-arg", kv]
        for t in lines("target"):
            out += ["--target", t]
        for line in lines("secrets"):
            sid, _, path = line.partition("=")
            out += ["--secret", "id=%s,src=%s" % (sid, os.path.join(ctx, path))]
        return out

    def same_digests(self):
        for case, src in self.contexts():
            tag = "parity-" + case.replace("/", "-").lower()
            rctx = os.path.join(self.tmp, "ctx-root", case)
            uctx = os.path.join(self.tmp, USER, "ctx", case)
            self.prepare(src, rctx, None)
            self.prepare(src, uctx, USER)
            _, rout = self.root("build", "-q", "-t", tag, *self.flags(rctx), rctx)
            code, uout = self.user(USER, "build", "-q", "-t", tag, *self.flags(uctx), uctx,
                                   check=False)
            rid = rout.strip().splitlines()[-1] if rout.strip() else ""
            uid = uout.strip().splitlines()[-1] if uout.strip() else ""
            if case in KNOWN_LIMITS:
                self.check(code != 0 and KNOWN_LIMITS[case] in uout,
                           "%s: fails rootless as documented" % case, uout)
                continue
            self.check(code == 0 and rid == uid and rid.startswith("sha256:"),
                       "%s: rootless image ID equals root's" % case,
                       "root %s, rootless %s (exit %d)" % (rid, uout, code))

    def behaviour(self):
        code, out = self.user(USER, "run", "--rm", "-u", "1000", "busybox", "id", "-u",
                              check=False)
        self.check(code == 0 and out.strip() == "1000", "run -u 1000 id -u prints 1000", out)

        ctx = os.path.join(self.tmp, USER, "chown")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM busybox\nRUN touch /f && chown 33:33 /f\n")
        self.user(USER, "build", "-q", "-t", "chown", ctx)
        saved = os.path.join(self.tmp, USER, "chown.tar")
        self.user(USER, "save", "-o", saved, "chown")
        with tarfile.open(saved) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))
            top = outer.extractfile(manifest[0]["Layers"][-1])
            with tarfile.open(fileobj=top, mode="r:*") as layer:
                f = layer.getmember("f")
        self.check((f.uid, f.gid) == (33, 33), "RUN chown 33:33 gives a 33:33 tar header",
                   "%d:%d" % (f.uid, f.gid))

        mnt = os.path.join(self.tmp, USER, "mnt")
        self.user(USER, "unshare", "mkdir", "-p", mnt)
        code, out = self.user(USER, "mount", "parity-examples-hello", mnt, check=False)
        self.check(code == 0, "mount an image", out)
        code, out = self.user(USER, "unshare", "cat", mnt + "/app/greet.sh", check=False)
        self.check(code == 0 and "greet.sh" in out, "read the mount through imgbuild unshare", out)
        code, out = self.user(USER, "umount", mnt, check=False)
        self.check(code == 0, "umount", out)

        port = free_port()
        code, out = self.user(USER, "run", "-d", "--name", "web", "-p",
                              "127.0.0.1:%d:80" % port, "parity-examples-web", check=False)
        body = ""
        if code == 0:
            body = self.http_body(port, out)
        self.check("imgbuild" in body, "run -d -p 127.0.0.1:PORT:80 answers HTTP", out + body)
        code, out = self.user(USER, "rm", "-f", "web", check=False)
        self.check(code == 0, "rm -f the web container", out)

        reg = self.peers.start_registry()
        ref = reg + "/rootless/hello:1"
        self.user(USER, "tag", "parity-examples-hello", ref)
        code, out = self.user(USER, "push", ref, check=False)
        self.check(code == 0, "push to a registry", out)
        self.user(USER, "rmi", ref)
        self.user(USER, "rmi", "parity-examples-hello")
        self.user(USER, "prune", "-f", check=False)
        code, out = self.user(USER, "pull", ref, check=False)
        self.check(code == 0, "pull from a registry", out)
        code, out = self.user(USER, "run", "--rm", ref, check=False)
        self.check(code == 0 and "hello from a RUN step" in out, "run the pulled image", out)

        # Lazy eStargz mounts (issue 15), rootless: mount --lazy, and run -d --lazy serving HTTP.
        lazy_ref = reg + "/rootless/web:esgz"
        code, out = self.user(USER, "push", "--compression", "estargz", "parity-examples-web",
                              lazy_ref, check=False)
        self.check(code == 0, "push --compression estargz", out)
        lazy_store = ["--root", os.path.join(self.tmp, USER, "lazy-store")]
        lazy_mnt = os.path.join(self.tmp, USER, "lazy-mnt")
        self.user(USER, "unshare", "mkdir", "-p", lazy_mnt)
        code, out = self.user(USER, *lazy_store, "mount", "--lazy", lazy_ref, lazy_mnt,
                              check=False)
        self.check(code == 0, "mount --lazy", out)
        code, out = self.user(USER, *lazy_store, "unshare", "cat", lazy_mnt + "/www/index.html",
                              check=False)
        self.check(code == 0 and "imgbuild" in out, "read a lazy mount", out)
        self.user(USER, *lazy_store, "umount", lazy_mnt, check=False)
        port = free_port()
        code, out = self.user(USER, *lazy_store, "run", "-d", "--lazy", "--name", "lazyweb", "-p",
                              "127.0.0.1:%d:80" % port, lazy_ref, check=False)
        body = ""
        if code == 0:
            body = self.http_body(port, out)
        self.check("imgbuild" in body, "run -d --lazy answers HTTP", out + body)
        self.user(USER, *lazy_store, "rm", "-f", "lazyweb", check=False)

    def http_body(self, port, out):
        """GET / on 127.0.0.1:port once it answers (30 s at most): the body, or why not."""
        body = ""

        def answered():
            nonlocal body
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/")
                body = c.getresponse().read().decode(errors="replace")
                return True
            except OSError:
                return False
        try:
            wait_for(answered, 30, "the web container on port %d" % port)
        except PeerError as e:
            return str(e)
        return body

    def security(self):
        host = os.path.join(self.tmp, "root-owned")
        os.makedirs(host)
        with open(os.path.join(host, "file"), "w") as f:
            f.write("root's\n")
        os.chmod(host, 0o755)
        script = ("echo x > /h/file && echo WROTE-FILE; touch /h/new && echo WROTE-DIR; "
                  "grep CapEff /proc/self/status")
        code, out = self.user(USER, "run", "--rm", "-v", host + ":/h", "busybox", "sh", "-c",
                              script, check=False)
        with open(os.path.join(host, "file")) as f:
            intact = f.read() == "root's\n"
        self.check(intact and "WROTE" not in out and not os.path.exists(host + "/new"),
                   "a root-owned host directory stays unwritable", out)
        # Docker's default capability set, never the full one.
        self.check("CapEff:\t00000000a80425fb" in out, "CapEff is Docker's default set", out)

        code, out = run(["sh", "-c", "grep -q cgroup2 /proc/mounts && echo v2 || echo v1"])
        code, out = self.user(USER, "run", "--rm", "--memory", "64m", "busybox", "true",
                              check=False)
        _, info = self.user(USER, "info", "--format", "{{.Cgroups.Limits}}")
        if info.strip() == "yes":
            self.check(code == 0, "--memory works with a delegated cgroup v2", out)
        else:
            self.check(code != 0 and "cgroup limits need a delegated cgroup v2 hierarchy" in out,
                       "--memory without a delegated cgroup v2 is refused, by name", out)

        os.chmod("/dev/fuse", 0o600)
        try:
            code, out = self.user(USER, "mount", "busybox", os.path.join(self.tmp, USER),
                                  check=False)
        finally:
            os.chmod("/dev/fuse", 0o666)
        self.check(code != 0 and "/dev/fuse is not accessible to this user" in out,
                   "a 0600 /dev/fuse is explained", out)

    def no_subids(self):
        code, out = self.user(NOSUB, "load", "-i", self.base, check=False)
        self.check(code != 0 and "has no host id in imgbuild's rootless user namespace" in out
                   and "home/app" in out,
                   "without subordinate ids, an image with other owners fails by name", out)
        # A rootfs whose files all belong to root works.
        tar = os.path.join(self.tmp, NOSUB, "root-only.tar")
        run(["sh", "-c", 'd=$(mktemp -d) && mkdir "$d/bin" && cp /bin/busybox "$d/bin/" && '
             'ln -s busybox "$d/bin/sh" && ln -s busybox "$d/bin/echo" && '
             'tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$0" . && rm -rf "$d"', tar])
        os.chmod(tar, 0o644)
        code, out = self.user(NOSUB, "import", tar, "rootonly", check=False)
        self.check(code == 0, "without subordinate ids, a root-owned image imports", out)
        code, out = self.user(NOSUB, "run", "--rm", "--network", "none", "rootonly",
                              "/bin/sh", "-c", "echo single-id", check=False)
        self.check(code == 0 and "single-id" in out,
                   "without subordinate ids, a root-owned image runs", out)
        self.check("EPERM" not in out, "no bare EPERM", out)

    def cleanup(self):
        for name in (USER, NOSUB):
            subprocess.run(["pkill", "-KILL", "-u", name], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgbuild", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.imgbuild = os.path.abspath(args.imgbuild)
    args.repo = os.path.abspath(args.repo)
    in_ci = os.environ.get("CI") == "true"
    missing = [t for t in ("runuser", "newuidmap", "newgidmap", "useradd", "docker-registry")
               if not shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    why = "needs root" if os.geteuid() != 0 else ("missing " + ", ".join(missing) if missing
                                                   else "")
    if why:
        log(("FAIL" if in_ci else "SKIP") + ": the rootless suite " + why +
            " (scripts/install-deps.sh test installs uidmap)")
        return 1 if in_ci else SKIP
    peers = Peers("imgbuild-rootless-", keep=args.keep)
    # The binary must be reachable by an ordinary user, wherever the checkout is (CI may build
    # under a directory only root can enter): the users run a copy.
    copy = os.path.join(peers.tmp, "imgbuild")
    shutil.copy2(args.imgbuild, copy)
    os.chmod(copy, 0o755)
    args.imgbuild = copy
    t = Rootless(args, peers)
    try:
        t.setup()
        t.same_digests()
        t.behaviour()
        t.security()
        t.no_subids()
    except PeerError as e:
        log("FAIL: %s" % e)
        t.failures.append("setup")
    finally:
        t.cleanup()
        peers.cleanup()
    if t.failures:
        log("%d rootless check(s) failed: %s" % (len(t.failures), ", ".join(t.failures)))
        return 1
    log("all rootless checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
