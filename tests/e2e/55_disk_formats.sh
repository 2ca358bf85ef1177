# The disk forms boot (spec/formats.md): raw, qcow2 and ISO artifacts boot under plain QEMU
# (OVMF for the disks and the ISO, SeaBIOS for the ISO) and under corerun to main's exit
# status, and corerun never writes to them. 56_disk_checks.sh has the host-side checks.
# e2e: guest behaviour
. "$(dirname "$0")/lib.sh"
OVMF=/usr/share/ovmf/OVMF.fd
[ -s "$OVMF" ] || { not_ok "$OVMF is missing: run 'make deps' (Debian's ovmf)"; exit 1; }

disk_app

# Plain QEMU, no corerun: each form boots the app to its exit status (7 -> QEMU's 15).
plain_boot() { # NAME ARGS...
  local name=$1
  shift
  timeout -k 5 "${CORE_TEST_BOOT_TIMEOUT:-240}" qemu-system-x86_64 -m 512 -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" </dev/null >"$WORK/plain.out" 2>&1
  local rc=$?
  if [ "$rc" = 15 ] && contains "$WORK/plain.out" "greetings from a disk" && contains "$WORK/plain.out" "modules-loaded"; then
    ok "$name"
  else
    not_ok "$name" "qemu exit $rc (want 15)" "$(tail -n 15 "$WORK/plain.out")"
  fi
}
plain_boot "the qcow2 boots under OVMF to main's status" -machine q35 -bios "$OVMF" \
  -drive "file=$WORK/app.qcow2,format=qcow2,if=virtio,snapshot=on"
plain_boot "the raw disk boots under OVMF to main's status" -machine q35 -bios "$OVMF" \
  -drive "file=$WORK/app.img,format=raw,if=virtio,snapshot=on"
plain_boot "the ISO boots under SeaBIOS (ISOLINUX) to main's status" -cdrom "$WORK/app.iso"
plain_boot "the ISO boots under OVMF (El Torito UEFI) to main's status" -machine q35 -bios "$OVMF" -cdrom "$WORK/app.iso"

# corerun boots each to 7; the image is never written.
sha_before=$(sha256sum "$WORK/app.qcow2" "$WORK/app.img" "$WORK/app.iso")
for f in img qcow2 iso; do
  "$CORERUN" "$WORK/app.$f" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  if [ "$rc" = 7 ] && contains "$WORK/out" "greetings from a disk"; then ok "corerun boots the $f form to main's status"
  else not_ok "corerun boots the $f form to main's status" "exit $rc" "$(tail -n 5 "$WORK/err")"; fi
done
check "corerun wrote nothing to the images" test "$(sha256sum "$WORK/app.qcow2" "$WORK/app.img" "$WORK/app.iso")" = "$sha_before"

finish
