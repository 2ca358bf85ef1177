# A changed byte anywhere that matters is refused before QEMU starts, with the failed check named.
. "$(dirname "$0")/lib.sh"
tim=$(hello_tim) || { not_ok "build hello"; exit 1; }

# One flipped byte in the middle of each blob: the kernel, the initramfs, the config, the
# manifest, the SBOM, the provenance, the signature envelope, the signature manifest, the image index.
$TIMTOOL offsets "$tim" >"$WORK/offsets"
n=0
while IFS=$'\t' read -r name size offset; do
  case "$name" in blobs/sha256/*) ;; *) continue ;; esac
  n=$((n + 1))
  $TIMTOOL flip "$tim" "$WORK/flipped.tim" $((offset + size / 2))
  refused "flipped byte in blob ${name#blobs/sha256/} ($size bytes) is refused" "does not match its content" "$WORK/flipped.tim"
done <"$WORK/offsets"
check "every blob was tried (10 blobs: the SBOM and provenance too)" test "$n" = 10

# index.json is not a blob: a change there must still not get past the digests it names.
read -r _ size offset < <(grep -P '^index.json\t' "$WORK/offsets")
$TIMTOOL flip "$tim" "$WORK/flipped.tim" $((offset + size - 20))
refused "flipped byte in index.json is refused" "index.json" "$WORK/flipped.tim"

$TIMTOOL forge-sig "$tim" "$WORK/forged.tim"
refused "a forged signature (digests made consistent) is refused" "does not verify" "$WORK/forged.tim"

$TIMTOOL strip-sig "$tim" "$WORK/unsigned.tim"
refused "an unsigned artifact is refused" "is not signed" "$WORK/unsigned.tim"

make_app "$WORK/other" '["/bin/sh", "-c", "echo other"]'
"$COREC" build "$WORK/other/app.yml" -o "$WORK/other.tim" >/dev/null 2>&1
$TIMTOOL graft-sig "$tim" "$WORK/other.tim" "$WORK/grafted.tim"
refused "a valid signature of another artifact is refused" "for another artifact" "$WORK/grafted.tim"

head -c $(($(stat -c %s "$tim") / 2)) "$tim" >"$WORK/truncated.tim"
refused "a truncated artifact is refused" "truncated" "$WORK/truncated.tim"

printf 'not a tar' >"$WORK/garbage.tim"
refused "a file that is not a TIM is refused" "not a TIM" "$WORK/garbage.tim"

# A path that is not an artifact at all: the reason, and what to give instead.
refused "a missing artifact is refused with the reason" "opening artifact '$WORK/nonexistent.tim': No such file or directory" "$WORK/nonexistent.tim"
mkdir "$WORK/somedir"
refused "a directory given as the artifact is refused" "'$WORK/somedir' is a directory, not an artifact: give the path of a .tim file" "$WORK/somedir"
finish
