# The same inputs give the same bytes, whatever the directory, time zone, locale or umask.
. "$(dirname "$0")/lib.sh"

copy_example() {
  mkdir -p "$1/examples"
  cp -a "$ROOT/examples/hello" "$1/examples/hello"
  ln -s "$DEBS" "$1/examples/debs"
  touch -d "2001-02-03" "$1/examples/hello/app.yml" # mtimes of sources must not matter
}
copy_example "$WORK/a"
copy_example "$WORK/b"

# built NAME: the build that wrote NAME.digest and NAME.tim succeeded and printed a digest.
# Checked before any comparison: two failed builds print the same (empty) digest.
built() { [ "$(cat "$WORK/$1.status")" = 0 ] && grep -qE '^sha256:[0-9a-f]{64}$' "$WORK/$1.digest" && [ -s "$WORK/$1.tim" ]; }

(cd "$WORK/a" && TZ=UTC LC_ALL=C "$COREC" build examples/hello/app.yml -o "$WORK/a.tim" >"$WORK/a.digest" 2>/dev/null; echo $? >"$WORK/a.status")
(cd "$WORK/b" && umask 077 && TZ=Asia/Kolkata LC_ALL=C.UTF-8 "$COREC" build "$WORK/b/examples/hello/app.yml" -o "$WORK/b.tim" >"$WORK/b.digest" 2>/dev/null; echo $? >"$WORK/b.status")
check "the first build succeeds with a digest" built a
check "the second build succeeds with a digest" built b
check "two builds give the same digest" test "$(cat "$WORK/a.digest")" = "$(cat "$WORK/b.digest")"
check "two builds with the same key give the same bytes" cmp -s "$WORK/a.tim" "$WORK/b.tim"

# The initramfs is compressed by as many zstd workers as the machine has CPUs: the bytes must
# not depend on it (linker/initramfs.h). One worker and four stand for a smaller and a bigger host.
for w in 1 4; do
  (cd "$WORK/a" && CORE_ZSTD_WORKERS=$w "$COREC" build examples/hello/app.yml -o "$WORK/w$w.tim" >"$WORK/w$w.digest" 2>/dev/null
   echo $? >"$WORK/w$w.status")
  check "the build with $w zstd worker(s) succeeds with a digest" built "w$w"
  check "the build with $w zstd worker(s) gives the same bytes" cmp -s "$WORK/a.tim" "$WORK/w$w.tim"
done

# Another key changes the signature, never the artifact's identity.
CORE_HOME=$WORK/other-home "$COREC" build "$WORK/a/examples/hello/app.yml" -o "$WORK/c.tim" >"$WORK/c.digest" 2>/dev/null
echo $? >"$WORK/c.status"
check "the build with another key succeeds with a digest" built c
check "another signing key keeps the digest" test "$(cat "$WORK/a.digest")" = "$(cat "$WORK/c.digest")"
check "another signing key changes the file" bash -c "! cmp -s '$WORK/a.tim' '$WORK/c.tim'"

SOURCE_DATE_EPOCH=1700000000 "$COREC" build "$WORK/a/examples/hello/app.yml" -o "$WORK/d.tim" >"$WORK/d.digest" 2>/dev/null
echo $? >"$WORK/d.status"
check "the build with SOURCE_DATE_EPOCH succeeds with a digest" built d
check "SOURCE_DATE_EPOCH changes the digest" test "$(cat "$WORK/a.digest")" != "$(cat "$WORK/d.digest")"
SOURCE_DATE_EPOCH=yesterday "$COREC" build "$WORK/a/examples/hello/app.yml" -o "$WORK/e.tim" >/dev/null 2>"$WORK/err"
check "a malformed SOURCE_DATE_EPOCH is an error" contains "$WORK/err" "SOURCE_DATE_EPOCH='yesterday'"
finish
