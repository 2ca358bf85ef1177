# What the linker refuses in layers and files (no boots): paths it owns, hard links to
# directories, files over the size limits; each error points at the app.yml entry at fault.
. "$(dirname "$0")/lib.sh"

# initramfs_list TIM DIGEST_FILE OUT: `cpio -tv` of the artifact's initramfs.
initramfs_list() {
  rm -rf "$WORK/layout" && mkdir -p "$WORK/layout" && tar -xf "$1" -C "$WORK/layout" || return 1
  python3 - "$WORK/layout" "$(sed 's/^sha256://' "$2")" >"$WORK/initramfs.digest" <<'PY' || return 1
import json, sys
m = json.load(open(f"{sys.argv[1]}/blobs/sha256/{sys.argv[2]}"))
print(next(l["digest"] for l in m["layers"] if l["mediaType"].startswith("application/vnd.core.initramfs")).split(":")[1])
PY
  zstd -dc "$WORK/layout/blobs/sha256/$(cat "$WORK/initramfs.digest")" | cpio -tv 2>/dev/null >"$3"
}

# build NAME: builds $WORK/NAME/app.yml into $WORK/NAME.tim, stderr in $WORK/err.
build() { "$COREC" build "$WORK/$1/app.yml" -o "$WORK/$1.tim" >"$WORK/$1.digest" 2>"$WORK/err"; }

# A files: entry at a path the linker writes was dropped in silence; now refused where it is written.
make_app "$WORK/init" '["/bin/true"]'
printf 'files:\n  - path: /init\n    contents: "#!/bin/sh\\n"\n' >>"$WORK/init/app.yml"
build init
check "files: /init is refused" test ! -e "$WORK/init.tim"
check "the error points at the path and says who writes it" \
  grep -qF "app.yml:11:11: error: '/init' is written by the linker itself (coreinit, the guest's PID 1)" "$WORK/err"
make_app "$WORK/conf" '["/bin/true"]'
printf 'files:\n  - {path: /etc/core/init.conf, contents: x}\n' >>"$WORK/conf/app.yml"
build conf
check "files: /etc/core/init.conf is refused at its path" grep -qF "app.yml:11:12: error: '/etc/core/init.conf' is written by the linker" "$WORK/err"

# A layer that made /etc a symlink: the linker's own /etc replaced it, and with it the layer's
# /etc and every files: entry under it. Now the layer is named.
make_app "$WORK/etclink" '["/bin/true"]'
mkdir -p "$WORK/etclink/rootfs/usr/etc"
ln -s usr/etc "$WORK/etclink/rootfs/etc"
printf 'files:\n  - {path: /etc/app.conf, contents: x}\n' >>"$WORK/etclink/app.yml"
build etclink
check "a layer making /etc a symlink is refused" test ! -e "$WORK/etclink.tim"
check "the error names the layer at its position" \
  grep -qF "app.yml:8:5: error: rootfs layer 'rootfs': 'etc' is a symlink (to 'usr/etc'), but the linker needs it to be a directory" "$WORK/err"

# Through a layer's symlink, a files: entry lands on coreinit's configuration: refused at the entry.
make_app "$WORK/via" '["/bin/true"]'
ln -s /etc/core "$WORK/via/rootfs/cfg"
printf 'files:\n  - {path: /cfg/init.conf, contents: x}\n' >>"$WORK/via/app.yml"
build via
check "a files entry reaching a linker-owned path through a symlink is refused at the entry" \
  grep -qF "app.yml:11:5: error: files entry '/cfg/init.conf': 'etc/core/init.conf' is a path the linker owns" "$WORK/err"

# Tar layers made here: one with /init, one with a hard link to a directory, one with a hard
# link to a symlink, one with a hard link to nothing.
python3 - "$WORK" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def tar(name, members):
    with tarfile.open(f"{work}/{name}", "w") as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def entry(name, type=tarfile.REGTYPE, data=b"", link=""):
    m = tarfile.TarInfo(name)
    m.type, m.linkname, m.mode = type, link, 0o755
    m.size = len(data) if type == tarfile.REGTYPE else 0
    return m, (data if type == tarfile.REGTYPE else None)
tar("init.tar", [entry("init", data=b"#!/bin/sh\n")])
tar("conf.tar", [entry("etc/core/init.conf", data=b"arg=/bin/sh\n")])
tar("hardlink-dir.tar", [entry("etc", tarfile.DIRTYPE), entry("etc2", tarfile.LNKTYPE, link="etc")])
tar("hardlink-missing.tar", [entry("a", tarfile.LNKTYPE, link="nowhere")])
tar("hardlink-sym.tar", [entry("usr/bin/tool", data=b"tool"), entry("usr/bin/t", tarfile.SYMTYPE, link="tool"),
                         entry("usr/bin/t2", tarfile.LNKTYPE, link="usr/bin/t")])
PY
for t in init conf-layer hardlink-dir hardlink-missing hardlink-sym; do
  make_app "$WORK/$t" '["/bin/true"]'
  printf '  - source: %s\n' "$WORK/${t%-layer}.tar" >>"$WORK/$t/app.yml"
  sed -i '/^main:/{h;d};${G}' "$WORK/$t/app.yml" # keep main: last, after the new layer
