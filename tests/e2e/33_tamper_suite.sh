# The tamper suite: one flipped bit at hundreds of offsets spread over the whole file and in every
# structural field, truncation at every entry boundary and a spread of lengths, blobs swapped
# between two valid artifacts, a replayed older signature, a signature by an untrusted key that
# claims a trusted key's id, an unsigned artifact: every case is refused with status 125 and a
# message, and QEMU (a stand-in that records whether it ran) is never started.
#
# tamper_suite LABEL ARTIFACT OTHER [CORERUN-OPTION...] runs it on any artifact: the cases are
# derived from the file itself (tests/e2e/tamper_cases.py parses its tar and JSON), OTHER is a
# second valid artifact of the same kind for the swaps, and the options go to every corerun
# (an encrypted artifact: tamper_suite encrypted "$enc" "$enc2" --identity "$WORK/id.key").
# tamper_replay LABEL OLD NEW [CORERUN-OPTION...] gives NEW (a later version of the same app)
# OLD's signature. Results are a few TAP lines per artifact, one per class of case, with the count
# and any failing offsets or fields.
. "$(dirname "$0")/lib.sh"
TAMPER="python3 $ROOT/tests/e2e/tamper_cases.py"
# Seeded, so a failing offset is reproducible: CORE_TAMPER_SEED=N picks other offsets.
SEED=${CORE_TAMPER_SEED:-1}
RANDOM_FLIPS=300
# The sanitizer pass runs every 3rd random offset (100 of the same 300) and all other cases, each
# under ASan and UBSan, but LeakSanitizer (half of each run's time) only on the first case of each
# kind of refusal: every refusal path is leak-checked once (tamper_cases.py, first_of_kind).
EVERY=1 SAN_OPTS=()
[[ $BUILD_DIR == *-san ]] && EVERY=3 SAN_OPTS=(--leak-sample)

# refused_case NAME ARTIFACT [CORERUN-OPTION...]: corerun --qemu STAND-IN must exit 125 with a
# message and never start the stand-in. One TAP line.
refused_case() {
  local name=$1 artifact=$2 qemu
  shift 2
  qemu=$(fake_qemu)
  "$BUILD_DIR/corerun" --qemu "$qemu" "$@" "$artifact" >/dev/null 2>"$WORK/case.err" </dev/null
  local rc=$?
  if [ "$rc" = 125 ] && [ -s "$WORK/case.err" ] && [ ! -e "$WORK/qemu-was-started" ]; then
    ok "$name ($(tail -n 1 "$WORK/case.err" | cut -c1-160))"
  else
    not_ok "$name" "exit $rc, qemu started: $([ -e "$WORK/qemu-was-started" ] && echo yes || echo no)" "$(cat "$WORK/case.err")"
  fi
}

# reaches_qemu NAME ARTIFACT [CORERUN-OPTION...]: the control: the genuine artifact passes every
# check and starts the stand-in, so "not started" below means refused, not broken.
reaches_qemu() {
  local name=$1 artifact=$2 qemu
  shift 2
  qemu=$(fake_qemu)
  "$BUILD_DIR/corerun" --qemu "$qemu" "$@" "$artifact" >/dev/null 2>"$WORK/case.err" </dev/null
  if [ -e "$WORK/qemu-was-started" ]; then ok "$name"; else not_ok "$name" "$(cat "$WORK/case.err")"; fi
}

tamper_suite() {
  local label=$1 art=$2 other=$3
  shift 3
  local dir=$WORK/tamper-$label started=$SECONDS
  mkdir -p "$dir"
  reaches_qemu "$label: control: the genuine artifact reaches the stand-in QEMU" "$art" "$@"
  reaches_qemu "$label: control: the other artifact (for the swaps) reaches it too" "$other" "$@"
  # The swaps are written by the test's own tar writer: it must give the genuine bytes back, or a
  # case would differ from the artifact in more than its one change.
  $TIMTOOL resave "$art" "$dir/resaved.tim"
  check "$label: the test's tar writer reproduces the artifact byte for byte" cmp -s "$art" "$dir/resaved.tim"
  rm -f "$dir/resaved.tim"

  $TAMPER run "$art" --other "$other" --corerun "$BUILD_DIR/corerun" --workdir "$dir" --jobs 2 --seed "$SEED" \
    --random "$RANDOM_FLIPS" --every "$EVERY" "${SAN_OPTS[@]}" -- "$@" >"$dir/results.tsv" 2>"$dir/runner.err" ||
    not_ok "$label: the tamper runner failed" "$(tail -n 20 "$dir/runner.err")"
  local cls n nfail fails notes secs what
  while IFS=$'\t' read -r cls n nfail fails notes secs; do
    case $cls in
      flip-random) what="one flipped bit at $n seeded offsets spread evenly over the file (seed $SEED$([ "$EVERY" = 1 ] || echo ", every ${EVERY}rd of $RANDOM_FLIPS in the sanitizer pass"))" ;;
      flip-struct) what="one flipped bit in each of $n structural fields (every tar header field, data and padding edges, end marker, every JSON token of index.json, every key and value of the JSON blobs)" ;;
      truncate) what="truncation at $n lengths (every entry boundary and one byte either side, and a spread)" ;;
      swap) what="$n blob swaps with another valid artifact (same name, re-pointed manifest and top index)" ;;
      *) what="$cls: $n cases" ;;
    esac
    if [ "$nfail" = 0 ]; then
      ok "$label: $what: all refused (125, a message), QEMU never started ($secs s)"
    else
      local lines
      mapfile -t lines < <(printf '%s\n' "$fails" | tr '|' '\n' | sed 's/^ *//' | head -n 40)
      not_ok "$label: $what: $nfail not refused" "${lines[@]}"
    fi
    # Swaps with nothing to swap: shown, never dropped.
    [ "$notes" != - ] && printf '%s\n' "$notes" | tr '|' '\n' | sed 's/^ */# '"$label"': note: /'
  done <"$dir/results.tsv"
  check "$label: the runner reported all four classes" test "$(wc -l <"$dir/results.tsv")" = 4

  # Signatures: none; only an untrusted key's; an untrusted key's claiming the trusted key's id,
  # alone and beside the genuine signature (refused outright: spec/trust.md).
  local keyid
  keyid=$($TIMTOOL sig-keyid "$art")
  [ -s "$WORK/untrusted.key" ] || openssl genpkey -algorithm ed25519 -out "$WORK/untrusted.key" 2>/dev/null
  $TIMTOOL strip-sig "$art" "$dir/case.tim"
  refused_case "$label: an unsigned artifact is refused" "$dir/case.tim" "$@"
  $TIMTOOL claim-sig "$art" "$WORK/untrusted.key" own "$dir/case.tim"
  refused_case "$label: signed only by an untrusted key: refused" "$dir/case.tim" "$@"
  $TIMTOOL claim-sig "$art" "$WORK/untrusted.key" "$keyid" "$dir/case.tim"
  refused_case "$label: an untrusted key's signature claiming the trusted key id ${keyid:0:16}: refused" "$dir/case.tim" "$@"
  $TIMTOOL claim-sig "$art" "$WORK/untrusted.key" "$keyid" "$dir/case.tim" keep
  refused_case "$label: the same beside the genuine signature: refused outright" "$dir/case.tim" "$@"
  $TIMTOOL forge-sig "$art" "$dir/case.tim"
  refused_case "$label: the genuine signature with one bit changed (digests made consistent): refused" "$dir/case.tim" "$@"
  rm -f "$dir/case.tim"
  echo "# $label: tamper suite took $((SECONDS - started)) s"
}

