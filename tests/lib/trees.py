"""Directory trees as comparable dicts, for the interop tests: path ("/a/b") -> entry (type, mode,
owner; size and sha256 for files, target for symlinks, numbers for devices)."""

import hashlib
import os
import stat


def entry(kind, mode, uid, gid, size=None, digest=None, link=None):
    e = {"type": kind, "mode": "%04o" % (mode & 0o7777), "owner": "%d:%d" % (uid, gid)}
    if kind == "file":
        e["size"] = size
        e["sha256"] = digest
    if link is not None:
        e["link"] = link
    return e


def tree_of_dir(root):
    """Every entry below root, as entry() describes it (symlinks never followed)."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            path = "/" + os.path.relpath(p, root)
            m = st.st_mode
            if stat.S_ISREG(m):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                tree[path] = entry("file", m, st.st_uid, st.st_gid, st.st_size, h.hexdigest())
            elif stat.S_ISDIR(m):
                tree[path] = entry("dir", m, st.st_uid, st.st_gid)
            elif stat.S_ISLNK(m):
                tree[path] = entry("symlink", 0o777, st.st_uid, st.st_gid, link=os.readlink(p))
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                tree[path] = entry("dev %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)), m,
                                   st.st_uid, st.st_gid)
            elif stat.S_ISFIFO(m):
                tree[path] = entry("fifo", m, st.st_uid, st.st_gid)
    return tree
