# Bad input: a clear error with a position and a fix, a non-zero exit, nothing written.
. "$(dirname "$0")/lib.sh"

make_app "$WORK/app" '["/bin/true"]'
sed -i "s|source: $DEBS/linux-image-cloud-amd64.deb|source: missing-kernel.deb|" "$WORK/app/app.yml"
echo "old" >"$WORK/out.tim"
"$COREC" build "$WORK/app/app.yml" -o "$WORK/out.tim" >/dev/null 2>"$WORK/err"
rc=$?
check "a missing kernel file fails the build" test "$rc" != 0
check "the error points at the kernel source" grep -qE "app.yml:3:11: error: kernel source 'missing-kernel.deb' does not exist" "$WORK/err"
check "a failed build leaves the old output alone" test "$(cat "$WORK/out.tim")" = old
check "a failed build leaves no temporary file" test "$(ls -A "$WORK" | grep -c '\.tmp')" = 0
rm -f "$WORK/out.tim"
"$COREC" build "$WORK/app/app.yml" -o "$WORK/out.tim" >/dev/null 2>&1
check "a failed build creates no output file" test ! -e "$WORK/out.tim"

make_app "$WORK/bad" '["/bin/true"]'
printf 'servics: []\n' >>"$WORK/bad/app.yml"
"$COREC" build "$WORK/bad/app.yml" -o "$WORK/bad.tim" >/dev/null 2>"$WORK/err"
check "an unknown key is an error at its position" grep -qE "app.yml:10:1: error: unknown key 'servics'" "$WORK/err"
check "an unknown key creates no output" test ! -e "$WORK/bad.tim"

make_app "$WORK/notdeb" '["/bin/true"]'
echo "not a kernel" >"$WORK/notdeb/kernel"
sed -i "s|source: $DEBS/linux-image-cloud-amd64.deb|source: kernel|" "$WORK/notdeb/app.yml"
"$COREC" build "$WORK/notdeb/app.yml" -o "$WORK/notdeb.tim" >/dev/null 2>"$WORK/err"
check "a kernel source that is no kernel is refused" contains "$WORK/err" "neither a kernel .deb nor an x86 bzImage"

"$COREC" build "$WORK/nonexistent.yml" >/dev/null 2>"$WORK/err"
check "a missing app.yml is an error naming it" contains "$WORK/err" "nonexistent.yml"

"$CORERUN" "$WORK/nonexistent.tim" >/dev/null 2>"$WORK/err"
check "corerun on a missing artifact fails with 125" test $? = 125
"$CORERUN" >/dev/null 2>"$WORK/err"
check "corerun without an artifact says how to call it" contains "$WORK/err" "usage: corerun"
"$COREC" frobnicate >/dev/null 2>"$WORK/err"
check "an unknown corec command is named" contains "$WORK/err" "unknown command 'frobnicate'"
for cmd in "$COREC --help" "$COREC build --help" "$COREC keygen --help" "$COREC check --help" "$CORERUN --help"; do
  check "'${cmd##*/}' prints help" bash -c "$cmd | grep -q usage"
done
check "corec --version" bash -c "'$COREC' --version | grep -qE '^corec [0-9]'"
check "corerun --version" bash -c "'$CORERUN' --version | grep -qE '^corerun [0-9]'"
finish
