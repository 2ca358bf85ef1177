# The disk forms on the host (spec/formats.md): raw, qcow2 and ISO artifacts build, read
# correctly with other tools (qemu-img, sgdisk, sfdisk, mtools, objdump, xorriso, isoinfo),
# verify in corerun, refuse any changed byte before QEMU starts, and come out byte-identical
# from a second build under other conditions. 55_disk_formats.sh boots them.
. "$(dirname "$0")/lib.sh"
DISKTOOL="python3 $ROOT/tests/e2e/disktool.py"
for tool in qemu-img sgdisk sfdisk xorriso isoinfo mdir; do
  command -v $tool >/dev/null || { not_ok "$tool is missing: run 'make deps'"; exit 1; }
done

disk_app
check "the build prints the digest" grep -qE '^sha256:[0-9a-f]{64}$' "$WORK/app.qcow2.digest"
check "the raw disk and its qcow2 are one artifact (one digest)" cmp -s "$WORK/app.img.digest" "$WORK/app.qcow2.digest"

# The format: from the extension, from --format, and errors that name the choices.
"$COREC" build "$WORK/app/app.yml" -o "$WORK/app.vmdk" >/dev/null 2>"$WORK/err"
check "an unknown extension is an error listing the formats" contains "$WORK/err" "tim (.tim), raw (.img, .raw), qcow2 (.qcow2), iso (.iso)"
check "...and writes nothing" test ! -e "$WORK/app.vmdk"
build_disk "$WORK/app.bin" --format qcow2
check "--format overrides the extension" test "$(head -c 4 "$WORK/app.bin" | od -An -c | tr -d ' ')" = "QFI373"
"$COREC" build "$WORK/app/app.yml" -o "$WORK/x.iso" --disk-size 1G >/dev/null 2>"$WORK/err"
check "--disk-size on an ISO is refused" contains "$WORK/err" "--disk-size applies to raw and qcow2 disks"
"$COREC" build "$WORK/app/app.yml" -o "$WORK/x.img" --disk-size 1M >/dev/null 2>"$WORK/err"
check "a --disk-size too small for the app is refused" contains "$WORK/err" "is too small: this app needs a disk of at least"
check "...and writes nothing" test ! -e "$WORK/x.img"

# Other tools read the disk: qemu-img, sgdisk, sfdisk, mtools.
qemu-img check "$WORK/app.qcow2" >"$WORK/out" 2>&1
check "qemu-img check finds no errors in the qcow2" contains "$WORK/out" "No errors were found on the image."
qemu-img compare "$WORK/app.img" "$WORK/app.qcow2" >"$WORK/out" 2>&1
check "qemu-img compare: the qcow2 holds exactly the raw disk" contains "$WORK/out" "Images are identical."
qemu-img info --output=json "$WORK/app.qcow2" >"$WORK/info"
check "qemu-img info gives the raw disk's size as the virtual size" \
  test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["virtual-size"])' "$WORK/info")" = "$(stat -c %s "$WORK/app.img")"
