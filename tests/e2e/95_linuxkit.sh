# A LinuxKit image YAML, with its kernel, init and service images in a real registry on
# loopback, builds with corec and boots with corerun: images become layers, entries become
# chrooted steps and services.
. "$(dirname "$0")/lib.sh"
command -v skopeo >/dev/null || { not_ok "skopeo is missing: run 'make deps'"; exit 1; }

port=$("$ROOT/tests/registry.sh" start "$WORK/registry") || { not_ok "start a registry on 127.0.0.1"; exit 1; }
trap '"$ROOT/tests/registry.sh" stop "$WORK/registry"; rm -rf "$WORK"' EXIT
ok "a registry runs on 127.0.0.1:$port"

# The kernel image, the way LinuxKit lays it out: /kernel and /kernel.tar (lib/modules).
mkdir -p "$WORK/deb" "$WORK/kernel-image" "$WORK/busybox-image/bin"
dpkg-deb -x "$DEBS/linux-image-cloud-amd64.deb" "$WORK/deb"
cp "$WORK"/deb/boot/vmlinuz-* "$WORK/kernel-image/kernel"
(cd "$WORK/deb" && tar -cf "$WORK/kernel-image/kernel.tar" lib/modules/*/modules.builtin $(find lib/modules -name 'virtio_net.ko' -o -name 'failover.ko' -o -name 'net_failover.ko'))
dpkg-deb --fsys-tarfile "$DEBS/busybox-static.deb" | tar -x -C "$WORK/busybox-image" ./bin/busybox
ln -s busybox "$WORK/busybox-image/bin/sh"

push() { # push DIR NAME
  python3 "$ROOT/tests/e2e/oci_image.py" "$1" "$WORK/layout-$2" test &&
    skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout-$2:test" "docker://127.0.0.1:$port/$2:test" >/dev/null
}
check "push the kernel image with skopeo" push "$WORK/kernel-image" kernel
check "push the busybox image with skopeo" push "$WORK/busybox-image" busybox

mkdir -p "$WORK/lk"
cat >"$WORK/lk/demo.yml" <<YAML
kernel:
  image: 127.0.0.1:$port/kernel:test
  cmdline: quiet
init:
  - 127.0.0.1:$port/busybox:test
onboot:
  - name: greet
    image: 127.0.0.1:$port/busybox:test
    command: ["/bin/sh", "-c", "echo onboot-step-ran"]
services:
  - name: finisher
    image: 127.0.0.1:$port/busybox:test
    command: ["/bin/sh", "-c", "echo service-ran-in-its-image; test -x /bin/busybox && kill -TERM 1"]
files:
  - path: etc/motd
    contents: "from a LinuxKit file\n"
YAML
"$COREC" check "$WORK/lk/demo.yml" >/dev/null 2>"$WORK/err"
check "corec check accepts the LinuxKit file" test $? = 0
"$COREC" build "$WORK/lk/demo.yml" -o "$WORK/lk.tim" >"$WORK/digest" 2>"$WORK/err"
check "corec build pulls the images and builds it" grep -qE '^sha256:' "$WORK/digest" || cat "$WORK/err" >&2
check "the build pins the images in app.lock" grep -q '"oci"' "$WORK/lk/app.lock"
"$CORERUN" -q "$WORK/lk.tim" >"$WORK/out" 2>&1
rc=$?
check "the LinuxKit app boots and shuts down cleanly" test "$rc" = 0
check "its onboot entry ran" contains "$WORK/out" "onboot-step-ran"
check "its service ran inside its own image" contains "$WORK/out" "service-ran-in-its-image"

sed -i 's/^kernel:/kernel:\n  binary: vmlinuz/' "$WORK/lk/demo.yml"
"$COREC" check "$WORK/lk/demo.yml" >/dev/null 2>"$WORK/err"
check "a LinuxKit key core cannot honour is an error at its position" grep -qE "demo.yml:2:[0-9]+: error: LinuxKit's 'binary" "$WORK/err"
finish
