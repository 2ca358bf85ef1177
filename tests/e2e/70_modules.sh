# Kernel modules: the linker takes the dependency closure from the package, coreinit loads it.
. "$(dirname "$0")/lib.sh"

make_app "$WORK/app" '["/bin/sh", "-c", "for m in failover net_failover virtio_net; do test -d /sys/module/$m || exit 3; done; echo modules-loaded"]' \
  '  modules: [virtio_net]'
"$COREC" build "$WORK/app/app.yml" -o "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "an app with kernel modules builds" test -s "$WORK/app.tim"
"$COREC" plan "$WORK/app/app.yml" >"$WORK/plan.json" 2>"$WORK/err"
check "corec plan prints the modules" contains "$WORK/plan.json" '"virtio_net"'
"$CORERUN" -q "$WORK/app.tim" >"$WORK/out" 2>&1
rc=$?
check "virtio_net and its dependencies are loaded in the guest" test "$rc" = 0
check "the guest saw them" contains "$WORK/out" "modules-loaded"

make_app "$WORK/builtin" '["/bin/true"]' '  modules: [ext4]'
"$COREC" build "$WORK/builtin/app.yml" -o "$WORK/builtin.tim" >/dev/null 2>"$WORK/err"
check "a built-in module needs nothing loaded" test -s "$WORK/builtin.tim"

make_app "$WORK/bad" '["/bin/true"]' '  modules: [virtio_nett]'
"$COREC" build "$WORK/bad/app.yml" -o "$WORK/bad.tim" >/dev/null 2>"$WORK/err"
check "an unknown module fails the build" test ! -e "$WORK/bad.tim"
check "the error points at the module name" grep -qE "app.yml:5:13: error: kernel module 'virtio_nett' is neither" "$WORK/err"
finish
