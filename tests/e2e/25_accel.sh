# --accel on a host whose /dev/kvm opens but cannot run a guest. A --qemu wrapper plays the
# broken KVM (it aborts like QEMU's MSR assertion, or hangs like a guest stuck after "Probing
# EDD"), and CORE_KVM_DEVICE names a file that opens, so this runs on hosts without /dev/kvm.
# auto falls back to TCG on the same verified bytes and remembers that for this host boot and
# QEMU version; --accel kvm never falls back.
. "$(dirname "$0")/lib.sh"

command -v debugfs >/dev/null || { not_ok "debugfs missing (e2fsprogs): run 'make deps'"; exit 1; }
command -v ss >/dev/null || { not_ok "ss missing (iproute2)"; exit 1; }

make_app "$WORK/app" "[/bin/sh, -c, 'echo guest-says-hi; echo written > /data/proof; exit 7']"
cat >>"$WORK/app/app.yml" <<YAML
network: {mode: user}
mounts:
  - {path: /data, type: volume, volume: data}
YAML
"$COREC" build "$WORK/app/app.yml" -o "$WORK/app.tim" >/dev/null 2>"$WORK/build.err" ||
  { not_ok "build the test app" "$(cat "$WORK/build.err")"; exit 1; }

# The wrapper reads its behaviour from files, so each run can change it: mode (abort, hang,
# works) for '-accel kvm', and the version it claims. It logs every accelerator it is asked for.
echo "QEMU emulator version 7.2.0 (core e2e wrapper)" >"$WORK/version"
cat >"$WORK/qemu" <<SH
#!/bin/bash
if [ "\$1" = --version ]; then cat "$WORK/version"; exit 0; fi
accel= prev=
for a in "\$@"; do [ "\$prev" = -accel ] && accel=\$a; prev=\$a; done
echo "\$accel" >>"$WORK/accel.log"
[ "\$accel" = kvm ] || exec qemu-system-x86_64 "\$@"
# Under "KVM": the real QEMU under TCG, so what it holds (ports, disk locks) is real.
args=()
for a in "\$@"; do
  case \$a in kvm) args+=(tcg) ;; host) args+=(max) ;; *) args+=("\$a") ;; esac
done
case \$(cat "$WORK/mode") in
  abort)
    echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
    echo "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3229: kvm_buf_set_msrs: Assertion failed." >&2
    ulimit -c 0
    kill -ABRT \$\$ ;;
  hang)
    echo \$\$ >"$WORK/hung.pid"
    echo "Probing EDD (edd=off to disable)... ok"
    # Records whether the hung QEMU really holds the published port.
    port=\$(cat "$WORK/port" 2>/dev/null)
    if [ -n "\$port" ]; then
      (for i in \$(seq 50); do
        ss -ltnH "sport = :\$port" | grep -q . && { echo bound >"$WORK/hung.port"; exit; }
        sleep 0.1
      done) &
    fi
    exec qemu-system-x86_64 "\${args[@]}" -S ;; # -S: the guest's CPU never runs
  works) exec qemu-system-x86_64 "\${args[@]}" ;;
esac
exit 99
SH
chmod +x "$WORK/qemu"
echo fake >"$WORK/fake-kvm"
verdict=$CORE_HOME/kvm-verdict

# boot NAME [ENV=VALUE...] -- [CORERUN ARGS...]: a run with the fake KVM device; sets $rc,
# and $WORK/out, $WORK/err, $WORK/accel.log hold what it did.
boot() {
  local envs=(CORE_KVM_DEVICE="$WORK/fake-kvm")
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  rm -f "$WORK/accel.log" "$WORK/hung.pid" "$WORK/hung.port"
  env "${envs[@]}" "$CORERUN" --qemu "$WORK/qemu" --volume-size 64M "$@" "$WORK/app.tim" </dev/null >"$WORK/out" 2>"$WORK/err"
  rc=$?
}
accels() { tr '\n' ' ' <"$WORK/accel.log" 2>/dev/null | sed 's/ $//'; }
said() { grep -c -- "$1" "$WORK/err"; }
guest_ok() {
  if [ "$rc" = 7 ] && contains "$WORK/out" guest-says-hi; then ok "$1"; else
    not_ok "$1" "rc $rc, accelerators: $(accels)" "$(tail -5 "$WORK/err")" "$(tail -5 "$WORK/out")"; fi
}

# 1. QEMU aborts under KVM: auto boots the same artifact under TCG.
echo abort >"$WORK/mode"
boot -- --accel auto
guest_ok "auto: qemu aborting under KVM falls back to TCG; the guest's greeting and status 7 come through"
check "auto: KVM was tried once, then TCG" test "$(accels)" = "kvm tcg"
check "auto: one notice line names the reason" test "$(said "KVM dropped: qemu was killed by signal 6 (Aborted) under KVM")" = 1
check "auto: QEMU's own message is shown" contains "$WORK/err" "failed to set MSR 0x10a"
check "auto: the verdict is remembered under CORE_HOME" grep -qx "unusable qemu was killed by signal 6 (Aborted) under KVM before the guest showed a sign of life" "$verdict"
check "auto: the verdict names this host boot" grep -qx "boot-id $(cat /proc/sys/kernel/random/boot_id)" "$verdict"

