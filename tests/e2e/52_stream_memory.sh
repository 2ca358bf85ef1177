# The linker streams (spec/tim.md, "Memory"): an app with a ~300 MB root file system layer of
# random (incompressible) files builds with a peak memory that does not grow with the tree --
# within a few MiB of the hello app's -- and far below the tree's size; the artifact lists its
# files and verifies. A memory bound, not a wall-clock one; nothing is booted.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/time ] || { echo "not ok - GNU time (/usr/bin/time) missing: run 'make deps'"; exit 1; }

TREE_MB=${CORE_TEST_STREAM_MB:-300}
# The small app's peak is reading the kernel package; a big tree's is compressing, where one
# zstd worker at level 19 holds some 180 MiB (its tables and two jobs' buffers) whatever the
# input's size beyond two jobs; names and nodes add a few hundred bytes a file. So the tree
# may add at most GROWTH_MIB, and the peak stays under BOUND_MIB (spec/tim.md, "Memory").
GROWTH_MIB=64
BOUND_MIB=240

make_app "$WORK/small" '["/bin/true"]'
make_app "$WORK/big" '["/bin/true"]'
mkdir -p "$WORK/big/tree"
for i in $(seq 0 $((TREE_MB / 10 - 1))); do
  mkdir -p "$WORK/big/tree/d$((i % 4))"
  head -c 10M /dev/urandom >"$WORK/big/tree/d$((i % 4))/blob$i"
done
for i in $(seq 0 199); do head -c $((i * 37 + 1)) /dev/urandom >"$WORK/big/tree/d0/small$i"; done
printf '  - source: tree\n    dest: /data\n' >"$WORK/big/rootfs.yml"
sed -i '/^  - source: rootfs$/r '"$WORK/big/rootfs.yml" "$WORK/big/app.yml"

# peak NAME: builds $WORK/NAME/app.yml under GNU time; $WORK/NAME.rss gets the peak in KiB.
peak() {
  CORE_ZSTD_WORKERS=1 CORE_MAX_ROOTFS_SIZE=1G /usr/bin/time -f %M -o "$WORK/$1.rss" \
    "$COREC" build "$WORK/$1/app.yml" -o "$WORK/$1.tim" >"$WORK/$1.digest" 2>"$WORK/$1.err"
}
if peak small; then ok "the small app builds"; else not_ok "the small app builds" "$(cat "$WORK/small.err")"; fi
if peak big; then ok "the app with a ${TREE_MB} MB layer builds"; else not_ok "the app with a ${TREE_MB} MB layer builds" "$(cat "$WORK/big.err")"; fi
rm -rf "$WORK/big/tree" # done with it: the disk it takes goes back now
small=$(( $(cat "$WORK/small.rss") >> 10 ))
big=$(( $(cat "$WORK/big.rss") >> 10 ))
echo "# peak RSS: small app $small MiB, ${TREE_MB} MB tree $big MiB"
check "a ${TREE_MB} MB tree adds less than $GROWTH_MIB MiB to the peak memory ($small -> $big MiB)" test "$big" -lt $((small + GROWTH_MIB))
check "the peak memory stays below $BOUND_MIB MiB for a ${TREE_MB} MB tree ($big MiB)" test "$big" -lt "$BOUND_MIB"
size=$(stat -c %s "$WORK/big.tim")
check "the artifact holds the tree (it is over ${TREE_MB} MB)" test "$size" -gt $((TREE_MB * 1000 * 1000))

"$COREC" ls "$WORK/big.tim" >"$WORK/ls" 2>"$WORK/ls.err"
check "corec ls lists a big file" grep -qE ' data/d1/blob1$' "$WORK/ls"
check "corec ls lists its size" grep -qE ' 10485760 .* data/d1/blob1$' "$WORK/ls"
check "corec ls lists the small files" test "$(grep -c ' data/d0/small' "$WORK/ls")" = 200
"$CORERUN" verify "$WORK/big.tim" >"$WORK/vout" 2>"$WORK/verr"
check "corerun verify accepts it" test "$(cat "$WORK/vout")" = "$(cat "$WORK/big.digest")"
finish
