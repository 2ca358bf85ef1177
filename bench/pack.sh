#!/bin/bash
# Packing a big root file system into the initramfs, against the pipeline a user would script:
# a tree of PACK_MB (default 1024) MiB in about PACK_FILES (default 20000) files of mixed sizes,
# half compressible text and half random bytes, generated once per run from PACK_SEED (default
# 1), is
#  (a) the rootfs layer of an app (kernel and busybox from examples/debs) built by `corec build`
#      -- the whole build: read, spool, cpio, zstd -19 on every CPU, sign, write the TIM;
#  (b) `find . | LC_ALL=C sort | cpio -o -H newc | zstd -T0 -19` in the tree (no kernel, no
#      signature: what corec adds is counted against it).
# Prints the median of RUNS (default 3) of each with its spread (min-max), the ratio corec/
# pipeline (the promise: <= 1.0), and corec's peak memory (GNU time's "Maximum resident set
# size") for this build and for hello's: the two should be about the same, whatever the tree.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
PACK_MB=${PACK_MB:-1024}
PACK_FILES=${PACK_FILES:-20000}
PACK_SEED=${PACK_SEED:-1}
WORK=$(mktemp -d /tmp/core-bench-pack.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CORE_HOME=$WORK/home
[ -x /usr/bin/time ] || { echo "bench/pack.sh: GNU time (/usr/bin/time) missing: run 'make deps'" >&2; exit 1; }

now() { date +%s.%N; }
# stats: median, min and max of the numbers on stdin
stats() { sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f\n", a[int((NR+1)/2)], a[1], a[NR]}'; }

python3 - "$WORK/tree" "$PACK_MB" "$PACK_FILES" "$PACK_SEED" <<'PY'
import os, random, sys
root, mib, files, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
text = b" ".join(rng.choice(words) for _ in range(400000)) # ~2.4 MB of text to cut files from
# Mostly small files and a few big ones (as a distribution's tree), scaled to the total.
weights = [rng.lognormvariate(9, 1.6) for _ in range(files)]
scale = (mib << 20) / sum(weights)
for i, w in enumerate(weights):
    d = os.path.join(root, "d%02d" % (i % 97), "s%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    size = max(1, int(w * scale))
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        if i % 2:
            f.write(rng.randbytes(size))
        else:
            while size > 0:
                at = rng.randrange(len(text) - 1)
                part = text[at:at + size]
                f.write(part)
                size -= len(part)
PY
tree_bytes=$(du -sb "$WORK/tree" | cut -f1)
n_files=$(find "$WORK/tree" -type f | wc -l)

mkdir -p "$WORK/app"
cat >"$WORK/app/app.yml" <<YAML
name: pack
kernel:
  source: $PWD/examples/debs/linux-image-cloud-amd64.deb
rootfs:
  - source: $PWD/examples/debs/busybox-static.deb
  - source: $WORK/tree
main: ["/bin/busybox", "true"]
YAML
export CORE_MAX_ROOTFS_SIZE=$(( (PACK_MB << 20) * 2 ))
export CORE_MAX_FILE_SIZE=$(( PACK_MB << 20 ))

# Each build under GNU time (no cost to speak of): the peak memory of every run is kept.
corec_build() {
  /usr/bin/time -f %M -a -o "$WORK/rss.big" "$BUILD/corec" build "$WORK/app/app.yml" -o "$WORK/pack.tim" >/dev/null \
    2>"$WORK/corec.err" || { echo "bench/pack.sh: corec build failed:" >&2; cat "$WORK/corec.err" >&2; exit 1; }
}
pipeline() { (cd "$WORK/tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | zstd -T0 -19 -q -c >"$WORK/pipeline.zst"); }

# The runs alternate, so both see the same load on the machine.
/usr/bin/time -f %M -o "$WORK/rss.hello" "$BUILD/corec" build examples/hello/app.yml -o "$WORK/hello.tim" >/dev/null 2>&1
: >"$WORK/t.corec"
: >"$WORK/t.pipe"
for _ in $(seq "$RUNS"); do
  t0=$(now); corec_build; t1=$(now); echo "$t1 - $t0" | bc -l >>"$WORK/t.corec"
  t0=$(now); pipeline; t1=$(now); echo "$t1 - $t0" | bc -l >>"$WORK/t.pipe"
done
read -r c_med c_min c_max < <(stats <"$WORK/t.corec")
read -r p_med p_min p_max < <(stats <"$WORK/t.pipe")
initramfs=$(python3 - "$WORK/pack.tim" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
blobs = {m.name.split("/")[-1]: m for m in t.getmembers() if m.name.startswith("blobs/sha256/")}
for m in blobs.values():
    try:
        j = json.load(t.extractfile(m))
    except Exception:
        continue
    for l in j.get("layers", []) if isinstance(j, dict) else []:
        if l.get("mediaType", "").startswith("application/vnd.core.initramfs"):
            print(l["size"]); sys.exit()
PY
)

printf 'pack: %d MiB in %d files (seed %s), %d CPUs; median of %d runs (min-max)\n' "$((tree_bytes >> 20))" "$n_files" \
  "$PACK_SEED" "$(nproc)" "$RUNS"
printf '  %-40s %8.2fs (%.2f-%.2f)  initramfs %d MiB\n' "corec build (whole build)" "$c_med" "$c_min" "$c_max" "$((initramfs >> 20))"
printf '  %-40s %8.2fs (%.2f-%.2f)  output %d MiB\n' "find|sort|cpio|zstd -T0 -19" "$p_med" "$p_min" "$p_max" \
  "$(( $(stat -c %s "$WORK/pipeline.zst") >> 20 ))"
printf '  %-40s %8.2fx (the promise: <= 1.00x)\n' "ratio corec/pipeline" "$(echo "$c_med / $p_med" | bc -l)"
printf '  %-40s %8d MiB\n' "corec peak RSS, this tree" "$(( $(sort -n "$WORK/rss.big" | tail -1) >> 10 ))"
printf '  %-40s %8d MiB\n' "corec peak RSS, hello" "$(( $(cat "$WORK/rss.hello") >> 10 ))"
