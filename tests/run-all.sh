#!/bin/bash
# Runs the whole suite: C unit tests (cmocka, TAP output) and end-to-end shell tests that drive
# the real binaries and boot real QEMU. Prints every result and one total at the end.
set -u
cd "$(dirname "$0")/.."
# usage: tests/run-all.sh [--unit-only|--e2e-only] [BUILD-DIR...]   (default: build)
# CORE_TEST_JOBS=N runs N test programs at once (default: the number of CPUs; 1 runs them one
# after another). Each unit test binary and each end-to-end file is one job; every file has its
# own work directory, CORE_HOME and ports, so they do not see each other. Results are printed
# in the same order, and counted the same way, whatever the number of jobs.
mode=all
case "${1:-}" in --unit-only | --e2e-only) mode=$1; shift ;; esac
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build)
jobs=${CORE_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || jobs=1
passed=0
failed=0
failed_names=()
results=$(mktemp -d /tmp/core-run-all.XXXXXX)
trap 'rm -rf "$results"' EXIT

# Counts "ok"/"not ok" lines of one TAP-speaking program's output (file $2, exit status $3); a
# crash without a "not ok" still fails.
count_tap() {
  local name=$1 out rc=$3
  out=$(cat "$2")
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

# The plan: what is printed, in order (plain lines and job results), and the jobs themselves.
# job_kind is tap (count its TAP lines, then its seconds), e2e (the same) or fuzz.
show=()      # "text:LINE" or "job:INDEX"
job_name=()
job_kind=()
job_build=()
job_cmd=()   # a command line for eval, its words quoted with printf %q
add_job() { # KIND NAME BUILD COMMAND...
  local i=${#job_name[@]}
  job_kind[i]=$1 job_name[i]=$2 job_build[i]=$3
  shift 3
  job_cmd[i]=$(printf '%q ' "$@")
  show+=("job:$i")
}
say() { show+=("text:$1"); }

# Source-level checks that need no build: includes run one way between the folders.
if [ "$mode" != --e2e-only ]; then
  say "== layering (tests/layering.sh)"
  add_job tap layering "" bash tests/layering.sh
fi

for BUILD in "${builds[@]}"; do
  if [ "$mode" != --e2e-only ]; then
    say "== unit tests ($BUILD/tests)"
    n=0
    for t in "$BUILD"/tests/test_*; do
      [ -x "$t" ] || continue
      n=$((n + 1))
      add_job tap "$BUILD/$(basename "$t")" "$BUILD" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
    done
    if [ "$n" -eq 0 ]; then
      say "not ok - no unit tests in $BUILD/tests: run 'make unit-tests'"
      failed=$((failed + 1))
    fi
  fi
  if [ "$mode" != --unit-only ]; then
    say "== end-to-end tests (tests/e2e) with the binaries in $BUILD"
    for t in tests/e2e/[0-9]*.sh; do
      # Boots dominate the suite's time; a file that proves only what the guest does runs
      # once, with the build as shipped, and not again under the sanitizers.
      if [[ $BUILD == *-san ]] && grep -q '^# e2e: guest behaviour' "$t"; then
        say "# $BUILD/$(basename "$t" .sh): not run in the sanitizer pass (guest behaviour)"
        continue
      fi
      # A file that measures what the sanitizers change (memory) says why in its marker line.
      if [[ $BUILD == *-san ]] && grep -q '^# e2e: skip-san: ' "$t"; then
        say "# $BUILD/$(basename "$t" .sh): not run in the sanitizer pass ($(sed -n 's/^# e2e: skip-san: //p' "$t" | head -n 1))"
        continue
      fi
      add_job e2e "$BUILD/$(basename "$t" .sh)" "$BUILD" bash "$t"
    done
  fi
done

# A bounded fuzzing run of the front end and the artifact reader (clang, libFuzzer, ASan+UBSan): one result.
if [ "$mode" = all ]; then
  say "== fuzz smoke (tests/fuzz)"
  add_job fuzz fuzz "" make -s -j"$jobs" -O fuzz-smoke
fi

# The order jobs start in: the layering check (a second; it heads the printout), then the longest
# (the fuzz build and runs, then the end-to-end files that took longest in past runs), so that no
# long job starts last with the other CPUs idle; the rest in the order they are printed. Only
# the order changes; every job in the plan runs.
long_first=(layering fuzz 46_lock_examples 85_templates 56_disk_checks 55_disk_formats 75_rootfs_rules 32_hostile_tim 41_signing)
order=()
declare -A queued=()
for want in "${long_first[@]}"; do
  for i in "${!job_name[@]}"; do
    if [ "${job_name[i]##*/}" = "$want" ] && [ -z "${queued[$i]:-}" ]; then order+=("$i"); queued[$i]=1; fi
  done
done
for i in "${!job_name[@]}"; do [ -n "${queued[$i]:-}" ] || order+=("$i"); done

start_job() {
  local i=$1
  (
    [ -z "${job_build[i]}" ] || export BUILD=${job_build[i]}
    started=$SECONDS
    eval "${job_cmd[i]}" >"$results/$i.out" 2>&1 </dev/null
    rc=$?
    echo $((SECONDS - started)) >"$results/$i.secs"
    echo "$rc" >"$results/$i.rc" # last: its presence says the job is done
  ) &
}

# Prints the plan's items, in order, as far as the jobs they need have finished.
shown=0
flush() {
  while [ "$shown" -lt ${#show[@]} ]; do
    local item=${show[shown]}
    if [[ $item == text:* ]]; then
      echo "${item#text:}"
    else
      local i=${item#job:}
      [ -f "$results/$i.rc" ] || return 0
      local rc name=${job_name[i]}
      rc=$(cat "$results/$i.rc")
      case ${job_kind[i]} in
        tap | e2e)
          count_tap "$name" "$results/$i.out" "$rc"
          echo "# $name: $(cat "$results/$i.secs") s"
          ;;
        fuzz)
          if [ "$rc" -eq 0 ]; then
            echo "[fuzz] ok - every fuzz target ran its bounded smoke run clean"
            passed=$((passed + 1))
          else
            echo "[fuzz] not ok - a fuzz target failed (its input is in build-fuzz/)"
            tail -n 40 "$results/$i.out"
            failed=$((failed + 1))
            failed_names+=(fuzz)
          fi
          ;;
      esac
    fi
    shown=$((shown + 1))
  done
}

running=0
for i in "${order[@]}"; do
  while [ "$running" -ge "$jobs" ]; do
    wait -n
    running=0
    for j in "${order[@]}"; do
      [ "$j" = "$i" ] && break
      [ -f "$results/$j.rc" ] || running=$((running + 1))
    done
    flush
  done
  start_job "$i"
  running=$((running + 1))
done
wait
flush

echo
[ "$failed" -eq 0 ] || echo "failed in: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
