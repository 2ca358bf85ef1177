#!/bin/bash
# Remote sources end to end: Debian packages from the host's apt and a URL from a local HTTP
# server, pinned by 'corec lock', built --locked, then built again with the server stopped,
# apt hidden and the proxies pointing at a closed port (a warm store needs no network);
# stale locks refused; 'corec cache ls|verify|gc'; one boot of the artifact.
. "$(dirname "$0")/lib.sh"
export CORE_STORE_DIR=$WORK/store
APP=$WORK/app
mkdir -p "$APP/rootfs/bin" "$WORK/www/etc"
ln -s busybox "$APP/rootfs/bin/sh"

# The kernel: the package the cloud metapackage depends on (the metapackage has no kernel).
KPKG=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
[ -n "$KPKG" ] || { echo "not ok - apt knows no linux-image-cloud-amd64 dependency: run apt-get update"; exit 1; }

echo "hello from a URL source" >"$WORK/www/etc/greeting"
tar -C "$WORK/www" -cf "$WORK/www/greeting.tar" etc
serve_dir "$WORK/www" greeting.tar || exit 1
PORT=$HTTP_PORT

cat >"$APP/app.yml" <<YAML
name: sources
kernel:
  source: {deb: $KPKG}
  cmdline: quiet
rootfs:
  - source: {deb: busybox-static}
  - source: rootfs
  - source: {url: "http://127.0.0.1:$PORT/greeting.tar"}
main: ["/bin/sh", "-c", "cat /etc/greeting"]
YAML

# 1. An unpinned URL without a lock entry is refused, with its position and the fix.
if "$COREC" build "$APP/app.yml" -o "$WORK/a.tim" >"$WORK/1.out" 2>&1; then
  not_ok "unpinned URL refused" "the build succeeded"
elif contains "$WORK/1.out" "app.yml:8:" && contains "$WORK/1.out" "corec lock" && contains "$WORK/1.out" "sha256"; then
  ok "unpinned URL refused at its position, naming the fix"
else
  not_ok "unpinned URL refused at its position, naming the fix" "$(cat "$WORK/1.out")"
fi

# 2. corec lock pins all three remote sources.
if "$COREC" lock --quiet "$APP/app.yml" >"$WORK/2.out" 2>&1 && [ -s "$APP/app.lock" ] &&
  [ "$(grep -c '^pinned ' "$WORK/2.out")" = 3 ] && contains "$APP/app.lock" "\"deb\": \"$KPKG\"" &&
  contains "$APP/app.lock" "\"deb\": \"busybox-static\"" && contains "$APP/app.lock" "greeting.tar"; then
  ok "corec lock pins the two packages and the URL"
else
  not_ok "corec lock pins the two packages and the URL" "$(cat "$WORK/2.out")" "$(cat "$APP/app.lock" 2>/dev/null)"
fi
cp "$APP/app.lock" "$WORK/lock.orig"

# 3. A locked build.
if "$COREC" build --locked --quiet "$APP/app.yml" -o "$WORK/a.tim" >"$WORK/3.out" 2>"$WORK/3.err"; then
  ok "build --locked"
else
  not_ok "build --locked" "$(cat "$WORK/3.err")"
fi
check "app.lock unchanged by a locked build" cmp -s "$APP/app.lock" "$WORK/lock.orig"

# 4. No network at all: server stopped, proxies at a closed port, apt replaced by a tripwire.
kill $HTTP_PID; wait $HTTP_PID 2>/dev/null
mkdir -p "$WORK/tripwire"
for t in apt-get apt-cache; do
  printf '#!/bin/sh\ntouch %s/apt-was-run\nexit 1\n' "$WORK" >"$WORK/tripwire/$t"
  chmod +x "$WORK/tripwire/$t"
done
offline_env() { env PATH="$WORK/tripwire:$PATH" http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 "$@"; }
if offline_env "$COREC" build --quiet "$APP/app.yml" -o "$WORK/b.tim" >"$WORK/4.out" 2>"$WORK/4.err" &&
  [ ! -e "$WORK/apt-was-run" ] && cmp -s "$WORK/3.out" "$WORK/4.out"; then
  ok "lock + warm store: builds the same digest without any network or apt"
else
  not_ok "lock + warm store: builds the same digest without any network or apt" "$(cat "$WORK/4.err")" \
    "apt run: $([ -e "$WORK/apt-was-run" ] && echo yes || echo no)"
fi
if offline_env "$COREC" build --offline --locked --quiet "$APP/app.yml" -o "$WORK/c.tim" >"$WORK/5.out" 2>"$WORK/5.err" &&
  cmp -s "$WORK/3.out" "$WORK/5.out"; then
  ok "build --offline --locked from the warm store"
else
  not_ok "build --offline --locked from the warm store" "$(cat "$WORK/5.err")"
fi

# 5. The artifact boots and shows the URL source's file.
timeout 120 "$CORERUN" "$WORK/c.tim" >"$WORK/boot.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && contains "$WORK/boot.out" "hello from a URL source"; then
  ok "the artifact boots: kernel and busybox from apt, a file from the URL"
else
  not_ok "the artifact boots: kernel and busybox from apt, a file from the URL" "exit $rc" "$(tail -20 "$WORK/boot.out")"
fi

