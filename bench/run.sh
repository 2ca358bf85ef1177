#!/bin/bash
# Side-by-side measurements, each as a ratio in one run on this machine:
#  1. build: `corec build` against the hand-written pipeline a user would otherwise script
#     (dpkg-deb + cpio + zstd + tar + openssl), producing the same kind of content;
#  2. boot: `corerun` (verify everything, then boot) against starting QEMU directly on the
#     same kernel and initramfs without any verification;
#  3. qcow2: `corec build -o app.qcow2` against building the raw disk and converting it with
#     `qemu-img convert -O qcow2` (what a user would do without corec's writer), for hello's
#     disk and for a 1 GiB mostly-empty one;
#  4. disk boot: `corerun app.qcow2` (which hashes the whole disk) against `corerun app.tim`.
# Prints the median of N runs of each (N=${RUNS:-5}) and the ratio core/alternative.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
WORK=$(mktemp -d /tmp/core-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CORE_HOME=$WORK/home
DEBS=$PWD/examples/debs

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { # time_runs COMMAND...: prints the median wall time in seconds
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median
}

hand_build() {
  local d=$WORK/hand
  rm -rf "$d" && mkdir -p "$d/root/bin" "$d/root/dev" "$d/root/etc/core" "$d/kernel"
  dpkg-deb --fsys-tarfile "$DEBS/linux-image-cloud-amd64.deb" | tar -x -C "$d/kernel" --wildcards './boot/vmlinuz-*'
  dpkg-deb -x "$DEBS/busybox-static.deb" "$d/root"
  ln -s busybox "$d/root/bin/sh"
  cp "$BUILD/coreinit" "$d/root/init"
  printf 'version 1\narg /bin/sh\n' >"$d/root/etc/core/init.conf"
  mknod "$d/root/dev/console" c 5 1
  (cd "$d/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | zstd -19 -q -c >"$d/initramfs")
  sha256sum "$d/kernel/boot/"vmlinuz-* "$d/initramfs" >"$d/SHA256SUMS"
  openssl pkeyutl -sign -inkey "$WORK/bench.key" -rawin -in "$d/SHA256SUMS" -out "$d/SHA256SUMS.sig"
  tar -C "$d" -cf "$d/out.tar" kernel initramfs SHA256SUMS SHA256SUMS.sig
}

openssl genpkey -algorithm ed25519 -out "$WORK/bench.key" 2>/dev/null
"$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.tim" >/dev/null 2>&1 # makes the key once

core_build=$(time_runs "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.tim")
hand=$(time_runs hand_build)

# The direct QEMU boot uses the artifact's own kernel and initramfs, unverified.
mkdir -p "$WORK/x" && tar -xf "$WORK/hello.tim" -C "$WORK/x"
kernel=$(ls -S "$WORK"/x/blobs/sha256/* | head -n 1)
initrd=$(ls -S "$WORK"/x/blobs/sha256/* | sed -n 2p)
qemu_direct() {
  qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 256 -nodefaults -no-user-config -display none -no-reboot \
    -chardev stdio,id=c -serial chardev:c -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 quiet" </dev/null
  return 0
}
core_boot=$(time_runs "$BUILD/corerun" -q "$WORK/hello.tim")
direct_boot=$(time_runs qemu_direct)

build_qcow2() { "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.qcow2" "$@"; }
build_raw_convert() {
  "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.img" "$@" &&
    qemu-img convert -f raw -O qcow2 "$WORK/hello.img" "$WORK/converted.qcow2"
}
qcow2_small=$(time_runs build_qcow2)
convert_small=$(time_runs build_raw_convert)
qcow2_big=$(time_runs build_qcow2 --disk-size 1G)
convert_big=$(time_runs build_raw_convert --disk-size 1G)
build_qcow2 >/dev/null 2>&1
disk_boot=$(time_runs "$BUILD/corerun" -q "$WORK/hello.qcow2")

printf '%-44s %8s %8s %7s\n' "measurement (median of $RUNS)" "core" "other" "ratio"
printf '%-44s %7.2fs %7.2fs %6.2fx\n' "build hello vs dpkg-deb+cpio+zstd+openssl" "$core_build" "$hand" "$(echo "$core_build / $hand" | bc -l)"
printf '%-44s %7.2fs %7.2fs %6.2fx\n' "verify+boot hello vs bare qemu (no checks)" "$core_boot" "$direct_boot" "$(echo "$core_boot / $direct_boot" | bc -l)"
printf '%-44s %7.2fs %7.2fs %6.2fx\n' "hello.qcow2 vs hello.img + qemu-img convert" "$qcow2_small" "$convert_small" "$(echo "$qcow2_small / $convert_small" | bc -l)"
printf '%-44s %7.2fs %7.2fs %6.2fx\n' "1 GiB qcow2 vs 1 GiB img + qemu-img convert" "$qcow2_big" "$convert_big" "$(echo "$qcow2_big / $convert_big" | bc -l)"
printf '%-44s %7.2fs %7.2fs %6.2fx\n' "corerun hello.qcow2 vs corerun hello.tim" "$disk_boot" "$core_boot" "$(echo "$disk_boot / $core_boot" | bc -l)"
