# Hostile artifacts: every malformed tar or JSON form tests/e2e/hostile_tim.py makes from a genuine
# signed TIM is refused before QEMU starts, by `corerun` and `corerun verify`, naming the problem.
. "$(dirname "$0")/lib.sh"
tim=$(hello_tim) || { not_ok "build hello"; exit 1; }
qemu=$(fake_qemu)
HOSTILE="python3 $ROOT/tests/e2e/hostile_tim.py"

# The generator's tar writer is independent of corec's: the genuine file must come out the same,
# or the cases below would differ from the genuine one in more than their one change.
$TIMTOOL resave "$tim" "$WORK/resaved.tim"
check "the test's tar writer reproduces corec's bytes" cmp -s "$tim" "$WORK/resaved.tim"
rm -f "$WORK/resaved.tim"
"$CORERUN" verify "$tim" >/dev/null 2>"$WORK/err"
check "the genuine artifact verifies (the cases differ from it only where they say)" test $? = 0

mkdir "$WORK/cases"
$HOSTILE "$tim" "$WORK/cases" >"$WORK/cases.tsv" || not_ok "generate the hostile cases"
n=$(wc -l <"$WORK/cases.tsv")
check "at least 40 hostile cases were generated ($n)" test "$n" -ge 40

# The attack that started this: libarchive read a hard link's data as a blob, other tar readers as
# more headers. Python's tarfile must see another index.json than the genuine one in it.
$HOSTILE differential "$tim" "$WORK/cases/pax-hardlink-with-data.tim" >"$WORK/diff.out" 2>&1
check "Python's tarfile reads a different index.json from the pax hard-link attack" test $? = 0

while IFS=$'\t' read -r name text; do
  artifact=$WORK/cases/$name.tim
  rm -f "$WORK/qemu-was-started"
  "$CORERUN" --qemu "$qemu" "$artifact" >/dev/null 2>"$WORK/err"
  rc=$?
  "$CORERUN" verify "$artifact" >/dev/null 2>"$WORK/verify.err"
  vrc=$?
  if [ "$rc" = 125 ] && grep -qF -- "$text" "$WORK/err" && [ ! -e "$WORK/qemu-was-started" ] &&
    [ "$vrc" = 125 ] && grep -qF -- "$text" "$WORK/verify.err"; then
    ok "$name is refused: $text"
  else
    not_ok "$name is refused: $text" "corerun: exit $rc, qemu started: $([ -e "$WORK/qemu-was-started" ] && echo yes || echo no)" \
      "$(cat "$WORK/err")" "corerun verify: exit $vrc" "$(cat "$WORK/verify.err")"
  fi
  case "$name" in size-4gib-in-20k-file | gnu-sparse-4gib) ;; *) rm -f "$artifact" ;; esac # kept for below
done <"$WORK/cases.tsv"

# Work is bounded by the file, not by what it claims: a 20 KiB file claiming a 4 GiB blob is refused
# with its peak memory far below the claim (200 MB, sanitizer build included), with the claimed
# size set against the real one.
peak_rss "$WORK/rss" "$BUILD_DIR/corerun" verify "$WORK/cases/size-4gib-in-20k-file.tim" >/dev/null 2>"$WORK/err"
rc=$?
check "a 4 GiB claim in a 20 KiB file is refused (exit $rc)" test "$rc" = 125
check "refusing the 4 GiB claim takes less than 200 MB ($(cat "$WORK/rss") KiB)" test "$(cat "$WORK/rss")" -lt 200000
check "the refusal sets the claimed size against the file's" \
  grep -qE "claims 4294967296 bytes, but only [0-9]+ bytes follow its header \(the file has 20480 bytes\)" "$WORK/err"
peak_rss "$WORK/rss" "$BUILD_DIR/corerun" verify "$WORK/cases/gnu-sparse-4gib.tim" >/dev/null 2>"$WORK/err"
check "a GNU sparse member claiming 4 GiB is refused" test $? = 125
check "refusing the sparse member takes less than 200 MB ($(cat "$WORK/rss") KiB)" test "$(cat "$WORK/rss")" -lt 200000
rm -rf "$WORK/cases"
finish