# 2. The same host boot and QEMU: straight to TCG, no KVM attempt, and it says why.
boot -- 
guest_ok "remembered: the guest runs"
check "remembered: no KVM attempt" test "$(accels)" = tcg
check "remembered: the notice says it was remembered" test "$(said "KVM failed its probe earlier in this host boot (qemu was killed by signal 6")" = 1
check "remembered: the notice says how to forget it" contains "$WORK/err" "remove $verdict to probe again"

# 3. A verdict from another host boot does not count: KVM is probed again.
sed -i 's/^boot-id .*/boot-id 00000000-0000-0000-0000-000000000000/' "$verdict"
boot -- 
guest_ok "another boot id: the guest runs"
check "another boot id: KVM is probed again" test "$(accels)" = "kvm tcg"
check "another boot id: the verdict is renewed for this boot" grep -qx "boot-id $(cat /proc/sys/kernel/random/boot_id)" "$verdict"

# 4. Another QEMU version, and a guest that hangs under KVM while QEMU holds the published
# port and the volume image: both are free again for the TCG QEMU, which could not start
# otherwise (hostfwd cannot bind, the image is locked).
echo "QEMU emulator version 99.0.0 (core e2e wrapper)" >"$WORK/version"
echo hang >"$WORK/mode"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "$port" >"$WORK/port"
boot CORE_KVM_PROBE_SECONDS=4 -- -p "$port:80" -v "data=$WORK/data.img"
guest_ok "hang: a guest with no sign of life under KVM is booted under TCG"
check "hang: another QEMU version is probed again" test "$(accels)" = "kvm tcg"
check "hang: one notice line names the bound" test "$(said "KVM dropped: no sign of life in 4 s under KVM")" = 1
check "hang: the hung QEMU held the published port" test -s "$WORK/hung.port"
check "hang: the hung QEMU is gone" test -s "$WORK/hung.pid" -a ! -e "/proc/$(cat "$WORK/hung.pid" 2>/dev/null || echo 0)"
check "hang: the volume image was created once" test "$(said "created volume 'data'")" = 1
if debugfs -R "cat /proof" "$WORK/data.img" 2>/dev/null | grep -qx written; then ok "hang: the TCG guest wrote to the volume"; else
  not_ok "hang: the TCG guest wrote to the volume" "$(debugfs -R 'ls -l /' "$WORK/data.img" 2>&1 | tail -5)"; fi
check "hang: the published port is free afterwards" python3 -c "import socket; socket.socket().bind(('127.0.0.1', $port))"
check "hang: the verdict is for the new QEMU version" grep -qx "qemu QEMU emulator version 99.0.0 (core e2e wrapper)" "$verdict"
rm -f "$WORK/port"

# 5. --accel kvm never falls back, whatever the verdict says.
echo abort >"$WORK/mode"
boot -- --accel kvm
check "kvm: qemu aborting exits 125" test "$rc" = 125
check "kvm: no TCG attempt" test "$(accels)" = kvm
check "kvm: the error names qemu's signal" contains "$WORK/err" "error: --accel kvm: qemu was killed by signal 6 (Aborted) under KVM"
echo hang >"$WORK/mode"
boot CORE_KVM_PROBE_SECONDS=2 -- --accel kvm
check "kvm: a hung guest exits 125" test "$rc" = 125
check "kvm: no TCG attempt after the hang" test "$(accels)" = kvm
check "kvm: the error names the bound" contains "$WORK/err" "error: --accel kvm: no sign of life in 2 s under KVM"
check "kvm: the hung QEMU is gone" test -s "$WORK/hung.pid" -a ! -e "/proc/$(cat "$WORK/hung.pid" 2>/dev/null || echo 0)"

# 6. A KVM that works (here: TCG standing in for it) passes the probe; a damaged verdict file
# is ignored, not fatal.
echo works >"$WORK/mode"
printf 'core kvm-verdict 1\nboot-id \0garbage' >"$verdict"
boot CORE_KVM_PROBE_SECONDS=120 -- 
guest_ok "works: a guest alive in time stays on KVM"
check "works: no TCG attempt" test "$(accels)" = kvm
check "works: corerun says KVM" test "$(said "booting with KVM")" = 1 -a "$(said "dropped")" = 0

# 7. No KVM device at all: straight to TCG, no probe (on a host with a usable /dev/kvm, a
# device path that does not exist stands in for it).
rm -f "$verdict"
# (Opened without O_CREAT: a shell's <> would create /dev/kvm where there is none.)
if python3 -c 'import os; os.close(os.open("/dev/kvm", os.O_RDWR))' 2>/dev/null; then
  name="a missing KVM device (CORE_KVM_DEVICE)" device=(CORE_KVM_DEVICE="$WORK/no-such-kvm")
else
  name="a host without /dev/kvm" device=()
fi
rm -f "$WORK/accel.log"
env -u CORE_KVM_DEVICE "${device[@]}" "$CORERUN" --qemu "$WORK/qemu" --volume-size 64M "$WORK/app.tim" </dev/null >"$WORK/out" 2>"$WORK/err"
rc=$?
guest_ok "$name: the guest runs"
check "$name: straight to TCG" test "$(accels)" = tcg
check "$name: corerun says why" contains "$WORK/err" "is not usable"
check "$name: nothing is remembered" test ! -e "$verdict"
finish
