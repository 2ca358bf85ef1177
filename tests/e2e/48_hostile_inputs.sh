#!/bin/bash
# Hostile inputs to the front end, end to end: app.yml and includes that are devices, FIFOs,
# directories or too large (refused promptly, never read); files that are not apps never
# echoed into the log; an app.lock with a duplicate key refused by build and by cache gc alike
# (gc deletes nothing); a corrupt blob in the store named at its source in app.yml.
. "$(dirname "$0")/lib.sh"
export CORE_STORE_DIR=$WORK/store
APP=$WORK/app
mkdir -p "$APP/rootfs/bin"
ln -s busybox "$APP/rootfs/bin/sh"

# 1. Inputs that are not regular files, or too large: a prompt error naming the path, never a
#    hang (timeout's 124) or a read of what the file claims.
mkfifo "$WORK/fifo.yml"
mkdir "$WORK/dir.yml"
truncate -s 8388609 "$WORK/big.yml"
for c in "/dev/zero:is a character device, not a regular file" "$WORK/fifo.yml:is a FIFO, not a regular file" \
  "$WORK/dir.yml:is a directory, not a regular file" "$WORK/big.yml:is 8388609 bytes, over the limit of 8388608 bytes"; do
  f=${c%%:*} want=${c#*:}
  timeout 20 "$COREC" check "$f" >"$WORK/1.out" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && contains "$WORK/1.out" "'$f' $want"; then
    ok "corec check $(basename "$f") is refused: $want"
  else
    not_ok "corec check $(basename "$f") is refused: $want" "exit $rc" "$(head -c 2000 "$WORK/1.out")"
  fi
done
printf 'name: x\nkernel: {source: k}\nmain: x\ninclude:\n  - /dev/zero\n  - fifo.yml\n' >"$WORK/inc.yml"
timeout 20 "$COREC" check "$WORK/inc.yml" >"$WORK/1b.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && contains "$WORK/1b.out" "inc.yml:5:5: error: cannot read include '/dev/zero'" &&
  contains "$WORK/1b.out" "inc.yml:6:5: error: cannot read include '$WORK/fifo.yml'"; then
  ok "include: [/dev/zero, a FIFO] refused at each entry"
else
  not_ok "include: [/dev/zero, a FIFO] refused at each entry" "exit $rc" "$(head -c 2000 "$WORK/1b.out")"
fi

# 2. Included files that are not apps are never quoted, in either output form.
printf 'root:$y$j9T$E2ESECRET:19000:0:99999:7:::\000\n' >"$WORK/binary"
printf 'root:$y$j9T$E2ESHADOW:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n' >"$WORK/shadow"
printf 'name: x\nkernel: {source: k}\nmain: x\ninclude: [binary, shadow]\n' >"$WORK/leak.yml"
"$COREC" check "$WORK/leak.yml" >"$WORK/2.out" 2>"$WORK/2.err"
rc1=$?
"$COREC" check --json "$WORK/leak.yml" >"$WORK/2j.out" 2>"$WORK/2j.err"
rc2=$?
if [ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && contains "$WORK/2.err" "binary:1:41: error: control characters" &&
  contains "$WORK/2.err" "'$WORK/shadow' is not an app.yml file" && contains "$WORK/2j.out" '"ok": false' &&
  ! grep -aq 'E2ESECRET\|E2ESHADOW\|root:' "$WORK/2.out" "$WORK/2.err" "$WORK/2j.out" "$WORK/2j.err"; then
  ok "files that are not apps are named by position, never echoed (text and --json)"
else
  not_ok "files that are not apps are named by position, never echoed (text and --json)" \
    "exit $rc1 $rc2" "$(cat -v "$WORK/2.err" "$WORK/2j.out")"
fi

# A URL source from a local server, pinned in app.yml, for the lock and the store below.
mkdir -p "$WORK/www/etc"
echo "hello from a URL source" >"$WORK/www/etc/greeting"
tar -C "$WORK/www" -cf "$WORK/www/greeting.tar" etc
SHA=$(sha256sum "$WORK/www/greeting.tar" | cut -d' ' -f1)
serve_dir "$WORK/www" greeting.tar || exit 1
PORT=$HTTP_PORT
cat >"$APP/app.yml" <<YAML
name: hostile
kernel:
  source: $DEBS/linux-image-cloud-amd64.deb
  cmdline: quiet
rootfs:
  - source: $DEBS/busybox-static.deb
  - source: rootfs
  - source: {url: "http://127.0.0.1:$PORT/greeting.tar", sha256: "$SHA"}
main: ["/bin/sh", "-c", "cat /etc/greeting"]
YAML
URL_LINE=$(grep -n 'greeting.tar' "$APP/app.yml" | cut -d: -f1)
if "$COREC" build --quiet "$APP/app.yml" -o "$WORK/a.tim" >"$WORK/3.out" 2>&1 && [ -s "$APP/app.lock" ] &&
  [ -e "$CORE_STORE_DIR/blobs/sha256/$SHA" ]; then
  ok "a build with a URL source fills the store and writes app.lock"
else
  not_ok "a build with a URL source fills the store and writes app.lock" "$(cat "$WORK/3.out")"
fi
cp "$APP/app.lock" "$WORK/lock.orig"

# corec lock reads the app as build does (includes, --var) and prints what the one lock
# reader reads back.
mkdir -p "$WORK/lockapp"
printf 'rootfs:\n  - source: {url: "http://127.0.0.1:${PORT}/greeting.tar"}\n' >"$WORK/lockapp/part.yml"
printf 'name: l\nkernel: {source: %s}\nmain: x\ninclude: [part.yml]\n' "$DEBS/linux-image-cloud-amd64.deb" \
  >"$WORK/lockapp/app.yml"
if "$COREC" lock --quiet --var "PORT=$PORT" "$WORK/lockapp/app.yml" >"$WORK/lock.out" 2>&1 &&
  contains "$WORK/lock.out" "pinned url {\"url\":\"http://127.0.0.1:$PORT/greeting.tar\"}: {\"sha256\":\"sha256:$SHA\"}" &&
  contains "$WORK/lockapp/app.lock" "sha256:$SHA"; then
  ok "corec lock follows includes and --var, and prints the pins it wrote"
else
  not_ok "corec lock follows includes and --var, and prints the pins it wrote" "$(cat "$WORK/lock.out")"
fi

# 3. A duplicate key in app.lock: build and gc refuse it alike; gc deletes nothing.
"$COREC" cache ls >"$WORK/ls.before" 2>&1
# A second "sources", empty, after the real one: a reader that lets the last key win sees no
# pins, and its gc would delete every blob the lock pins.
sed 's/^  "version": 1$/  "version": 1,\n  "sources": []/' "$WORK/lock.orig" >"$APP/app.lock"
grep -q '"sources": \[\]' "$APP/app.lock" || not_ok "the duplicate key was written" "$(cat "$APP/app.lock")"
if "$COREC" build --quiet "$APP/app.yml" -o "$WORK/b.tim" >"$WORK/4.out" 2>&1; then
  not_ok "build refuses an app.lock with a duplicate key" "the build succeeded" "$(cat "$APP/app.lock")"
elif contains "$WORK/4.out" "$APP/app.lock" && contains "$WORK/4.out" "duplicate"; then
  ok "build refuses an app.lock with a duplicate key"
else
  not_ok "build refuses an app.lock with a duplicate key" "$(cat "$WORK/4.out")"
fi
"$COREC" cache gc "$WORK" >"$WORK/5.out" 2>&1
rc=$?
"$COREC" cache ls >"$WORK/ls.after" 2>&1
if [ $rc -ne 0 ] && contains "$WORK/5.out" "$APP/app.lock" && contains "$WORK/5.out" "duplicate" &&
  contains "$WORK/5.out" "gc removed nothing" && cmp -s "$WORK/ls.before" "$WORK/ls.after" &&
  contains "$WORK/ls.after" "$SHA"; then
  ok "cache gc refuses the same lock, names it, and removes nothing"
else
  not_ok "cache gc refuses the same lock, names it, and removes nothing" "exit $rc" "$(cat "$WORK/5.out")" \
    "$(diff "$WORK/ls.before" "$WORK/ls.after")"
fi
# A FIFO named app.lock under the root: refused at once, not waited on.
cp "$WORK/lock.orig" "$APP/app.lock"
mkdir -p "$WORK/other"
mkfifo "$WORK/other/app.lock"
timeout 20 "$COREC" cache gc "$WORK" >"$WORK/6.out" 2>&1
rc=$?
"$COREC" cache ls >"$WORK/ls.after2" 2>&1
if [ $rc -eq 1 ] && contains "$WORK/6.out" "'$WORK/other/app.lock' is a FIFO" && cmp -s "$WORK/ls.before" "$WORK/ls.after2"; then
  ok "cache gc refuses a FIFO named app.lock promptly and removes nothing"
else
  not_ok "cache gc refuses a FIFO named app.lock promptly and removes nothing" "exit $rc" "$(cat "$WORK/6.out")"
fi
rm -f "$WORK/other/app.lock"

# 4. A blob corrupted in the store: the build names the source where app.yml writes it, what
#    happened and the fix; the next build fetches it again.
chmod u+w "$CORE_STORE_DIR/blobs/sha256/$SHA"
echo tampered >>"$CORE_STORE_DIR/blobs/sha256/$SHA"
"$COREC" build --quiet "$APP/app.yml" -o "$WORK/c.tim" >"$WORK/7.out" 2>&1
rc=$?
if [ $rc -ne 0 ] && contains "$WORK/7.out" "$APP/app.yml:$URL_LINE:" && contains "$WORK/7.out" "greeting.tar" &&
  contains "$WORK/7.out" "no longer matches its digest" && contains "$WORK/7.out" "corec cache verify" &&
  contains "$WORK/7.out" "build again" && [ ! -e "$CORE_STORE_DIR/blobs/sha256/$SHA" ]; then
  ok "a corrupt blob is reported at its source in app.yml, with the fix"
else
  not_ok "a corrupt blob is reported at its source in app.yml, with the fix" "exit $rc" "$(cat "$WORK/7.out")"
fi
if "$COREC" build --quiet "$APP/app.yml" -o "$WORK/d.tim" >"$WORK/8.out" 2>&1 && [ -e "$CORE_STORE_DIR/blobs/sha256/$SHA" ]; then
  ok "the next build fetches the blob again"
else
  not_ok "the next build fetches the blob again" "$(cat "$WORK/8.out")"
fi
finish
