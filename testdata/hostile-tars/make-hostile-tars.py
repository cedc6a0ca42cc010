#!/usr/bin/env python3
"""Generates the hostile-tar corpus for the layer extractor's tests (no binary blobs in git).

    make-hostile-tars.py OUTDIR      writes OUTDIR/<case>.tar for every case below

Each case is one way a layer tar can try to escape or exhaust the extractor; the expected outcome
(the exact error, or what must exist afterwards) is asserted in
tests/unit/image/layer_hostile_test.cpp. Everything is built in memory with tarfile (PAX format)
or, where tarfile refuses to write something malformed, by patching the bytes.
"""
import io
import os
import sys
import tarfile

MTIME = 1700000000


def info(name, kind=tarfile.REGTYPE, data=b"", linkname="", mode=0o644, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = MTIME
    ti.linkname = linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    if pax:
        ti.pax_headers = dict(pax)
    return ti, data


def file(name, data=b"x\n", mode=0o644):
    return info(name, data=data, mode=mode)


def directory(name, mode=0o755):
    return info(name, tarfile.DIRTYPE, mode=mode)


def symlink(name, target):
    return info(name, tarfile.SYMTYPE, linkname=target, mode=0o777)


def hardlink(name, target):
    return info(name, tarfile.LNKTYPE, linkname=target)


def build(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for ti, data in entries:
            tar.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def header_with_size(name, size):
    """A ustar header claiming `size` bytes (checksum fixed up), for truncation cases."""
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = MTIME
    return ti.tobuf(format=tarfile.USTAR_FORMAT)


def cases():
    c = {}
    # Path tricks.
    c["dotdot"] = build([file("../imgbuild-hostile-evil")])
    c["dotdot-deep"] = build([directory("a/"), file("a/../../imgbuild-hostile-evil")])
    c["dotdot-inside"] = build([directory("a/"), file("a/../b")])  # stays inside: allowed
    c["absolute"] = build([file("/imgbuild-hostile-abs/evil")])  # containerd: relative to root
    c["root-symlink"] = build([symlink("./", "/")])
    # Writing through symlinks.
    c["symlink-parent-absolute"] = build([symlink("link", "/"), file("link/imgbuild-hostile-evil")])
    c["symlink-parent-relative"] = build([symlink("link", "../"), file("link/imgbuild-hostile-evil")])
    c["dir-replaced-by-symlink"] = build(
        [directory("d/"), file("d/a"), symlink("d", "../"), file("d/imgbuild-hostile-evil")])
    c["symlink-then-dotdot"] = build([symlink("link", "a/b"), file("link/../../imgbuild-hostile-evil")])
    c["file-as-parent"] = build([file("f"), file("f/x")])
    # Symlink targets are stored, never followed: an escaping target is fine on its own.
    c["symlink-target-escapes"] = build([symlink("up", "../../../../etc/passwd")])
    # Hard links.
    c["hardlink-escape"] = build([hardlink("h", "../../etc/passwd")])
    c["hardlink-absolute"] = build([hardlink("h", "/etc/passwd")])
    c["hardlink-before-target"] = build([hardlink("h", "later"), file("later")])
    c["hardlink-through-symlink"] = build([symlink("s", "/etc"), hardlink("h", "s/passwd")])
    c["hardlink-to-directory"] = build([directory("d/"), hardlink("h", "d")])
    # A later regular file at a hard link's name replaces the link; it never writes through it.
    c["hardlink-overwrite"] = build(
        [file("f", b"original\n"), hardlink("h", "f"), file("h", b"replaced\n")])
    c["hardlink-to-symlink-overwrite"] = build(
        [symlink("s", "../imgbuild-hostile-evil"), hardlink("h", "s"), file("h", b"replaced\n")])
    # Devices (refused unless allowed) and fifos (always fine).
    c["device"] = build([info("dev/evil", tarfile.CHRTYPE, mode=0o666)])
    c["fifo"] = build([info("pipe", tarfile.FIFOTYPE, mode=0o600)])
    # Limits.
    c["huge-size"] = build([info("huge", pax={"size": "1000000000000000"})])[:1536]
    c["long-name"] = build([file("a" * 200 + "/" + "b" * 4900)])
    c["long-component"] = build([file("c" * 300)])
    c["many-entries"] = build([file("f%02d" % i) for i in range(20)])
    # Damaged archives.
    c["truncated-data"] = header_with_size("t", 10000) + b"y" * 1000
    good = build([file("ok", b"fine\n"), file("second", b"also fine\n")])
    bad = bytearray(good)
    bad[148:156] = b"0000000\0"  # wrong checksum in the first header
    c["bad-checksum-first"] = bytes(bad)
    bad = bytearray(good)
    bad[1024 + 148:1024 + 156] = b"0000000\0"  # and in the second
    c["bad-checksum"] = bytes(bad)
    c["garbage"] = b"this is not a tar archive at all\n" * 40
    # Tar semantics that must still work.
    c["whiteouts"] = build([directory("d/"), file("d/.wh..wh..opq", b""), file(".wh.gone", b"")])
    c["replace-file"] = build([file("a", b"one\n"), file("a", b"two\n")])
    c["replace-dir-with-file"] = build([directory("d/"), file("d/x"), file("d", b"now a file\n")])
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-hostile-tars.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(cases().items()):
        with open(os.path.join(out, name + ".tar"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
