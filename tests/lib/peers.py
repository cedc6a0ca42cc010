"""The peer services of the tests that compare imgbuild with Docker (tests/conformance/run.py,
tests/interop/docker_push.py): a private dockerd and a docker-registry on 127.0.0.1, everything
in one temporary directory that cleanup() removes, and the small process helpers both use.

The dockerd has its own socket, no iptables and no bridge (builds use --network=host), overlay2
storage, else vfs, and a client config of its own (never the host's credentials). Debian's
docker.io client (/usr/bin/docker) is used, never another docker on PATH.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class PeerError(Exception):
    """A command, a service or a comparison step failed; the message says which and why."""


def log(msg):
    print(msg, flush=True)


def skip_requested(var, skip=77):
    """The exit status for an environment that asks to skip a test (var=1): skip, but 1 under
    CI, which must not skip; None when nothing asks."""
    if os.environ.get(var) != "1":
        return None
    if os.environ.get("CI"):
        log("FAIL: %s=1 is not honoured under CI" % var)
        return 1
    log("SKIP: %s=1" % var)
    return skip


def run(argv, check=True, env=None, timeout=300, capture=True):
    """Runs argv; returns (exit code, combined output). check: a non-zero exit is a PeerError."""
    p = subprocess.run(argv, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    out = p.stdout.decode(errors="replace") if capture else ""
    if check and p.returncode != 0:
        raise PeerError("%s failed (exit %d):\n%s" % (" ".join(argv), p.returncode, out[-4000:]))
    return p.returncode, out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise PeerError("timed out after %ds waiting for %s" % (timeout, what))


class Peers:
    """The processes this test run starts; cleanup() stops them and removes the temp dir."""

    def __init__(self, prefix, keep=False):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep
        self.procs = []
        self.docker = shutil.which("docker", path="/usr/bin:/usr/sbin")
        self.docker_env = dict(os.environ, DOCKER_BUILDKIT="1")

    def spawn(self, argv, logname):
        with open(os.path.join(self.tmp, logname), "wb") as logf:
            p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def logtail(self, logname, n=30):
        try:
            with open(os.path.join(self.tmp, logname), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def docker_cmd(self, *argv, check=True, timeout=300):
        return run([self.docker, *argv], check=check, env=self.docker_env, timeout=timeout)

    def start_dockerd(self, missing_hint):
        """Starts the private dockerd; returns its storage driver. missing_hint ends the error
        when docker.io is not installed (how to install it or skip the test)."""
        dockerd = shutil.which("dockerd", path="/usr/sbin:/usr/bin")
        if not dockerd or not self.docker:
            raise PeerError("dockerd/docker not found: install Debian's docker.io "
                            "(scripts/install-deps.sh test), or " + missing_hint)
        d = os.path.join(self.tmp, "docker")
        os.makedirs(d)
        sock = os.path.join(d, "docker.sock")
        self.docker_env["DOCKER_HOST"] = "unix://" + sock
        self.docker_env["DOCKER_CONFIG"] = os.path.join(d, "client")
        last = ""
        for driver in ("overlay2", "vfs"):
            p = self.spawn([dockerd, "--data-root", d + "/data-" + driver, "--exec-root",
                            d + "/exec", "--pidfile", d + "/docker.pid", "-H", "unix://" + sock,
                            "--iptables=false", "--ip6tables=false", "--bridge=none",
                            "--storage-driver", driver], "dockerd-%s.log" % driver)
            try:
                wait_for(lambda: p.poll() is not None or
                         self.docker_cmd("version", check=False, timeout=10)[0] == 0,
                         60, "dockerd")
            except PeerError:
                pass
            if p.poll() is None and self.docker_cmd("version", check=False)[0] == 0:
                return driver
            last = self.logtail("dockerd-%s.log" % driver)
            self.stop(p)
        raise PeerError("dockerd did not start (tried overlay2 and vfs):\n" + last)

    def start_registry(self):
        """Starts an empty docker-registry on a free loopback port; returns "127.0.0.1:PORT"."""
        d = os.path.join(self.tmp, "registry")
        os.makedirs(d)
        for _ in range(3):
            port = free_port()
            with open(d + "/config.yml", "w") as f:
                f.write("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                        "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
                        "http:\n  addr: 127.0.0.1:%d\n" % (d, port))
            p = self.spawn(["docker-registry", "serve", d + "/config.yml"], "registry.log")

            def up():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return True
                except OSError:
                    return p.poll() is not None
            wait_for(up, 15, "docker-registry")
            if p.poll() is None:
                return "127.0.0.1:%d" % port
            self.stop(p)
        raise PeerError("docker-registry did not start:\n" + self.logtail("registry.log"))

    @staticmethod
    def stop(p, wait=20):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def cleanup(self):
        for p in reversed(self.procs):
            self.stop(p)
        # dockerd leaves overlay and shm mounts behind when it is killed; never rm -rf through
        # a mount.
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f]
        for m in sorted((m for m in mounts if m.startswith(self.tmp + "/")), reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        if self.keep:
            log("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
