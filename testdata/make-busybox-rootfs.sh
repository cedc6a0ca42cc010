#!/usr/bin/env bash
# Makes a small base root filesystem from Debian's busybox-static, with no network:
#   testdata/make-busybox-rootfs.sh DIR          a directory tree
#   testdata/make-busybox-rootfs.sh --tar FILE   the same tree as a tar (for `imgbuild import`)
# The tree: /bin/busybox with every applet linked in /bin, /etc/passwd and /etc/group (root,
# nobody, and an unprivileged "app" user 1000:1000), /tmp (1777), /root, /home/app, /var, /usr/bin.
set -euo pipefail
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-busybox-rootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

tarfile=""
if [ "${1:-}" = "--tar" ]; then tarfile=$2; dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; else dir=$1; fi
mkdir -p "$dir"
chmod 0755 "$dir"
mkdir -p "$dir"/{bin,sbin,etc,tmp,root,proc,sys,dev,var/log,usr/bin,usr/sbin,home/app}
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$dir/bin/$applet"
done
cat > "$dir/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app user:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$dir/etc/group" <<'GR'
root:x:0:
daemon:x:1:
wheel:x:10:app
app:x:1000:
nogroup:x:65534:
GR
echo "busybox" > "$dir/etc/hostname"
chmod 1777 "$dir/tmp"
chmod 0700 "$dir/root"
chown 1000:1000 "$dir/home/app" 2>/dev/null || true
# Fixed mtimes make the base reproducible.
find "$dir" -exec touch -h -d @1700000000 {} +
if [ -n "$tarfile" ]; then
  tar --sort=name --numeric-owner --mtime=@1700000000 -C "$dir" -cf "$tarfile" .
fi