# 6. --locked after editing app.yml: refused, naming the source and the fix; lock untouched.
cp "$APP/app.yml" "$WORK/app.yml.orig"
sed -i 's/{deb: busybox-static}/{deb: busybox-static, version: "1:0.0-nosuch"}/' "$APP/app.yml"
if "$COREC" build --locked --quiet "$APP/app.yml" -o "$WORK/d.tim" >"$WORK/6.out" 2>&1; then
  not_ok "--locked refuses an edited app.yml" "the build succeeded"
elif contains "$WORK/6.out" "busybox-static" && contains "$WORK/6.out" "--locked" && contains "$WORK/6.out" "corec lock" &&
  cmp -s "$APP/app.lock" "$WORK/lock.orig"; then
  ok "--locked refuses an edited app.yml with a clear message; app.lock untouched"
else
  not_ok "--locked refuses an edited app.yml with a clear message; app.lock untouched" "$(cat "$WORK/6.out")"
fi
# Without --locked the unknown version is reported with the versions apt has.
if "$COREC" build --quiet "$APP/app.yml" -o "$WORK/d.tim" >"$WORK/7.out" 2>&1; then
  not_ok "an unknown package version lists the available ones" "the build succeeded"
elif contains "$WORK/7.out" "available:" && contains "$WORK/7.out" "app.yml:6:"; then
  ok "an unknown package version lists the available ones"
else
  not_ok "an unknown package version lists the available ones" "$(cat "$WORK/7.out")"
fi
cp "$WORK/lock.orig" "$APP/app.lock"
cp "$WORK/app.yml.orig" "$APP/app.yml"

# 7. The cache commands.
# The store also holds the link and kernel caches' blobs (spec/store.md): the three the lock
# pins must be listed, and the caches' entries counted.
pinned() { grep -o 'sha256:[0-9a-f]\{64\}' "$APP/app.lock" | sort -u; }
if "$COREC" cache ls >"$WORK/ls.out" 2>&1 && [ "$(pinned | wc -l)" = 3 ] &&
  [ "$(pinned | while read -r d; do grep -c "^$d " "$WORK/ls.out"; done | grep -c '^1$')" = 3 ] &&
  grep -qE '^[0-9]+ link cache entries .*, 1 kernel cache entries' "$WORK/ls.out"; then
  ok "cache ls lists the three pinned blobs and counts the cache entries"
else
  not_ok "cache ls lists the three pinned blobs and counts the cache entries" "$(cat "$WORK/ls.out" "$APP/app.lock")"
fi
check "cache verify passes on a sound store" "$COREC" cache verify
URL_BLOB=$(sed -n 's/.*"sha256": "sha256:\([0-9a-f]*\)".*/\1/p' "$APP/app.lock" | while read -r h; do
  [ "$(stat -c %s "$CORE_STORE_DIR/blobs/sha256/$h")" -lt 100000 ] && echo "$h"; done | head -1)
chmod u+w "$CORE_STORE_DIR/blobs/sha256/$URL_BLOB"
echo tampered >>"$CORE_STORE_DIR/blobs/sha256/$URL_BLOB"
"$COREC" cache verify >"$WORK/v.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && contains "$WORK/v.out" "corrupt" && [ ! -e "$CORE_STORE_DIR/blobs/sha256/$URL_BLOB" ]; then
  ok "cache verify removes a corrupt blob and exits 1"
else
  not_ok "cache verify removes a corrupt blob and exits 1" "exit $rc" "$(cat "$WORK/v.out")"
fi
# The blob is gone and the network too: the build says what it could not fetch, where.
if offline_env "$COREC" build --offline --quiet "$APP/app.yml" -o "$WORK/e.tim" >"$WORK/8.out" 2>&1; then
  not_ok "offline build without the blob fails" "the build succeeded"
elif contains "$WORK/8.out" "app.yml:8:" && contains "$WORK/8.out" "greeting.tar"; then
  ok "offline build without the blob fails at the URL's position"
else
  not_ok "offline build without the blob fails at the URL's position" "$(cat "$WORK/8.out")"
fi
if (cd "$WORK" && "$COREC" cache gc >"$WORK/gc1.out" 2>&1) &&
  contains "$WORK/gc1.out" "kept 2 blobs"; then
  ok "cache gc keeps the blobs an app.lock under the root refers to"
else
  not_ok "cache gc keeps the blobs an app.lock under the root refers to" "$(cat "$WORK/gc1.out")"
fi
mkdir -p "$WORK/empty"
if "$COREC" cache gc --older-than 1 "$WORK/empty" >"$WORK/gc2.out" 2>&1 && contains "$WORK/gc2.out" "removed 0 blobs" &&
  "$COREC" cache gc "$WORK/empty" >"$WORK/gc3.out" 2>&1 && contains "$WORK/gc3.out" "removed 2 blobs" &&
  contains "$WORK/gc3.out" "MiB" && [ -z "$(ls "$CORE_STORE_DIR/blobs/sha256")" ]; then
  ok "cache gc --older-than keeps recent blobs; without it unreferenced ones go, and it says what was freed"
else
  not_ok "cache gc --older-than keeps recent blobs; without it unreferenced ones go" "$(cat "$WORK/gc2.out" "$WORK/gc3.out")"
fi
for c in "lock --help" "cache --help" "cache gc --help"; do
  # shellcheck disable=SC2086
  check "corec $c" sh -c "\"$COREC\" $c >/dev/null"
done
finish
