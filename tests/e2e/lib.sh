# Shared helpers of the end-to-end tests: absolute paths to the real binaries, a private
# work directory and CORE_HOME per test file, and TAP result lines.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$ROOT/${BUILD:-build}
COREC=$BUILD_DIR/corec
WORK=$(mktemp -d /tmp/core-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Every boot is bounded: a guest that hangs fails its test (status 124) instead of the suite.
# The timeout's SIGTERM makes corerun stop the guest gracefully, as a user's would.
CORERUN=$WORK/corerun
printf '#!/bin/sh\nexec timeout -k 15 %s "%s" "$@"\n' "${CORE_TEST_BOOT_TIMEOUT:-240}" "$BUILD_DIR/corerun" >"$CORERUN"
chmod +x "$CORERUN"
export CORE_HOME=$WORK/core-home
unset CORE_CONFIG_DIR SOURCE_DATE_EPOCH
DEBS=$ROOT/examples/debs
TIMTOOL="python3 $ROOT/tests/e2e/timtool.py"

[ -x "$COREC" ] && [ -x "$BUILD_DIR/corerun" ] || { echo "not ok - binaries missing: run 'make all' first"; exit 1; }
[ -s "$DEBS/linux-image-cloud-amd64.deb" ] && [ -s "$DEBS/busybox-static.deb" ] ||
  { echo "not ok - example packages missing in $DEBS: run 'make deps'"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "not ok - qemu-system-x86_64 missing: run 'make deps'"; exit 1; }

n_failed=0
ok() { echo "ok - $1"; }
not_ok() {
  echo "not ok - $1"
  shift
  [ $# -gt 0 ] && printf '#   %s\n' "$@"
  n_failed=$((n_failed + 1))
}
# check NAME COMMAND...: passes when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
contains() { grep -qF -- "$2" "$1"; }

# Writes an app directory like the hello example at $1 (debs referenced by absolute path),
# with main command $2 and optional extra kernel YAML lines in $3.
make_app() {
  local dir=$1 main=$2 kernel_extra=${3:-}
  mkdir -p "$dir/rootfs/bin"
  ln -sf busybox "$dir/rootfs/bin/sh"
  cat >"$dir/app.yml" <<YAML
name: testapp
kernel:
  source: $DEBS/linux-image-cloud-amd64.deb
  cmdline: quiet
$kernel_extra
rootfs:
  - source: $DEBS/busybox-static.deb
  - source: rootfs
main: $main
YAML
}

# The hello example, built once per test file.
hello_tim() {
  if [ ! -s "$WORK/hello.tim" ]; then
    "$COREC" build "$ROOT/examples/hello/app.yml" -o "$WORK/hello.tim" >"$WORK/hello.digest" 2>"$WORK/hello.build.err" ||
      { cat "$WORK/hello.build.err" >&2; return 1; }
  fi
  echo "$WORK/hello.tim"
}

# A stand-in QEMU that only records that it was started: proves refusals happen before boot.
fake_qemu() {
  cat >"$WORK/fake-qemu" <<SH
#!/bin/sh
touch "$WORK/qemu-was-started"
exit 1
SH
  chmod +x "$WORK/fake-qemu"
  rm -f "$WORK/qemu-was-started"
  echo "$WORK/fake-qemu"
}

# peak_rss FILE COMMAND...: runs COMMAND and writes its peak resident memory in KiB to FILE;
# returns its exit status. Work bounded by a claimed size shows here without address-space
# limits, which the sanitizer build cannot run under (its shadow memory is reserved up front).
peak_rss() {
  python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc if rc >= 0 else 128 - rc)' "$@"
}

finish() { [ "$n_failed" -eq 0 ]; }
