# The linker streams (spec/tim.md, "Memory"): apps with a 60 MB and a 300 MB root file system
# layer build with the same peak memory, within a few MiB -- it does not grow with the tree --
# and below the stated bound; the big artifact lists its files and verifies. Each tree is part
# random (incompressible: 10 and 40 MB, so an initramfs kept in memory would show) and part
# zeros (cheap to compress at level 19, so the file stays quick; a tree kept in memory would
# show). A memory bound, not a wall-clock one; nothing is booted.
# e2e: skip-san: peak memory under ASan's shadow and quarantine says nothing about corec's
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/time ] || { echo "not ok - GNU time (/usr/bin/time) missing: run 'make deps'"; exit 1; }

TREE_MB=300
MID_MB=60
# Both trees are compressed as several zstd jobs, so both peaks are the compressor's: one worker
# at level 19 holds some 180 MiB (its tables and two jobs' buffers) whatever the input's size
# beyond two jobs; names and nodes add a few hundred bytes a file. Five times the tree may add
# at most GROWTH_MIB, and the peak stays under BOUND_MIB (spec/tim.md, "Memory").
GROWTH_MIB=24
BOUND_MIB=240

# tree_app NAME RANDOM-MB ZERO-MB: an app whose layer /data holds 10 MB files, RANDOM-MB of them
# random and ZERO-MB zeros, and 200 small random ones.
tree_app() {
  make_app "$WORK/$1" '["/bin/true"]'
  mkdir -p "$WORK/$1/tree/d0" "$WORK/$1/tree/d1" "$WORK/$1/tree/d2" "$WORK/$1/tree/d3"
  local i
  for i in $(seq 0 $(($2 / 10 - 1))); do head -c 10M /dev/urandom >"$WORK/$1/tree/d$((i % 4))/blob$i"; done
  for i in $(seq $(($2 / 10)) $((($2 + $3) / 10 - 1))); do head -c 10M /dev/zero >"$WORK/$1/tree/d$((i % 4))/blob$i"; done
  for i in $(seq 0 199); do head -c $((i * 37 + 1)) /dev/urandom >"$WORK/$1/tree/d0/small$i"; done
  printf '  - source: tree\n    dest: /data\n' >"$WORK/$1/rootfs.yml"
  sed -i '/^  - source: rootfs$/r '"$WORK/$1/rootfs.yml" "$WORK/$1/app.yml"
}
tree_app mid 10 50
tree_app big 40 260

# peak NAME: builds $WORK/NAME/app.yml under GNU time; $WORK/NAME.rss gets the peak in KiB.
peak() {
  CORE_ZSTD_WORKERS=1 CORE_MAX_ROOTFS_SIZE=1G /usr/bin/time -f %M -o "$WORK/$1.rss" \
    "$COREC" build "$WORK/$1/app.yml" -o "$WORK/$1.tim" >"$WORK/$1.digest" 2>"$WORK/$1.err"
}
if peak mid; then ok "the app with a ${MID_MB} MB layer builds"; else not_ok "the app with a ${MID_MB} MB layer builds" "$(cat "$WORK/mid.err")"; fi
if peak big; then ok "the app with a ${TREE_MB} MB layer builds"; else not_ok "the app with a ${TREE_MB} MB layer builds" "$(cat "$WORK/big.err")"; fi
rm -rf "$WORK/big/tree" "$WORK/mid/tree" "$WORK/mid.tim" # done with them: the disk they take goes back now
mid=$(( $(cat "$WORK/mid.rss") >> 10 ))
big=$(( $(cat "$WORK/big.rss") >> 10 ))
echo "# peak RSS: ${MID_MB} MB tree $mid MiB, ${TREE_MB} MB tree $big MiB"
check "five times the tree adds less than $GROWTH_MIB MiB to the peak memory ($mid -> $big MiB)" test "$big" -lt $((mid + GROWTH_MIB))
check "the peak memory stays below $BOUND_MIB MiB for a ${TREE_MB} MB tree ($big MiB)" test "$big" -lt "$BOUND_MIB"
size=$(stat -c %s "$WORK/big.tim")
check "the artifact holds the random part of the tree (it is over 40 MB)" test "$size" -gt $((40 * 1000 * 1000))

"$COREC" ls "$WORK/big.tim" >"$WORK/ls" 2>"$WORK/ls.err"
check "corec ls lists a big file" grep -qE ' data/d1/blob1$' "$WORK/ls"
check "corec ls lists its size" grep -qE ' 10485760 .* data/d1/blob1$' "$WORK/ls"
check "corec ls lists the small files" test "$(grep -c ' data/d0/small' "$WORK/ls")" = 200
check "corec ls lists all ${TREE_MB} MB of the big files" \
  test "$(awk '/ data\/d[0-3]\/blob[0-9]+$/ {n++; sum += $3} END {print n, sum}' "$WORK/ls")" = "30 $((TREE_MB * 1024 * 1024))"
"$CORERUN" verify "$WORK/big.tim" >"$WORK/vout" 2>"$WORK/verr"
check "corerun verify accepts it" test "$(cat "$WORK/vout")" = "$(cat "$WORK/big.digest")"
finish
