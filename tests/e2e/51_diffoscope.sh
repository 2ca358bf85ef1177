# Reproducibility proven by another tool: diffoscope (Debian's reproducible-builds differ) finds
# nothing between two builds of a non-trivial app (an OCI image from a real registry, a git
# repository, Debian packages, a files: entry) made under different conditions: directory,
# content store, user, time zone, locale, umask and number of CPUs. A control pair that differs
# only in SOURCE_DATE_EPOCH shows that diffoscope does look inside (the cpio in the zstd
# initramfs) and that every timestamp written is SOURCE_DATE_EPOCH.
. "$(dirname "$0")/lib.sh"
for tool in diffoscope skopeo git dpkg-deb setpriv taskset; do
  command -v "$tool" >/dev/null || { not_ok "$tool is missing: run 'make deps'"; exit 1; }
done
# The second build runs as another user, who must read everything the first one reads.
chmod 755 "$WORK"
NOBODY=65534

port=$("$ROOT/tests/registry.sh" start "$WORK/registry") || { not_ok "start a registry on 127.0.0.1"; exit 1; }
trap '"$ROOT/tests/registry.sh" stop "$WORK/registry"; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

# An OCI image of its own, pushed with skopeo.
mkdir -p "$WORK/image/etc/app" "$WORK/image/usr/share/app"
echo "from an OCI image" >"$WORK/image/etc/app/origin"
seq 1 5000 >"$WORK/image/usr/share/app/numbers"
python3 "$ROOT/tests/e2e/oci_image.py" "$WORK/image" "$WORK/layout" v1 >/dev/null &&
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://127.0.0.1:$port/repro/data:v1" >/dev/null
check "push an image to the loopback registry" test $? = 0

# A Debian package of its own, built the way Debian builds them.
mkdir -p "$WORK/pkg/DEBIAN" "$WORK/pkg/usr/share/repro"
printf 'Package: repro\nVersion: 2.1-1\nArchitecture: amd64\nMaintainer: core tests <tests@core.invalid>\nDescription: test package\n' \
  >"$WORK/pkg/DEBIAN/control"
echo "from a package" >"$WORK/pkg/usr/share/repro/readme"
check "dpkg-deb builds a package" dpkg-deb --root-owner-group -b "$WORK/pkg" "$WORK/repro.deb" >/dev/null

# A git repository; the build reads it at the commit app.lock pins.
git init -q -b main "$WORK/repo"
mkdir -p "$WORK/repo/site"
printf '#!/bin/sh\necho site\n' >"$WORK/repo/site/run" && chmod 755 "$WORK/repo/site/run"
ln -s run "$WORK/repo/site/alias"
git -C "$WORK/repo" add -A && git -C "$WORK/repo" -c user.name=t -c user.email=t@core.invalid commit -qm one
# The other user reads the same repository: git (and libgit2) refuse repositories of another
# owner unless told they are safe, so that user's git config names it (libgit2 1.5 takes no "*").
mkdir -p "$WORK/nobody-home" && printf '[safe]\n\tdirectory = %s\n' "$WORK/repo" >"$WORK/nobody-home/.gitconfig"

mkdir -p "$WORK/a/app/rootfs/bin"
ln -s busybox "$WORK/a/app/rootfs/bin/sh"
cat >"$WORK/a/app/app.yml" <<YAML
name: repro
version: "1.0"
kernel:
  source: $DEBS/linux-image-cloud-amd64.deb
  cmdline: quiet
rootfs:
  - source: $DEBS/busybox-static.deb
  - source: rootfs
  - source: {oci: "127.0.0.1:$port/repro/data:v1"}
  - source: $WORK/repro.deb
  - source: {git: "file://$WORK/repo", ref: main, path: site}
    dest: /opt/site
files:
  - path: /etc/motd
    contents: "reproducible\n"
main: ["/bin/sh", "-c", "cat /etc/app/origin"]
YAML
"$COREC" lock --quiet "$WORK/a/app/app.yml" >/dev/null 2>"$WORK/lock.err"
check "corec lock pins the image, the repository and the packages" test -s "$WORK/a/app/app.lock" ||
  cat "$WORK/lock.err" >&2
# The second copy lives elsewhere, with the same app.yml and app.lock.
mkdir -p "$WORK/b/elsewhere" && cp -a "$WORK/a/app" "$WORK/b/elsewhere/app"
touch -d "2001-02-03" "$WORK/b/elsewhere/app/app.yml" "$WORK/b/elsewhere/app/rootfs" # mtimes must not matter