tamper_replay() {
  local label=$1 old=$2 new=$3
  shift 3
  local dir=$WORK/tamper-$label
  mkdir -p "$dir"
  $TIMTOOL replay-sig "$new" "$old" "$dir/case.tim" as-is
  refused_case "$label: the newer version carrying the older one's signature manifest and envelope: refused" "$dir/case.tim" "$@"
  $TIMTOOL replay-sig "$new" "$old" "$dir/case.tim" resubject
  refused_case "$label: the older one's envelope under a signature manifest naming the newer: refused" "$dir/case.tim" "$@"
  rm -f "$dir/case.tim"
}

# The signed hello app, twice: 1.0.0 and 2.0.0 (a higher version, another greeting), in the clear
# and encrypted to an age identity. One key for all, made first so the builds (two at a time) do
# not race to create it.
"$COREC" keygen >/dev/null 2>&1 || { not_ok "corec keygen"; exit 1; }
age-keygen -o "$WORK/id.key" 2>/dev/null || { not_ok "age-keygen is missing: run 'make deps'"; exit 1; }
recipient=$(age-keygen -y "$WORK/id.key")
for v in 1 2; do
  mkdir -p "$WORK/hello-v$v"
  cp -r "$ROOT/examples/hello/rootfs" "$WORK/hello-v$v/"
  sed -e "s|\.\./debs/|$DEBS/|" -e "s/Hello from core!/Hello from core, version $v!/" "$ROOT/examples/hello/app.yml" >"$WORK/hello-v$v/app.yml"
  echo "version: $v.0.0" >>"$WORK/hello-v$v/app.yml"
done
for v in 1 2; do
  "$COREC" build "$WORK/hello-v$v/app.yml" -o "$WORK/hello-v$v.tim" >/dev/null 2>"$WORK/hello-v$v.err" &
  "$COREC" build "$WORK/hello-v$v/app.yml" -o "$WORK/enc-v$v.tim" --encrypt-to "$recipient" >/dev/null \
    2>"$WORK/enc-v$v.err" &
  wait
done
for art in hello-v1 hello-v2 enc-v1 enc-v2; do
  [ -s "$WORK/$art.tim" ] || { not_ok "$art builds" "$(cat "$WORK/$art.err")"; exit 1; }
done

tamper_suite signed "$WORK/hello-v1.tim" "$WORK/hello-v2.tim"
tamper_replay signed "$WORK/hello-v1.tim" "$WORK/hello-v2.tim"

# The encrypted artifact: the same classes, with the identity that decrypts it. The sanitizer
# pass runs the reader's paths on the signed artifact above; the refusals that only encryption
# has are run under the sanitizers by 43_encryption.sh, so this runs in the plain pass only.
if [[ $BUILD_DIR != *-san ]]; then
  tamper_suite encrypted "$WORK/enc-v1.tim" "$WORK/enc-v2.tim" --identity "$WORK/id.key"
  tamper_replay encrypted "$WORK/enc-v1.tim" "$WORK/enc-v2.tim" --identity "$WORK/id.key"
fi
# A re-encrypted initramfs: the same plaintext under another ciphertext, every digest above it
# made consistent, so only the signature can object.
python3 "$ROOT/tests/e2e/enctool.py" extract "$WORK/enc-v1.tim" "$WORK/v1.age"
cipher=$(sha256sum <"$WORK/v1.age" | cut -d' ' -f1)
age -d -i "$WORK/id.key" "$WORK/v1.age" | age -r "$recipient" -o "$WORK/reenc.age"
$TIMTOOL repoint "$WORK/enc-v1.tim" "sha256:$cipher" "$WORK/reenc.age" "$WORK/reenc.tim"
refused_case "encrypted: a re-encrypted initramfs (same plaintext, another ciphertext digest) is refused" \
  "$WORK/reenc.tim" --identity "$WORK/id.key"
finish
