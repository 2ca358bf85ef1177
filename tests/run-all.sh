#!/bin/bash
# Runs the whole suite: C unit tests (cmocka, TAP output) and end-to-end shell tests that drive
# the real binaries and boot real QEMU. Prints every result and one total at the end.
set -u
cd "$(dirname "$0")/.."
# usage: tests/run-all.sh [--unit-only|--e2e-only] [BUILD-DIR...]   (default: build)
mode=all
case "${1:-}" in --unit-only | --e2e-only) mode=$1; shift ;; esac
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build)
passed=0
failed=0
failed_names=()

# Counts "ok"/"not ok" lines of one TAP-speaking program; a crash without a "not ok" still fails.
run_tap() {
  local name=$1
  shift
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  local ok notok
  ok=$(grep -cE '^ok ' <<<"$out")
  notok=$(grep -cE '^not ok ' <<<"$out")
  grep -E '^(ok|not ok) ' <<<"$out" | sed "s|^|[$name] |"
  if [ "$notok" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "---- output of $name (exit $rc) ----"
    grep -vE '^ok ' <<<"$out" | tail -n 60
    echo "----"
  fi
  if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then notok=1; fi
  passed=$((passed + ok))
  failed=$((failed + notok))
  [ "$notok" -eq 0 ] || failed_names+=("$name")
}

# Source-level checks that need no build: includes run one way between the folders.
if [ "$mode" != --e2e-only ]; then
  echo "== layering (tests/layering.sh)"
  run_tap layering bash tests/layering.sh </dev/null
fi

for BUILD in "${builds[@]}"; do
  export BUILD
  if [ "$mode" != --e2e-only ]; then
    echo "== unit tests ($BUILD/tests)"
    n=0
    for t in "$BUILD"/tests/test_*; do
      [ -x "$t" ] || continue
      n=$((n + 1))
      CMOCKA_MESSAGE_OUTPUT=TAP run_tap "$BUILD/$(basename "$t")" "$t" </dev/null
    done
    [ "$n" -gt 0 ] || { echo "not ok - no unit tests in $BUILD/tests: run 'make unit-tests'"; failed=$((failed + 1)); }
  fi
  if [ "$mode" != --unit-only ]; then
    echo "== end-to-end tests (tests/e2e) with the binaries in $BUILD"
    for t in tests/e2e/[0-9]*.sh; do
      # Boots dominate the suite's time; a file that proves only what the guest does runs
      # once, with the build as shipped, and not again under the sanitizers.
      if [[ $BUILD == *-san ]] && grep -q '^# e2e: guest behaviour' "$t"; then
        echo "# $BUILD/$(basename "$t" .sh): not run in the sanitizer pass (guest behaviour)"
        continue
      fi
      started=$SECONDS
      run_tap "$BUILD/$(basename "$t" .sh)" bash "$t" </dev/null
      echo "# $BUILD/$(basename "$t" .sh): $((SECONDS - started)) s"
    done
  fi
done

# A bounded fuzzing run of the front end and the artifact reader (clang, libFuzzer, ASan+UBSan): one result.
if [ "$mode" = all ]; then
  echo "== fuzz smoke (tests/fuzz)"
  if make -s fuzz-smoke >/tmp/core-fuzz.$$.log 2>&1; then
    echo "[fuzz] ok - every fuzz target ran its bounded smoke run clean"
    passed=$((passed + 1))
  else
    echo "[fuzz] not ok - a fuzz target failed (its input is in build-fuzz/)"
    tail -n 40 /tmp/core-fuzz.$$.log
    failed=$((failed + 1))
    failed_names+=(fuzz)
  fi
  rm -f /tmp/core-fuzz.$$.log
fi

echo
[ "$failed" -eq 0 ] || echo "failed in: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