# One signing key for both builds, so even the signatures must agree.
"$COREC" keygen "$WORK/key" >/dev/null && chmod 644 "$WORK/key.key"
export SOURCE_DATE_EPOCH=1700000000

# build DIR NAME EXT [VAR=VALUE...] [WRAPPER...]: builds DIR/app/app.yml into $WORK/out/NAME.EXT
# with its own store and CORE_HOME, the variables given, through the wrapper commands given
# (taskset, setpriv, ...); the digest goes to $WORK/out/NAME.EXT.digest.
build() {
  local dir=$1 name=$2 ext=$3
  shift 3
  (cd "$dir" && env CORE_STORE_DIR="$dir/store" CORE_HOME="$dir/home" "$@" \
    "$COREC" build --locked --quiet --sign-key "$WORK/key.key" app/app.yml -o "$WORK/out/$name.$ext" \
    >"$WORK/out/$name.$ext.digest" 2>"$WORK/out/$name.$ext.err")
}
mkdir -p "$WORK/out" && chmod 777 "$WORK/out"
chown -R "$NOBODY:$NOBODY" "$WORK/b" "$WORK/nobody-home"
for ext in tim iso; do
  build "$WORK/a" a "$ext" TZ=UTC LC_ALL=C taskset -c 0 sh -c 'umask 022; exec "$@"' sh
  check "the first build ($ext: root, one CPU, UTC) succeeds" test -s "$WORK/out/a.$ext" ||
    cat "$WORK/out/a.$ext.err" >&2
  build "$WORK/b/elsewhere" b "$ext" HOME="$WORK/nobody-home" TZ=Pacific/Chatham LC_ALL=C.UTF-8 \
    setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sh -c 'umask 077; exec "$@"' sh
  check "the second build ($ext: another user, every CPU, another zone, locale and umask) succeeds" \
    test -s "$WORK/out/b.$ext" || cat "$WORK/out/b.$ext.err" >&2
  check "both $ext builds print the same digest" grep -qx "$(cat "$WORK/out/b.$ext.digest")" "$WORK/out/a.$ext.digest"
  check "both $ext files are the same bytes" cmp "$WORK/out/a.$ext" "$WORK/out/b.$ext"
  diffoscope --text "$WORK/out/$ext.diff" "$WORK/out/a.$ext" "$WORK/out/b.$ext" >/dev/null 2>"$WORK/out/$ext.diffoscope.err"
  check "diffoscope finds no difference between the two ${ext}s" test $? = 0 -a ! -s "$WORK/out/$ext.diff" ||
    head -40 "$WORK/out/$ext.diff" "$WORK/out/$ext.diffoscope.err" >&2
done

# Part by part: the blobs of a TIM are named by digest, so diffoscope pairs them only when they
# are equal; unpacked by role, it compares kernel with kernel, initramfs with initramfs.
$TIMTOOL unpack "$WORK/out/a.tim" "$WORK/parts-a" && $TIMTOOL unpack "$WORK/out/b.tim" "$WORK/parts-b"
diffoscope --exclude-directory-metadata=recursive --text "$WORK/parts.diff" "$WORK/parts-a" "$WORK/parts-b" >/dev/null 2>&1
check "diffoscope finds no difference between the two builds' parts" test $? = 0 -a ! -s "$WORK/parts.diff" ||
  head -40 "$WORK/parts.diff" >&2

# The control: one day later as SOURCE_DATE_EPOCH. diffoscope must see into the initramfs and
# report the entries' times: 2023-11-14 22:13:20 UTC against a day later.
build "$WORK/a" c tim SOURCE_DATE_EPOCH=1700086400
check "the build with another SOURCE_DATE_EPOCH succeeds" test -s "$WORK/out/c.tim" || cat "$WORK/out/c.tim.err" >&2
$TIMTOOL unpack "$WORK/out/c.tim" "$WORK/parts-c"
diffoscope --text "$WORK/control.diff" "$WORK/parts-a/initramfs" "$WORK/parts-c/initramfs" >/dev/null 2>&1
check "diffoscope reports the control pair's initramfs as different" test $? = 1
check "diffoscope shows the entries' times inside the cpio, each SOURCE_DATE_EPOCH" \
  grep -q -- "-rw-r--r--.* 2023-11-14 22:13:20.000000 etc/motd" "$WORK/control.diff"
check "... and the other build's a day later" grep -q -- "2023-11-15 22:13:20.000000 etc/motd" "$WORK/control.diff"
finish
