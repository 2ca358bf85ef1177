# More sources for real: a .deb made with dpkg-deb and a git repository as layers of a booted
# app; two builds filling one store at once; a build killed in the middle of a download.
. "$(dirname "$0")/lib.sh"
command -v dpkg-deb >/dev/null && command -v git >/dev/null || { not_ok "dpkg-deb and git are needed: run 'make deps'"; exit 1; }
export CORE_STORE_DIR=$WORK/store

# A Debian package of our own, built the way Debian builds them.
mkdir -p "$WORK/pkg/DEBIAN" "$WORK/pkg/usr/share/coretest" "$WORK/pkg/usr/bin"
cat >"$WORK/pkg/DEBIAN/control" <<CTL
Package: coretest
Version: 1.0
Architecture: amd64
Maintainer: core tests <tests@core.invalid>
Description: a package made by the core tests
CTL
echo "from a package made with dpkg-deb" >"$WORK/pkg/usr/share/coretest/hello.txt"
check "dpkg-deb builds a test package" dpkg-deb --root-owner-group -b "$WORK/pkg" "$WORK/coretest.deb" >/dev/null

# A git repository with an executable script and a symbolic link.
git init -q -b main "$WORK/repo"
mkdir -p "$WORK/repo/site/bin"
printf '#!/bin/sh\necho "git script ran"\n' >"$WORK/repo/site/bin/from-git"
chmod 755 "$WORK/repo/site/bin/from-git"
ln -s from-git "$WORK/repo/site/bin/alias"
git -C "$WORK/repo" add -A && git -C "$WORK/repo" -c user.name=t -c user.email=t@core.invalid commit -qm one
commit=$(git -C "$WORK/repo" rev-parse HEAD)

make_app "$WORK/app" '["/bin/sh", "-c", "cat /usr/share/coretest/hello.txt; /opt/site/bin/alias; ls -l /opt/site/bin/from-git"]'
cat >>"$WORK/app/app.yml" <<YAML
  - source: $WORK/coretest.deb
  - source: {git: "file://$WORK/repo", ref: main, path: site}
    dest: /opt/site
YAML
# make_app ends with main; the layers must go under rootfs: rebuild the file in order.
python3 - "$WORK/app/app.yml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
main = [l for l in lines if l.startswith("main:")]
rest = [l for l in lines if not l.startswith("main:")]
open(p, "w").write("\n".join(rest + main) + "\n")
PY
"$COREC" build --quiet "$WORK/app/app.yml" -o "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "an app with a dpkg-deb package and a git layer builds" test -s "$WORK/app.tim" || cat "$WORK/err" >&2
check "the git ref is pinned to its commit in app.lock" contains "$WORK/app/app.lock" "$commit"
"$CORERUN" -q "$WORK/app.tim" </dev/null >"$WORK/out" 2>&1
check "it boots" test $? = 0
check "the package's file is in the guest" contains "$WORK/out" "from a package made with dpkg-deb"
check "the git script runs through its symbolic link" contains "$WORK/out" "git script ran"
check "the git file kept its executable mode" grep -q -- "-rwxr-xr-x" "$WORK/out"

# Two builds at once, sharing one store, both downloading the same archive.
mkdir -p "$WORK/www/root/etc" && echo shared >"$WORK/www/root/etc/shared.txt"
tar -C "$WORK/www/root" -czf "$WORK/www/shared.tar.gz" etc
sha=$(sha256sum "$WORK/www/shared.tar.gz" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$WORK/www" && exec timeout 120 python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/shared.tar.gz" -o /dev/null && break; sleep 0.1; done
for n in 1 2; do
  make_app "$WORK/c$n" '["/bin/true"]'
  sed -i "s|^rootfs:|rootfs:\n  - source: {url: \"http://127.0.0.1:$port/shared.tar.gz\", sha256: \"$sha\"}|" "$WORK/c$n/app.yml"
done
"$COREC" build --quiet "$WORK/c1/app.yml" -o "$WORK/c1.tim" >"$WORK/c1.digest" 2>"$WORK/c1.err" &
b1=$!
"$COREC" build --quiet "$WORK/c2/app.yml" -o "$WORK/c2.tim" >"$WORK/c2.digest" 2>"$WORK/c2.err" &
b2=$!
wait $b1; r1=$?
wait $b2; r2=$?
check "two builds sharing one store at once both succeed" test "$r1$r2" = 00
check "and give the same artifact" test "$(cat "$WORK/c1.digest")" = "$(cat "$WORK/c2.digest")"
kill $server 2>/dev/null; wait $server 2>/dev/null

# A build killed while it downloads leaves no blob behind, and the store stays sound.
sport=$( { python3 "$ROOT/tests/http_server.py" >"$WORK/hs.port" 2>/dev/null & echo $! >"$WORK/hs.pid"; } ; for _ in $(seq 50); do [ -s "$WORK/hs.port" ] && break; sleep 0.1; done; head -n 1 "$WORK/hs.port")
full=$(curl -s "http://127.0.0.1:$sport/ok/big?size=200000" | sha256sum | cut -d' ' -f1)
make_app "$WORK/k" '["/bin/true"]'
cat >>"$WORK/k/app.yml" <<YAML
files:
  - path: /big.bin
    source: {url: "http://127.0.0.1:$sport/slow/big?size=200000&first=1000&stall=60", sha256: "$full"}
YAML
"$COREC" build --quiet "$WORK/k/app.yml" -o "$WORK/k.tim" >/dev/null 2>&1 &
victim=$!
sleep 3
kill -9 $victim 2>/dev/null
wait $victim 2>/dev/null
check "a build killed mid-download leaves no artifact" test ! -e "$WORK/k.tim"
check "and no blob with the wanted digest" test ! -e "$CORE_STORE_DIR/blobs/sha256/$full"
"$COREC" cache verify >"$WORK/verify" 2>&1
check "the store still verifies" test $? = 0
kill "$(cat "$WORK/hs.pid")" 2>/dev/null
finish
