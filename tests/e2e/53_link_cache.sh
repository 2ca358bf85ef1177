# The link cache: an unchanged app is not linked again, yet gives the same bytes; anything the
# linker reads that changes is a miss; a damaged entry or blob is refused and rebuilt.
. "$(dirname "$0")/lib.sh"

make_app "$WORK/app" '["/bin/sh", "-c", "echo hi"]'
sed -i 's/cmdline: quiet/cmdline: ${CMDLINE:-quiet}/' "$WORK/app/app.yml"
# A file at /init in a layer is replaced by coreinit, with a warning: the cache must repeat it.
echo "not an init" >"$WORK/app/rootfs/init"
APP=$WORK/app/app.yml
entries() { find "$CORE_HOME/store/cache/link" -name '*.json' 2>/dev/null | wc -l; }
# build NAME [FLAGS...]: NAME.tim, NAME.out (stdout), NAME.err (stderr with JSON progress events).
build() {
  local name=$1
  shift
  "$COREC" build --json-events "$APP" -o "$WORK/$name.${FORM:-tim}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  echo $? >"$WORK/$name.status"
}
succeeded() { [ "$(cat "$WORK/$1.status")" = 0 ] && grep -qE '^sha256:[0-9a-f]{64}$' "$WORK/$1.out"; }
# A link unpacks the busybox package (a progress event); a cache hit unpacks nothing.
linked() { succeeded "$1" && grep -q '"unpacking ' "$WORK/$1.err"; }
reused() { succeeded "$1" && ! grep -q 'unpacking' "$WORK/$1.err"; }
same() { cmp -s "$WORK/$1.${FORM:-tim}" "$WORK/$2.${FORM:-tim}"; }

build cold
check "a first build links the app" linked cold
check "it stores one link cache entry" test "$(entries)" = 1
entry=$(find "$CORE_HOME/store/cache/link" -name '*.json') # the entry of the unchanged app
check "its warning is reported" contains "$WORK/cold.err" "replaced by coreinit"
build again
check "an unchanged app is taken from the cache (nothing unpacked)" reused again
check "the cached build writes the same bytes as the linking one" same cold again
check "stdout is only the digest" test "$(wc -l <"$WORK/again.out")" = 1
check "the cached build reports the link's warning again" contains "$WORK/again.err" "replaced by coreinit"
build nocache --no-cache
check "--no-cache links" linked nocache
check "--no-cache writes the same bytes" same cold nocache

FORM=qcow2 build qcold --no-cache
FORM=qcow2 build qhit
check "a qcow2 from the cache is byte-identical to one linked from scratch" bash -c \
  "[ \"\$(cat $WORK/qhit.status)\" = 0 ] && ! grep -q unpacking $WORK/qhit.err && cmp -s $WORK/qcold.qcow2 $WORK/qhit.qcow2"

# Each input the linker reads is part of the key.
echo "changed" >"$WORK/app/rootfs/greeting"
build dirchange
check "a new file in a directory layer is a miss" linked dirchange
check "... and changes the digest" test "$(cat "$WORK/dirchange.out")" != "$(cat "$WORK/cold.out")"
rm "$WORK/app/rootfs/greeting"
build dirback
check "the directory as it was is a hit again" reused dirback
check "... with the first build's bytes" same cold dirback
build var --var CMDLINE="quiet loglevel=3"
check "a --var value is part of the key" linked var
build envvar --env-var CMDLINE
check "an --env-var that is unset gives the default: the first build's digest" \
  test "$(cat "$WORK/envvar.out")" = "$(cat "$WORK/cold.out")"
CMDLINE="quiet loglevel=4" build envset --env-var CMDLINE
check "the value of an --env-var is part of the key" linked envset
SOURCE_DATE_EPOCH=1700000000 build sde
check "SOURCE_DATE_EPOCH is part of the key" linked sde
CORE_MAX_FILE_SIZE=1K build small
check "CORE_MAX_FILE_SIZE is part of the key (the limit applies, not the cache)" \
  bash -c "[ \"\$(cat $WORK/small.status)\" != 0 ] && grep -q CORE_MAX_FILE_SIZE $WORK/small.err"
cp "$APP" "$WORK/app.yml.orig"
sed -i 's/"echo hi"/"echo hello"/' "$APP"
build yml
check "an edit of app.yml is a miss" linked yml
cp "$WORK/app.yml.orig" "$APP"

# An include that only sets a variable: nothing in the config points back at it, yet an edit
# of it changes the artifact, so it is part of the key.
printf 'variables:\n  GREETING: one\n' >"$WORK/app/vars.yml"
sed -i '1i include: [vars.yml]' "$APP"
printf 'files:\n  - path: /etc/greeting\n    contents: "${GREETING}"\n' >>"$APP"
build inc1
printf 'variables:\n  GREETING: two\n' >"$WORK/app/vars.yml"
build inc2
check "an edit of an include that only sets a variable is a miss" linked inc2
build inc2b --no-cache
check "... giving what a build without the cache gives" same inc2 inc2b
check "... which is not the first one's" bash -c "! cmp -s '$WORK/inc1.tim' '$WORK/inc2.tim'"
cp "$WORK/app.yml.orig" "$APP"

# Encrypted builds neither use nor fill the cache.
n=$(entries)
printf 'secret\n' >"$WORK/pass"
build enc --encrypt-passphrase-file "$WORK/pass"
check "an encrypted build links" linked enc
check "an encrypted build stores no entry" test "$(entries)" = "$n"

# Damage: a blob of an entry whose bytes no longer match, a truncated entry, an entry that is
# a symbolic link. Each is refused with a notice, linked again, and the output is unchanged.
blob=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(max(e["blobs"], key=lambda b: b["size"])["digest"])' "$entry")
blob_path=$CORE_HOME/store/blobs/sha256/${blob#sha256:}
chmod u+w "$blob_path" && printf 'X' | dd of="$blob_path" bs=1 seek=1000 conv=notrunc 2>/dev/null
build corrupt
check "a blob that does not match its digest is refused" contains "$WORK/corrupt.err" "was refused"
check "... and the app linked again" linked corrupt
check "... to the same bytes" same cold corrupt
build healed
check "the entry stored again is used" reused healed
check "... with the same bytes" same cold healed
head -c 20 "$entry" >"$entry.tmp" && mv "$entry.tmp" "$entry"
build truncated
check "a truncated entry is refused and linked again" bash -c \
  "grep -q 'was refused' $WORK/truncated.err && grep -q unpacking $WORK/truncated.err && cmp -s $WORK/cold.tim $WORK/truncated.tim"
rm -f "$entry" && ln -s /dev/zero "$entry"
build symlink
check "an entry that is a symbolic link is refused, never followed" bash -c \
  "grep -q 'was refused' $WORK/symlink.err && grep -q unpacking $WORK/symlink.err && cmp -s $WORK/cold.tim $WORK/symlink.tim"
check "... and replaced by a good entry" test -f "$entry" -a ! -L "$entry"

# corec cache: ls counts the entries; gc removes them with the blobs no app.lock pins.
"$COREC" cache ls >"$WORK/ls.out" 2>&1
check "corec cache ls counts link cache entries" grep -qE '^[0-9]+ link cache entries' "$WORK/ls.out"
(cd "$WORK" && "$COREC" cache gc >"$WORK/gc.out" 2>&1)
check "corec cache gc removes the link cache entries" test "$(entries)" = 0
build aftergc
check "after gc the app links again" linked aftergc
check "... to the same bytes" same cold aftergc
finish