done
build init
check "a layer holding /init (a LinuxKit init image) builds" test -s "$WORK/init.tim"
check "with a warning at the layer that coreinit replaces its /init" \
  grep -qF "app.yml:9:5: warning: rootfs layer '$WORK/init.tar': its '/init' is replaced by coreinit" "$WORK/err"
initramfs_list "$WORK/init.tim" "$WORK/init.digest" "$WORK/list"
check "the /init in the artifact is coreinit, not the layer's 10 bytes" bash -c "! grep -qE ' 10 .* init\$' '$WORK/list'"
build conf-layer
check "a layer holding /etc/core/init.conf is refused, naming the layer" \
  grep -qF "app.yml:9:5: error: rootfs layer '$WORK/conf.tar': 'etc/core/init.conf' is a path the linker owns" "$WORK/err"
build hardlink-dir
check "a hard link to a directory is refused, naming layer and entry" \
  grep -qF "app.yml:9:5: error: rootfs layer '$WORK/hardlink-dir.tar': entry 'etc2' is a hard link to the directory 'etc'" "$WORK/err"
build hardlink-missing
check "a hard link to nothing is refused, naming layer and entry" \
  grep -qF "app.yml:9:5: error: rootfs layer '$WORK/hardlink-missing.tar': entry 'a' is a hard link to 'nowhere', which is not in the layer" "$WORK/err"
build hardlink-sym
check "a hard link to a symlink builds" test -s "$WORK/hardlink-sym.tim"
initramfs_list "$WORK/hardlink-sym.tim" "$WORK/hardlink-sym.digest" "$WORK/list"
check "it is the same symlink, not an empty file" grep -qE '^l.* usr/bin/t2 -> tool$' "$WORK/list"

# The linker's modules go through a layer's lib -> (a file): an error at that layer.
make_app "$WORK/libfile" '["/bin/true"]'
echo x >"$WORK/libfile/rootfs/hostname"
ln -s hostname "$WORK/libfile/rootfs/lib"
build libfile
check "modules under a lib that leads to a file: the layer is named at its position" \
  grep -qE "app.yml:8:5: error: rootfs layer 'rootfs': 'hostname/modules/.*' \(written as 'lib/modules/.*' through a symlink\) needs 'hostname' to be a directory, but it is a file" "$WORK/err"

# A layer libarchive cannot read to the end: the error still says which rootfs entry it is.
head -c 300 "$WORK/hardlink-sym.tar" | gzip >"$WORK/cut.tar.gz"
make_app "$WORK/cut" '["/bin/true"]'
printf '  - source: %s\n' "$WORK/cut.tar.gz" >>"$WORK/cut/app.yml"
sed -i '/^main:/{h;d};${G}' "$WORK/cut/app.yml"
build cut
check "a truncated layer is an error at its rootfs entry" grep -qF "app.yml:9:5: error: rootfs layer '$WORK/cut.tar.gz': " "$WORK/err"

# 125 bytes of sparse tar holding a 2 GiB file: refused from its header, before anything is
# allocated: its peak memory stays far below the 2 GiB it claims.
truncate -s 2G "$WORK/big.bin"
tar -C "$WORK" -cSzf "$WORK/big.tar.gz" big.bin
rm -f "$WORK/big.bin"
make_app "$WORK/big" '["/bin/true"]'
printf '  - source: %s\n' "$WORK/big.tar.gz" >>"$WORK/big/app.yml"
sed -i '/^main:/{h;d};${G}' "$WORK/big/app.yml"
peak_rss "$WORK/rss" "$COREC" build "$WORK/big/app.yml" -o "$WORK/big.tim" >"$WORK/big.digest" 2>"$WORK/err"
rc=$?
check "a tiny layer holding a 2 GiB file fails cleanly (exit $rc)" test "$rc" = 1
check "refusing the 2 GiB file takes less than half of it ($(cat "$WORK/rss") KiB)" test "$(cat "$WORK/rss")" -lt 1048576
check "the error names layer, entry, size, limit and the fix" \
  grep -qF "app.yml:9:5: error: rootfs layer '$WORK/big.tar.gz': entry 'big.bin' is 2.0 GiB, over the 1.0 GiB limit for one file (raise it with CORE_MAX_FILE_SIZE=SIZE" "$WORK/err"
CORE_MAX_ROOTFS_SIZE=1M build big
check "the whole-tree limit is read from CORE_MAX_ROOTFS_SIZE" grep -qF "takes the root file system past 1.0 MiB" "$WORK/err"
make_app "$WORK/bigfile" '["/bin/true"]'
truncate -s 3M "$WORK/bigfile/blob"
printf 'files:\n  - {path: /opt/blob, source: blob}\n' >>"$WORK/bigfile/app.yml"
CORE_MAX_FILE_SIZE=2M build bigfile
check "a files source over the limit is refused at its entry, before it is read" \
  grep -qF "app.yml:11:5: error: files entry '/opt/blob': it is 3.0 MiB, over the 2.0 MiB limit for one file" "$WORK/err"
CORE_MAX_FILE_SIZE=lots build big
check "a limit that is not a size is named" grep -qF "CORE_MAX_FILE_SIZE='lots' is not a size" "$WORK/err"
finish