sgdisk -v "$WORK/app.img" >"$WORK/out" 2>&1
check "sgdisk -v finds no problems in the GPT" contains "$WORK/out" "No problems found."
sgdisk -p "$WORK/app.img" >"$WORK/out" 2>&1
check "sgdisk lists the EFI system partition" grep -q 'EF00  EFI System Partition' "$WORK/out"
check "sgdisk lists the metadata partition" contains "$WORK/out" "core-metadata"
sfdisk --json "$WORK/app.img" >"$WORK/sfdisk.json" 2>&1
check "sfdisk reads two partitions, the first at sector 2048" \
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["partitiontable"]["partitions"]; sys.exit(not (len(p)==2 and p[0]["start"]==2048 and p[1]["type"].upper()=="C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))' "$WORK/sfdisk.json"
esp_at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["partitiontable"]["partitions"][1]["start"]*512)' "$WORK/sfdisk.json")
mdir -/ -i "$WORK/app.img@@$esp_at" :: >"$WORK/out" 2>&1
check "mtools finds the UKI at EFI/BOOT/BOOTX64.EFI" grep -q 'BOOTX64  EFI' "$WORK/out"
mcopy -i "$WORK/app.img@@$esp_at" ::EFI/BOOT/BOOTX64.EFI "$WORK/uki.efi" 2>/dev/null
objdump -h "$WORK/uki.efi" >"$WORK/out" 2>&1
check "objdump reads the UKI's .linux, .initrd and .cmdline sections" grep -qE '\.linux.*\.initrd|\.initrd' "$WORK/out"
check "...with the kernel command line" sh -c "objcopy -O binary --only-section=.cmdline '$WORK/uki.efi' '$WORK/cmdline' && grep -q 'console=ttyS0 panic=-1 quiet' '$WORK/cmdline'"

# And the ISO: xorriso and isoinfo list it; both El Torito entries are there.
xorriso -indev "$WORK/app.iso" -find / -type f 2>/dev/null >"$WORK/out"
for f in /CORE/VMLINUZ /CORE/INITRD /EFI/BOOT/EFIBOOT.IMG /ISOLINUX/ISOLINUX.BIN /ISOLINUX/LDLINUX.C32 /ISOLINUX/ISOLINUX.CFG; do
  check "xorriso lists $f" grep -qi "'$f" "$WORK/out"
done
xorriso -indev "$WORK/app.iso" -report_el_torito plain 2>/dev/null >"$WORK/out"
check "El Torito has a BIOS entry" grep -q 'El Torito boot img :   1  BIOS' "$WORK/out"
check "El Torito has a UEFI entry" grep -q 'El Torito boot img :   2  UEFI' "$WORK/out"
isoinfo -d -i "$WORK/app.iso" >"$WORK/out" 2>&1
check "isoinfo reads the volume id" contains "$WORK/out" "Volume id: TESTAPP"

# Sparse: a 1 GiB disk takes a few MiB in both files.
build_disk "$WORK/big.qcow2" --disk-size 1G && build_disk "$WORK/big.img" --disk-size 1G
check "a 1 GiB raw disk is a sparse file" test "$(du -k "$WORK/big.img" | cut -f1)" -lt $(( $(stat -c %s "$WORK/app.img") / 1024 + 4096 ))
check "a 1 GiB qcow2 allocates only what holds data" test "$(stat -c %s "$WORK/big.qcow2")" -lt $(( $(stat -c %s "$WORK/app.img") + 4194304 ))
qemu-img info --output=json "$WORK/big.qcow2" >"$WORK/info"
check "qemu-img info: virtual size 1 GiB" grep -q '"virtual-size": 1073741824' "$WORK/info"
qemu-img check "$WORK/big.qcow2" >"$WORK/out" 2>&1
check "qemu-img check: the 1 GiB qcow2 has no errors" contains "$WORK/out" "No errors were found on the image."

# corerun verify prints each form's digest.
for f in img qcow2 iso; do
  "$CORERUN" verify "$WORK/app.$f" >"$WORK/vout" 2>"$WORK/verr"
  check "corerun verify accepts the $f form and prints its digest" test "$(cat "$WORK/vout")" = "$(cat "$WORK/app.$f.digest")"
done

# Tampering: one flipped byte anywhere is refused before QEMU starts.
qemu=$(fake_qemu)
for f in img qcow2 iso; do
  $DISKTOOL info "$WORK/app.$f" >"$WORK/info.$f"
  kernel_at=$($DISKTOOL fileoff "$WORK/app.$f" $(($(awk '$1=="kernel"{print $2}' "$WORK/info.$f") + 4096)))
  initrd_at=$($DISKTOOL fileoff "$WORK/app.$f" $(($(awk '$1=="initramfs"{print $2}' "$WORK/info.$f") + 100)))
  tar_end=$(awk '$1=="tar_end"{print $2}' "$WORK/info.$f")
  env=$(awk '$1=="signature_envelope"{print $2}' "$WORK/info.$f")
  env_at=$(awk -v e="blobs/sha256/$env" '$1=="entry" && $2==e {print $3}' "$WORK/info.$f")
  man=$(awk '$1=="manifest_digest"{print substr($2,8)}' "$WORK/info.$f")
  man_at=$(awk -v e="blobs/sha256/$man" '$1=="entry" && $2==e {print $3}' "$WORK/info.$f")
  $TIMTOOL flip "$WORK/app.$f" "$WORK/t.$f" "$kernel_at"
  refused "$f: a flipped byte in the kernel is refused" "was modified after it was signed" "$WORK/t.$f"
  $TIMTOOL flip "$WORK/app.$f" "$WORK/t.$f" "$initrd_at"
  refused "$f: a flipped byte in the initramfs is refused" "was modified after it was signed" "$WORK/t.$f"
  $TIMTOOL flip "$WORK/app.$f" "$WORK/t.$f" $((man_at + 10))
  refused "$f: a flipped byte in the signed manifest is refused" "does not match its content" "$WORK/t.$f"
  $TIMTOOL flip "$WORK/app.$f" "$WORK/t.$f" $((env_at + 40))
  refused "$f: a flipped byte in the signature envelope is refused" "does not match its content" "$WORK/t.$f"
  $TIMTOOL flip "$WORK/app.$f" "$WORK/t.$f" $((tar_end + 7))
  refused "$f: a byte after the metadata tar, in its region, is refused" "where only zeros belong" "$WORK/t.$f"
  head -c -512 "$WORK/app.$f" >"$WORK/t.$f"
  refused "$f: a truncated file is refused" "was truncated or extended" "$WORK/t.$f"
  cp "$WORK/app.$f" "$WORK/t.$f" && printf x >>"$WORK/t.$f"
  refused "$f: an extended file is refused" "was truncated or extended" "$WORK/t.$f"
done
# Metadata of the file systems and containers themselves.
$TIMTOOL flip "$WORK/app.img" "$WORK/t.img" 600
refused "raw: a flipped byte in the GPT header is refused" "was modified after it was signed" "$WORK/t.img"
$TIMTOOL flip "$WORK/app.img" "$WORK/t.img" $((esp_at + 3))
refused "raw: a flipped byte in the FAT boot sector is refused" "was modified after it was signed" "$WORK/t.img"
$TIMTOOL flip "$WORK/app.img" "$WORK/t.img" $(( $(stat -c %s "$WORK/app.img") - 100 ))
refused "raw: a flipped byte in the backup GPT is refused" "was modified after it was signed" "$WORK/t.img"
l1=$(python3 -c 'import struct,sys; print(struct.unpack(">Q", open(sys.argv[1],"rb").read()[40:48])[0])' "$WORK/app.qcow2")
$TIMTOOL flip "$WORK/app.qcow2" "$WORK/t.qcow2" $((l1 + 7))
refused "qcow2: a flipped byte in the L1 table is refused" "qcow2" "$WORK/t.qcow2"
$TIMTOOL flip "$WORK/app.qcow2" "$WORK/t.qcow2" 100
refused "qcow2: a flipped byte in the header is refused" "qcow2" "$WORK/t.qcow2"
$TIMTOOL flip "$WORK/app.iso" "$WORK/t.iso" $((16 * 2048 + 40))
refused "iso: a flipped byte in the volume descriptor is refused" "was modified after it was signed" "$WORK/t.iso"
isolinux_at=$(xorriso -indev "$WORK/app.iso" -find /ISOLINUX/ISOLINUX.BIN -exec report_lba 2>/dev/null | awk '/File data lba/ {print $6; exit}')
$TIMTOOL flip "$WORK/app.iso" "$WORK/t.iso" $((isolinux_at * 2048 + 100))
refused "iso: a flipped byte in ISOLINUX is refused" "was modified after it was signed" "$WORK/t.iso"

# Hostile qcow2 headers are refused before their tables are read, in bounded memory (the reader
# is fuzzed too: tests/fuzz/fuzz_qcow2.c; tests/unit/test_qcow2.c has the field-by-field cases).
hostile_qcow2() { # NAME OUT PYTHON-STATEMENTS (h: the header bytes, a bytearray)
  python3 -c 'import struct,sys
h = bytearray(open(sys.argv[1], "rb").read())
exec(sys.argv[3])
open(sys.argv[2], "wb").write(h)' "$WORK/app.qcow2" "$2" "$3"
}
hostile_qcow2 l1 "$WORK/h1.qcow2" 'struct.pack_into(">I", h, 36, 0x7fffffff)'
refused "qcow2: an L1 table of 2^31 entries is refused" "qcow2" "$WORK/h1.qcow2"
peak_rss "$WORK/rss" "$BUILD_DIR/corerun" --qemu "$qemu" "$WORK/h1.qcow2" >/dev/null 2>&1
check "...in bounded memory (under 64 MiB)" test "$(cat "$WORK/rss")" -lt 65536
hostile_qcow2 size "$WORK/h2.qcow2" 'struct.pack_into(">Q", h, 24, 1 << 62)'
refused "qcow2: a virtual size of 2^62 is refused" "qcow2" "$WORK/h2.qcow2"
hostile_qcow2 l1off "$WORK/h3.qcow2" 'struct.pack_into(">Q", h, 40, 1 << 40)'
refused "qcow2: an L1 table beyond the end of the file is refused" "qcow2" "$WORK/h3.qcow2"
hostile_qcow2 l2 "$WORK/h4.qcow2" 'l1 = struct.unpack_from(">Q", h, 40)[0]; struct.pack_into(">Q", h, l1, (1 << 63) | 0)'
refused "qcow2: an L2 table at the header is refused" "qcow2" "$WORK/h4.qcow2"
hostile_qcow2 backing "$WORK/h5.qcow2" 'struct.pack_into(">QI", h, 8, 512, 8); h[512:520] = b"/etc/shd"'
refused "qcow2: a backing file is refused" "backing" "$WORK/h5.qcow2"

# The metadata taken out and presented as a TIM: its manifest says it belongs to a disk.
$DISKTOOL extract "$WORK/app.qcow2" "$WORK/meta.tim"
refused "the metadata taken out of a disk is not a TIM" "a raw or qcow2 disk: it is the metadata of that artifact taken out of it" "$WORK/meta.tim"

# Reproducible: another directory, TZ, locale, umask and CPU count give the same bytes.
mkdir -p "$WORK/elsewhere" && cp -r "$WORK/app" "$WORK/elsewhere/app"
sed -i "s|source: rootfs|source: rootfs|" "$WORK/elsewhere/app/app.yml"
for f in img qcow2 iso; do
  (cd "$WORK/elsewhere" && umask 077 && TZ=Asia/Kolkata LC_ALL=C.UTF-8 taskset -c 0 "$COREC" build app/app.yml -o "again.$f" >/dev/null 2>"again.$f.err")
  check "a second $f build elsewhere is byte-identical" cmp -s "$WORK/app.$f" "$WORK/elsewhere/again.$f"
done
finish
