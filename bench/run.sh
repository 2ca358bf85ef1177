#!/bin/bash
# Side-by-side measurements, each as a ratio in one run on this machine:
#  1. build: `corec build` against the hand-written pipeline a user would otherwise script
#     (dpkg-deb + cpio + zstd + tar + openssl), producing the same kind of content. corec's
#     "cold" build starts from an empty content store every run: no link cache AND no kernel
#     cache, only the source .debs, as the hand pipeline has them (it pays for unpacking the
#     kernel package into the kernel cache, which the hand pipeline does not do). Also timed:
#     a build with the kernel cache warm but no link cache (--no-cache: what an edited app
#     costs), and a no-op rebuild (unchanged app, warm store: the link cache hit), as a ratio
#     to the cold build (the promise: <= 0.05). The cold build against the hand pipeline's
#     promise is <= 1.0. Each with its median and spread (min-max) over the runs;
#  2. boot: `corerun` (verify everything, then boot) against starting QEMU directly on the
#     same kernel and initramfs without any verification;
#  3. qcow2: `corec build -o app.qcow2` against building the raw disk and converting it with
#     `qemu-img convert -O qcow2` (what a user would do without corec's writer), for hello's
#     disk and for a 1 GiB mostly-empty one;
#  4. disk boot: `corerun app.qcow2` (which hashes the whole disk) against `corerun app.tim`;
#  5. verify: `corerun verify --trust KEY ART` on a genuinely signed ~1 GiB artifact against
#     `openssl dgst -sha256 ART` of the same file (what a user checking a published digest
#     runs). The product's promise: verifying runs at >= 0.9x openssl's throughput. Three
#     artifacts, all built and signed in this run, all verified from a warm page cache (one
#     untimed run of each tool first, which also checks that corerun accepts the file):
#     - big.tim: hello.tim with its initramfs blob replaced by VERIFY_MB (default 1024) MiB from
#       /dev/urandom, manifest and indexes rewritten to match (bench/bigtim.py), then signed
#       with `corec sign` (it verifies, but would not boot). corerun hashes every blob into a
#       sealed memfd, so it does openssl's work plus a copy of every byte into memory;
#     - a 1 GiB raw disk (`corec build --disk-size 1G -o big.img`), copied with
#       `cp --sparse=never` so every block is stored (mostly zeros, but read like any data);
#     - the same disk as corec wrote it, sparse: corerun hashes its holes as zeros without
#       reading them while openssl reads them, so this line is about holes, not hashing.
#     Printed as MB/s (the file's size over the median time) for each tool and the
#     throughput ratio core/openssl (higher is better for core, unlike the lines above).
#     The runs of the two tools alternate, so both see the same load on the machine. corerun
#     reads and copies on a second thread while it hashes (core_digest_copy): with a core
#     free that hides the copy; on a busy machine its two threads also get a bigger share of
#     the CPU than openssl's one, so the wall-clock ratio means most on a machine at rest.
#  6. decrypt: bench/decrypt.sh, corerun's decryption of a 1 GiB encrypted initramfs against
#     `age -d` of the same age file (the promise: no slower).
#  7. pack: bench/pack.sh, `corec build` of an app with a 1 GiB tree of 20000 files against
#     `find | sort | cpio -o -H newc | zstd -T0 -19` of the tree, and corec's peak memory
#     (the promise: no slower, and memory that does not grow with the tree); RUNS defaults to
#     3 there (PACK_RUNS), it is slow.
# Prints the median of N runs of each (N=${RUNS:-5}) and the ratio core/alternative.
# SECTIONS="build boot qcow2 verify decrypt pack" (the default: all) picks which to run; "disk
# boot" runs with "boot".
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
WORK=$(mktemp -d /tmp/core-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CORE_HOME=$WORK/home
DEBS=$PWD/examples/debs
SECTIONS=${SECTIONS:-build boot qcow2 verify decrypt pack}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

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
time_once() { # time_once COMMAND...: the wall time of one run in seconds
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1
  t1=$(now)
  echo "$t1 - $t0" | bc -l
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

rows=()
row() { rows+=("$(printf '%-44s %7.2fs %7.2fs %6.2fx' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)")"); }

# stats PREP COMMAND...: RUNS timed runs of COMMAND, each after an untimed PREP; prints
# "median min max" in seconds.
stats() {
  local prep=$1
  shift
  for _ in $(seq "$RUNS"); do
    $prep
    time_once "$@"
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[1], a[NR]}'
}
no_prep() { :; }
empty_store() { rm -rf "$CORE_HOME/store"; } # the link cache and the kernel cache with it
build_rows=()
stat_row() { # stat_row LABEL "median min max"
  local m lo hi
  read -r m lo hi <<<"$2"
  build_rows+=("$(printf '%-52s %7.2fs %7.2fs-%.2fs' "$1" "$m" "$lo" "$hi")")
}

if want build; then
  hello() { "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.tim" "$@"; }
  cold=$(stats empty_store hello)
  hand=$(stats no_prep hand_build)
  warm_kernel=$(stats no_prep hello --no-cache) # the last cold run left the kernel cache
  hello >/dev/null 2>&1                         # fills the link cache
  noop=$(stats no_prep hello)
  stat_row "corec build hello, cold (empty store: no caches)" "$cold"
  stat_row "hand pipeline (dpkg-deb+cpio+zstd+openssl)" "$hand"
  stat_row "corec build, warm kernel cache, no link cache" "$warm_kernel"
  stat_row "corec build, no-op rebuild (link cache hit)" "$noop"
  row "cold build hello vs hand pipeline" "${cold%% *}" "${hand%% *}"
  row "warm-kernel-cache build vs hand pipeline" "${warm_kernel%% *}" "${hand%% *}"
  row "no-op rebuild vs cold build (goal <= 0.05)" "${noop%% *}" "${cold%% *}"
fi

build_qcow2() { "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.qcow2" "$@"; }
build_raw_convert() {
  "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.img" "$@" &&
    qemu-img convert -f raw -O qcow2 "$WORK/hello.img" "$WORK/converted.qcow2"
}

if want boot; then
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
  row "verify+boot hello vs bare qemu (no checks)" "$core_boot" "$direct_boot"
fi

if want qcow2; then
  qcow2_small=$(time_runs build_qcow2)
  convert_small=$(time_runs build_raw_convert)
  qcow2_big=$(time_runs build_qcow2 --disk-size 1G)
  convert_big=$(time_runs build_raw_convert --disk-size 1G)
  row "hello.qcow2 vs hello.img + qemu-img convert" "$qcow2_small" "$convert_small"
  row "1 GiB qcow2 vs 1 GiB img + qemu-img convert" "$qcow2_big" "$convert_big"
fi

if want boot; then
  build_qcow2 >/dev/null 2>&1
  disk_boot=$(time_runs "$BUILD/corerun" -q "$WORK/hello.qcow2")
  row "corerun hello.qcow2 vs corerun hello.tim" "$disk_boot" "$core_boot"
fi

verify_rows=()
verify_pair() { # verify_pair LABEL FILE: corerun verify against openssl dgst, runs alternating
  local label=$1 art=$2 core=() ssl=() bytes c o
  bytes=$(stat -c %s "$art")
  cat "$art" >/dev/null
  if ! "$BUILD/corerun" verify --trust "$WORK/bench.pub" "$art" >"$WORK/verify.out" 2>&1; then
    echo "bench: corerun verify refused $art:" >&2
    cat "$WORK/verify.out" >&2
    exit 1
  fi
  openssl dgst -sha256 "$art" >/dev/null
  for _ in $(seq "$RUNS"); do
    core+=("$(time_once "$BUILD/corerun" verify --trust "$WORK/bench.pub" "$art")")
    ssl+=("$(time_once openssl dgst -sha256 "$art")")
  done
  c=$(printf '%s\n' "${core[@]}" | median)
  o=$(printf '%s\n' "${ssl[@]}" | median)
  verify_rows+=("$(printf '%-44s %6.0f MB/s %6.0f MB/s %6.2fx' "$label" "$(echo "$bytes / $c / 1000000" | bc -l)" \
    "$(echo "$bytes / $o / 1000000" | bc -l)" "$(echo "$o / $c" | bc -l)")")
}

if want verify; then
  openssl pkey -in "$WORK/bench.key" -pubout -out "$WORK/bench.pub"
  head -c "${VERIFY_MB:-1024}M" /dev/urandom >"$WORK/random.bin"
  python3 bench/bigtim.py "$WORK/hello.tim" "$WORK/random.bin" "$WORK/big.tim"
  rm -f "$WORK/random.bin"
  "$BUILD/corec" sign --key "$WORK/bench.key" "$WORK/big.tim" >/dev/null 2>&1
  verify_pair "big.tim (random blob) vs openssl dgst" "$WORK/big.tim"
  rm -f "$WORK/big.tim"
  "$BUILD/corec" build --sign-key "$WORK/bench.key" examples/hello/app.yml -o "$WORK/sparse.img" --disk-size 1G \
    >/dev/null 2>&1
  cp --sparse=never "$WORK/sparse.img" "$WORK/dense.img"
  verify_pair "1 GiB raw disk, every block stored" "$WORK/dense.img"
  rm -f "$WORK/dense.img"
  verify_pair "1 GiB raw disk, sparse (about holes)" "$WORK/sparse.img"
fi

if [ ${#rows[@]} -gt 0 ]; then
  printf '%-44s %8s %8s %7s\n' "measurement (median of $RUNS)" "core" "other" "ratio"
  printf '%s\n' "${rows[@]}"
fi
if [ ${#build_rows[@]} -gt 0 ]; then
  printf '%-52s %8s %14s\n' "build times ($RUNS runs)" "median" "min-max"
  printf '%s\n' "${build_rows[@]}"
fi
if [ ${#verify_rows[@]} -gt 0 ]; then
  printf '%-44s %11s %11s %7s\n' "verify (median of $RUNS, warm cache)" "core" "openssl" "ratio"
  printf '%s\n' "${verify_rows[@]}"
  echo "(ratio: core's throughput over openssl's; the promise is >= 0.90x)"
fi
if want decrypt; then
  echo
  BUILD=$BUILD RUNS=$RUNS bench/decrypt.sh
fi
if want pack; then
  echo
  BUILD=$BUILD RUNS=${PACK_RUNS:-3} bench/pack.sh
fi
