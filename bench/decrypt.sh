#!/bin/bash
# Decrypting an encrypted artifact against Debian's `age -d`, in one run, as a ratio: a TIM whose
# initramfs is SIZE_MIB (default 1024) MiB of random data encrypted by `age -r` and signed by
# `corec sign`. corerun's decryption time is `corerun verify --identity` (verify, decrypt into a
# memfd, hash the plaintext) minus `corerun verify` (verify only); age's is `age -d` of the same
# blob to /dev/null. Both from a warm page cache; median of RUNS (default 3).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d /tmp/core-bench-decrypt.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CORE_HOME=$WORK/home
ENCTOOL="python3 tests/e2e/enctool.py"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median
}

age-keygen -o "$WORK/id.txt" 2>/dev/null
recipient=$(age-keygen -y "$WORK/id.txt")
"$BUILD/corec" build examples/hello/app.yml -o "$WORK/small.tim" --encrypt-to "$recipient" >/dev/null 2>&1
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/plain"
age -r "$recipient" -o "$WORK/big.age" "$WORK/plain"
$ENCTOOL replace "$WORK/small.tim" "$WORK/big.age" "$WORK/big.tim" drop "$WORK/plain"
rm -f "$WORK/plain"
"$BUILD/corec" sign --key "$CORE_HOME/keys/default.key" "$WORK/big.tim" >/dev/null
cat "$WORK/big.tim" "$WORK/big.age" >/dev/null # warm the page cache

with_key=$(time_runs "$BUILD/corerun" verify --identity "$WORK/id.txt" "$WORK/big.tim")
verify_only=$(time_runs "$BUILD/corerun" verify "$WORK/big.tim")
age_d=$(time_runs age -d -i "$WORK/id.txt" -o /dev/null "$WORK/big.age")
decrypt=$(echo "$with_key - $verify_only" | bc -l)

printf '%-52s %8s %8s %7s\n' "decrypt $SIZE_MIB MiB (median of $RUNS)" "core" "age -d" "speed"
printf '%-52s %7.2fs %7.2fs %6.2fx\n' "corerun decrypt+hash (verify -i minus verify) vs age" "$decrypt" "$age_d" "$(echo "$age_d / $decrypt" | bc -l)"
printf '%-52s %7.2fs %7.2fs %6.2fx\n' "corerun verify -i, all of it, vs age -d alone" "$with_key" "$age_d" "$(echo "$age_d / $with_key" | bc -l)"
