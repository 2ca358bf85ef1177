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

. "$ROOT/tests/e2e/tap.sh"

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

# The disk forms' test app at $WORK/app (55, 56): main shows a file of its own and that modules
# loaded, then exits 7, so a boot proves the root file system, the modules and the debug-exit
# path. build_disk OUT [FLAGS...] builds it (OUT.digest, OUT.err beside it); disk_app builds the
# raw, qcow2 and ISO forms as $WORK/app.{img,qcow2,iso}, one TAP line each.
build_disk() {
  local out=$1
  shift
  "$COREC" build "$WORK/app/app.yml" -o "$out" "$@" >"$out.digest" 2>"$out.err"
}
disk_app() {
  make_app "$WORK/app" '["/bin/sh", "-c", "cat /etc/greeting; grep -c . /proc/modules >/dev/null && echo modules-loaded; exit 7"]' \
    '  modules: [virtio_blk]'
  mkdir -p "$WORK/app/rootfs/etc" && echo "greetings from a disk" >"$WORK/app/rootfs/etc/greeting"
  local f
  for f in img qcow2 iso; do
    if build_disk "$WORK/app.$f"; then ok "builds the $f form"; else not_ok "builds the $f form" "$(cat "$WORK/app.$f.err")"; fi
  done
}

# The hello example, built once per test file.
hello_tim() {
  if [ ! -s "$WORK/hello.tim" ]; then
    "$COREC" build "$ROOT/examples/hello/app.yml" -o "$WORK/hello.tim" >"$WORK/hello.digest" 2>"$WORK/hello.build.err" ||
      { cat "$WORK/hello.build.err" >&2; return 1; }
  fi
  echo "$WORK/hello.tim"
}

# serve_dir DIR FILE: serves DIR over HTTP on 127.0.0.1 for the rest of the test file (stopped
# on exit) and waits until FILE answers; sets HTTP_PORT and HTTP_PID.
serve_dir() {
  HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 --directory "$1" "$HTTP_PORT" >"$WORK/http.log" 2>&1 &
  HTTP_PID=$!
  trap 'kill $HTTP_PID 2>/dev/null; rm -rf "$WORK"' EXIT
  local _
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$HTTP_PORT/$2" -o /dev/null && return 0; sleep 0.1; done
  echo "not ok - the test's HTTP server on port $HTTP_PORT did not answer"
  return 1
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

# refused NAME TEXT CORERUN-ARG...: corerun, given the stand-in QEMU, exits 125 with TEXT in its
# message, and QEMU was never started. One TAP line.
refused() {
  local name=$1 text=$2 qemu
  shift 2
  qemu=$(fake_qemu)
  "$CORERUN" --qemu "$qemu" "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ "$rc" = 125 ] && grep -qF -- "$text" "$WORK/err" && [ ! -e "$WORK/qemu-was-started" ]; then
    ok "$name"
  else
    not_ok "$name" "exit $rc, qemu started: $([ -e "$WORK/qemu-was-started" ] && echo yes || echo no)" "$(cat "$WORK/err")"
  fi
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

