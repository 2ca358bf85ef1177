# Kernel modules: the linker takes the dependency closure from the package, coreinit loads it.
. "$(dirname "$0")/lib.sh"

# The boot's root is usr-merged, as every current Debian and Ubuntu image is (lib -> usr/lib,
# bin -> usr/bin, under the busybox package): the modules go where /lib/modules leads.
make_app "$WORK/app" '["/bin/sh", "-c", "for m in failover net_failover virtio_net; do test -d /sys/module/$m || exit 3; done; test -L /lib && test -L /bin && ls /usr/lib/modules/*/kernel/drivers/net/virtio_net.ko >/dev/null && echo modules-loaded"]' \
  '  modules: [virtio_net]'
mkdir -p "$WORK/app/merged/usr/lib" "$WORK/app/merged/usr/bin"
ln -s usr/lib "$WORK/app/merged/lib"
ln -s usr/bin "$WORK/app/merged/bin"
sed -i "s|^rootfs:|rootfs:\n  - source: merged|" "$WORK/app/app.yml"
"$COREC" build "$WORK/app/app.yml" -o "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "an app with kernel modules builds" test -s "$WORK/app.tim"
"$COREC" plan "$WORK/app/app.yml" >"$WORK/plan.json" 2>"$WORK/err"
check "corec plan prints the modules" contains "$WORK/plan.json" '"virtio_net"'
"$CORERUN" -q "$WORK/app.tim" >"$WORK/out" 2>&1
rc=$?
check "virtio_net and its dependencies are loaded in the guest" test "$rc" = 0
check "the guest saw them, through /lib -> usr/lib" contains "$WORK/out" "modules-loaded"

# Symlinked parents that point out of the root stay inside the tree, whatever they say.
for target in ../../../host /etc/../..; do
  make_app "$WORK/escape" '["/bin/true"]'
  rm -rf "$WORK/escape/rootfs/lib" && ln -s "$target" "$WORK/escape/rootfs/lib"
  "$COREC" build "$WORK/escape/app.yml" -o "$WORK/escape.tim" >"$WORK/escape.digest" 2>"$WORK/err"
  check "a layer with lib -> $target builds" test -s "$WORK/escape.tim"
  rm -rf "$WORK/layout" && mkdir -p "$WORK/layout" && tar -xf "$WORK/escape.tim" -C "$WORK/layout"
  initramfs=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2])); print(next(l["digest"] for l in m["layers"] if "initramfs" in l["mediaType"]).split(":")[1])' "$WORK/layout" "$(sed 's/^sha256://' "$WORK/escape.digest")")
  zstd -dc "$WORK/layout/blobs/sha256/$initramfs" | cpio -t 2>/dev/null >"$WORK/list"
  check "lib -> $target: the modules are inside the tree" grep -qE '^(host/)?modules/[^/]+/kernel/drivers/acpi/button.ko$' "$WORK/list"
  check "lib -> $target: no entry leaves the tree" bash -c "! grep -qE '(^/|^\.\./|/\.\./|/\.\.$)' '$WORK/list'"
  rm -rf "$WORK/escape" "$WORK/escape.tim"
done

make_app "$WORK/builtin" '["/bin/true"]' '  modules: [ext4]'
"$COREC" build "$WORK/builtin/app.yml" -o "$WORK/builtin.tim" >/dev/null 2>"$WORK/err"
check "a built-in module needs nothing loaded" test -s "$WORK/builtin.tim"

make_app "$WORK/bad" '["/bin/true"]' '  modules: [virtio_nett]'
"$COREC" build "$WORK/bad/app.yml" -o "$WORK/bad.tim" >/dev/null 2>"$WORK/err"
check "an unknown module fails the build" test ! -e "$WORK/bad.tim"
check "the error points at the module name" grep -qE "app.yml:5:13: error: kernel module 'virtio_nett' is neither" "$WORK/err"

# The kernel cache: the package is unpacked into the store once; later builds (here without
# the link cache) read the cache and give the same bytes; a damaged cache is never used.
"$COREC" cache ls >"$WORK/ls" 2>&1
check "the kernel package is cached once" grep -qE ', 1 kernel cache entries' "$WORK/ls"
"$COREC" build --no-cache "$WORK/app/app.yml" -o "$WORK/warm.tim" >/dev/null 2>"$WORK/err"
check "a build from the kernel cache gives the same bytes" cmp -s "$WORK/app.tim" "$WORK/warm.tim"
pack=$(ls -S "$CORE_HOME"/store/blobs/sha256/* | head -n 1) # the image and every module: the biggest blob
chmod u+w "$pack" && printf 'X' | dd of="$pack" bs=1 seek=5000000 conv=notrunc 2>/dev/null
"$COREC" build --no-cache "$WORK/app/app.yml" -o "$WORK/healed.tim" >/dev/null 2>"$WORK/err"
check "a damaged kernel cache is not used: the package is read again, to the same bytes" \
  cmp -s "$WORK/app.tim" "$WORK/healed.tim"
check "... and a good copy is stored in its place" bash -c "\"$COREC\" cache verify >/dev/null"
finish
