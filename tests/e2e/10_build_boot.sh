# Builds the hello example and boots it: the artifact is a readable OCI layout, the guest
# greets on the console, and corerun says which accelerator it used.
. "$(dirname "$0")/lib.sh"

tim=$(hello_tim) || { not_ok "build hello" "$(cat "$WORK/hello.build.err")"; exit 1; }
ok "build hello"
check "build prints the artifact digest" grep -qE '^sha256:[0-9a-f]{64}$' "$WORK/hello.digest"
check "first build creates and trusts a default key" contains "$WORK/hello.build.err" "created signing key"
check "the default key is private to its owner" test "$(stat -c %a "$CORE_HOME/keys/default.key")" = 600

tar tf "$tim" >"$WORK/list"
check "tar lists oci-layout" grep -qx oci-layout "$WORK/list"
check "tar lists index.json" grep -qx index.json "$WORK/list"
check "tar lists blobs" grep -qE '^blobs/sha256/[0-9a-f]{64}$' "$WORK/list"

if skopeo inspect --raw "oci-archive:$tim" >"$WORK/raw" 2>"$WORK/skopeo.err"; then
  check "skopeo reads the image index" contains "$WORK/raw" "application/vnd.oci.image.index.v1+json"
  check "skopeo sees the app manifest by its digest" contains "$WORK/raw" "$(cat "$WORK/hello.digest")"
else
  not_ok "skopeo inspect --raw oci-archive:" "$(cat "$WORK/skopeo.err")"
fi

"$CORERUN" "$tim" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "hello exits 0" test "$rc" = 0
check "the guest greets on the console" contains "$WORK/out" "Hello from core!"
check "coreinit reports the status on the console" contains "$WORK/out" "coreinit: main command exited with status 0"
check "corerun says which accelerator" grep -qE 'booting with (KVM|TCG)' "$WORK/err"
check "corerun names what it verified" contains "$WORK/err" "verified hello ($(cat "$WORK/hello.digest"))"

"$CORERUN" verify "$tim" >"$WORK/vout" 2>"$WORK/verr"
check "corerun verify prints the same digest" test "$(cat "$WORK/vout")" = "$(cat "$WORK/hello.digest")"

# Building again with the key already there says nothing about keys.
"$COREC" build "$ROOT/examples/hello/app.yml" -o "$WORK/again.tim" >/dev/null 2>"$WORK/again.err"
check "a second build reuses the key silently" test ! -s "$WORK/again.err"
finish
