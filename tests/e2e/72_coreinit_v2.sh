# coreinit on its own, booted under QEMU from a hand-made initramfs (no corec, no corerun):
# onboot steps, services and their restart policies, depends-on, users, sysctl, tmpfs and
# volume mounts, networking, services-only mode stopped by kill -TERM 1, the power button
# and Ctrl-Alt-Del, onshutdown steps, clean volumes, and the failures that end in 125.
# BOOTS="1 3" runs only those boots (each takes a few seconds under TCG); KEEP=1 keeps the
# work directory with every boot's console.
# e2e: guest behaviour (the sanitizer pass skips it: its host code runs in other files there)
. "$(dirname "$0")/lib.sh"
cleanup() {
  # A boot that did not end (a failed wait) must not outlive the test.
  for p in "$WORK"/boot*/pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
  if [ -n "${KEEP:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
BOOTS=${BOOTS:-1 2 3 4 5 6 7}
command -v dumpe2fs >/dev/null && command -v mkfs.ext4 >/dev/null ||
  { echo "not ok - mkfs.ext4 and dumpe2fs (e2fsprogs) are needed"; exit 1; }
COREINIT=$BUILD_DIR/coreinit
[ -x "$COREINIT" ] || { echo "not ok - $COREINIT missing: run 'make all'"; exit 1; }

dpkg-deb -x "$DEBS/linux-image-cloud-amd64.deb" "$WORK/kernel"
dpkg-deb -x "$DEBS/busybox-static.deb" "$WORK/busybox"
VMLINUZ=$(ls "$WORK"/kernel/boot/vmlinuz-*)
KMOD=$(ls -d "$WORK"/kernel/lib/modules/*)
# Dependencies first (their .modinfo "depends=" lines); button and evdev for the power button.
MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover
  drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk drivers/acpi/button
  drivers/input/evdev"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The root every boot shares; each boot adds its etc/core/init.conf and run.conf.
BASE=$WORK/base
mkdir -p "$BASE"/{bin,etc/core,lib/modules,www/cgi-bin}
cp "$COREINIT" "$BASE/init"
cp "$WORK/busybox/bin/busybox" "$BASE/bin/busybox"
ln -s busybox "$BASE/bin/sh"
for m in $MODULES; do cp "$KMOD/kernel/$m.ko" "$BASE/lib/modules/"; done
printf 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:web:/home/www:/bin/sh\n' >"$BASE/etc/passwd"
printf 'root:x:0:\nstaff:x:50:root,www\nwww:x:1000:\nweb:x:60:www\n' >"$BASE/etc/group"
echo "hello from coreinit v2" >"$BASE/www/index.html"
printf '#!/bin/sh\ntouch /tmp/done\nprintf "Content-Type: text/plain\\r\\n\\r\\ndone\\n"\n' >"$BASE/www/cgi-bin/done"
chmod 755 "$BASE/www/cgi-bin/done"
# A second root, as an image would bring, with users of its own.
mkdir -p "$BASE"/containers/alt/{bin,etc,app}
cp "$WORK/busybox/bin/busybox" "$BASE/containers/alt/bin/busybox"
ln -s busybox "$BASE/containers/alt/bin/sh"
printf 'root:x:0:0::/root:/bin/sh\napp:x:2000:2000::/app:/bin/sh\n' >"$BASE/containers/alt/etc/passwd"
echo inside-alt >"$BASE/containers/alt/marker"

module_lines() { for m in $MODULES; do echo "module /lib/modules/${m##*/}.ko"; done; }

# pack DIR OUT: a newc archive with /dev/console added (mknod would need root).
pack() {
  python3 - "$1" "$2" <<'PY'
import os, stat, sys
root, out = sys.argv[1], open(sys.argv[2], "wb")
ino = 0
def entry(name, mode, data=b"", rdev=(0, 0)):
    global ino
    ino += 1
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    hdr = b"070701" + "".join("%08X" % f for f in fields).encode() + name.encode() + b"\0"
    out.write(hdr + b"\0" * (-len(hdr) % 4) + data + b"\0" * (-len(data) % 4))
entry("dev", stat.S_IFDIR | 0o755)
entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs) + sorted(files):
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            entry(rel, st.st_mode, os.readlink(p).encode())
        elif stat.S_ISDIR(st.st_mode):
            entry(rel, st.st_mode)
        else:
            entry(rel, st.st_mode, open(p, "rb").read())
entry("TRAILER!!!", 0)
PY
}

# boot N INIT_CONF RUN_CONF [DISK]: packs and starts QEMU in the background; its console
# goes to $WORK/bootN/console, the status device to $WORK/bootN/status, the monitor to a
# socket. wait_boot N then gives QEMU's exit code in $rc.
boot() {
  local n=$1 dir=$WORK/boot$1 disk=${4:-}
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -a "$BASE" "$dir/root"
  printf '%s\n' "$2" >"$dir/root/etc/core/init.conf"
  [ -n "$3" ] && printf '%s\n' "$3" >"$dir/root/etc/core/run.conf"
  pack "$dir/root" "$dir/initrd"
  local drive=()
  [ -n "$disk" ] && drive=(-drive "file=$disk,format=raw,if=virtio")
  timeout "${CORE_TEST_BOOT_TIMEOUT:-240}" qemu-system-x86_64 -M q35 -m 256 -nodefaults -no-user-config -display none -no-reboot \
    -accel tcg -chardev "file,id=con,path=$dir/console" -serial chardev:con \
    -chardev "file,id=st,path=$dir/status" -serial chardev:st \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -monitor "unix:$dir/mon,server,nowait" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:80" -device virtio-net-pci,netdev=n0 \
    "${drive[@]}" -kernel "$VMLINUZ" -initrd "$dir/initrd" -append "console=ttyS0 panic=-1 quiet" \
    </dev/null >"$dir/qemu.out" 2>&1 &
  echo $! >"$dir/pid"
}
wait_boot() {
  wait "$(cat "$WORK/boot$1/pid")"
  rc=$?
  rm -f "$WORK/boot$1/pid" # it is gone: cleanup must not kill whoever gets its number
}
# wait_for N TEXT: until the console of boot N shows TEXT (up to 240 s). This bound and QEMU's
# (CORE_TEST_BOOT_TIMEOUT, as for every boot) only end a hung boot; the suite runs two test files
# at a time, and a loaded host must not turn a slow boot into a failure.
wait_for() {
  for _ in $(seq 2400); do
    grep -qF -- "$2" "$WORK/boot$1/console" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
monitor() {
  python3 - "$WORK/boot$1/mon" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.3)
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.5)
PY
}
con() { echo "$WORK/boot$1/console"; }
# in_order FILE A B: A appears on a line before B.
in_order() {
  local a b
  a=$(grep -nF -- "$2" "$1" | head -1 | cut -d: -f1)
  b=$(grep -nF -- "$3" "$1" | head -1 | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
volume_clean() { dumpe2fs -h "$1" 2>/dev/null | grep -qE '^Filesystem state: +clean$'; }

VOL=$WORK/vol.img
truncate -s 64M "$VOL" && mkfs.ext4 -q -F "$VOL"

SERVICE_LOOP='trap "echo svc-got-term; exit 0" TERM; echo svc-up; while :; do sleep 1; done'

# ---- boot 1: everything with a main command ------------------------------------------------
if [[ " $BOOTS " == *" 1 "* ]]; then
  boot 1 "version 1
hostname v2test
env GLOBAL=g
env SHARED=global
sysctl net.ipv4.ip_forward=1
sysctl net.ipv4.ip_unprivileged_port_start=80
$(module_lines)
mount /var/lib/app
  type tmpfs
  size 8388608
  mode 0700
mount /data
  type volume
  volume data
onboot first
  arg /bin/sh
  arg -c
  arg echo \"step first SHARED=\$SHARED\"; echo 1 >/run/order
onboot jailed-step
  arg /bin/sh
  arg -c
  arg echo \"jailed-step marker=\$(cat /marker)\"
  root /containers/alt
onboot second
  arg /bin/sh
  arg -c
  arg echo \"step second order=\$(cat /run/order) SHARED=\$SHARED\"; n=\$(cat /data/count 2>/dev/null || echo 0); echo \$((n + 1)) >/data/count
  env SHARED=step
service late
  arg /bin/sh
  arg -c
  arg echo \$\$ >/run/late.pid; exec sleep 1000
  depends-on early
service early
  arg /bin/sh
  arg -c
  arg echo \$\$ >/run/early.pid; exec sleep 1000
service web
  arg /bin/busybox
  arg httpd
  arg -f
  arg -p
  arg 80
  arg -h
  arg /www
  user www
service whoami
  arg /bin/sh
  arg -c
  arg echo \"whoami uid=\$(id -u) gid=\$(id -g) groups=\$(id -G) home=\$HOME pwd=\$(pwd)\"
  user www
  cwd /www
  restart never
service flaky
  arg /bin/sh
  arg -c
  arg exit 1
  restart on-failure
service once
  arg /bin/sh
  arg -c
  arg exit 1
  restart never
service done-ok
  arg /bin/sh
  arg -c
  arg exit 0
  restart on-failure
service again
  arg /bin/sh
  arg -c
  arg exit 0
service jailed
  arg /bin/sh
  arg -c
  arg echo \"jailed uid=\$(id -u) home=\$HOME marker=\$(cat /marker) proc=\$(cat /proc/1/comm) null=\$(test -c /dev/null && echo yes) resolv=\$(cat /etc/resolv.conf)\"
  root /containers/alt
  user app
  restart never
service missing
  arg /no/such/program
  restart never
service numeric
  arg /bin/sh
  arg -c
  arg echo \"numeric uid=\$(id -u) gid=\$(id -g) home=\$HOME\"
  user 1234:4321
  restart never
onshutdown mark
  arg /bin/sh
  arg -c
  arg echo onshutdown-ran; echo yes >/data/shutdown-mark
arg /bin/sh
arg -c
arg for i in \$(seq 300); do [ -e /tmp/done ] && break; sleep 0.1; done; echo \"check ip_forward=\$(cat /proc/sys/net/ipv4/ip_forward) hostname=\$(hostname)\"; echo \"check tmpfs \$(stat -c %a /var/lib/app) \$(df -k /var/lib/app | tail -1)\"; echo \"check data=\$(cat /data/count) mark=\$(cat /data/shutdown-mark 2>/dev/null || echo none)\"; echo \"check pids \$(cat /run/early.pid) \$(cat /run/late.pid)\"; echo \"check resolv=\$(cat /etc/resolv.conf)\"; echo \"check env GLOBAL=\$GLOBAL SHARED=\$SHARED\"; exit 42" \
    "version 1
status-device /dev/ttyS1
interface eth0
  address 10.0.2.15/24
  gateway 10.0.2.2
  dns 10.0.2.3
volume data /dev/vda
future-thing x
  with a block" "$VOL"
  served=
  for _ in $(seq 300); do
    served=$(curl -s --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null) && [ -n "$served" ] && break
    sleep 0.2
  done
  curl -s --max-time 5 "http://127.0.0.1:$PORT/cgi-bin/done" >/dev/null
  wait_boot 1
  c=$(con 1)
  check "boot 1: main's status 42 reaches QEMU (85)" test "$rc" = 85
  check "boot 1: and the status device" grep -qx "exit-status 42" "$WORK/boot1/status"
  check "boot 1: the console reports it" contains "$c" "coreinit: main command exited with status 42"
  check "boot 1: a busybox httpd service answers from the host" test "$served" = "hello from coreinit v2"
  check "boot 1: an unknown run.conf directive is a warning" contains "$c" "coreinit: warning: /etc/core/run.conf:8: unknown directive 'future-thing' skipped"
  check "boot 1: onboot steps run in order" in_order "$c" "step first SHARED=global" "step second order=1 SHARED=step"
  check "boot 1: an onboot step in its own root" in_order "$c" "jailed-step marker=inside-alt" "step second"
  check "boot 1: a service in its own root, with that root's users, /proc, /dev and resolv.conf" \
    contains "$c" "jailed uid=2000 home=/app marker=inside-alt proc=init null=yes resolv=nameserver 10.0.2.3"
  check "boot 1: a service that cannot start says why" contains "$c" "coreinit: service 'missing': cannot run '/no/such/program': No such file or directory"
  check "boot 1: and exits 127" contains "$c" "coreinit: service 'missing' exited with status 127; not restarting (restart never)"
  check "boot 1: sysctl applied, hostname set" contains "$c" "check ip_forward=1 hostname=v2test"
  check "boot 1: tmpfs has its mode and size (8 MiB)" grep -qE "check tmpfs 700 tmpfs +8192 " "$c"
  check "boot 1: the volume is mounted and written" contains "$c" "check data=1 mark=none"
  check "boot 1: resolv.conf from the interface" contains "$c" "check resolv=nameserver 10.0.2.3"
  check "boot 1: main gets the global env" contains "$c" "check env GLOBAL=g SHARED=global"
  pids=$(grep -oE "check pids [0-9]+ [0-9]+" "$c")
  set -- $pids
  check "boot 1: depends-on starts 'late' after 'early'" test "${3:-0}" -lt "${4:-0}"
  check "boot 1: user www: uid, gid, groups from /etc/group, HOME from passwd, cwd" \
    contains "$c" "whoami uid=1000 gid=1000 groups=1000 50 60 home=/home/www pwd=/www"
  check "boot 1: a numeric UID:GID without a passwd line" contains "$c" "numeric uid=1234 gid=4321 home=/"
  check "boot 1: on-failure restarts with backoff" contains "$c" "coreinit: service 'flaky' exited with status 1; restarting in 100 ms"
  check "boot 1: the backoff doubles" contains "$c" "coreinit: service 'flaky' exited with status 1; restarting in 400 ms"
  check "boot 1: never leaves it dead" contains "$c" "coreinit: service 'once' exited with status 1; not restarting (restart never)"
  check "boot 1: on-failure leaves a clean exit alone" contains "$c" "coreinit: service 'done-ok' exited with status 0; not restarting (restart on-failure)"
  check "boot 1: always restarts a clean exit" contains "$c" "coreinit: service 'again' exited with status 0; restarting in 200 ms"
  check "boot 1: onshutdown steps run after main" in_order "$c" "check env" "onshutdown-ran"
  check "boot 1: the volume is clean after the VM stopped" volume_clean "$VOL"
fi

# ---- boot 2: services only, stopped by kill -TERM 1 from an onboot step's background job -----
if [[ " $BOOTS " == *" 2 "* ]]; then
  boot 2 "version 1
$(module_lines)
mount /data
  type volume
  volume data
onboot count
  arg /bin/sh
  arg -c
  arg echo \"count=\$(cat /data/count 2>/dev/null) mark=\$(cat /data/shutdown-mark 2>/dev/null)\"; (sleep 3; kill -TERM 1) &
service loop
  arg /bin/sh
  arg -c
  arg $SERVICE_LOOP
onshutdown bye
  arg /bin/sh
  arg -c
  arg echo onshutdown-ran-2" "version 1
status-device /dev/ttyS1
volume data /dev/vda" "$VOL"
  wait_boot 2
  c=$(con 2)
  check "boot 2: data written in boot 1 is there (and its onshutdown step's)" contains "$c" "count=1 mark=yes"
  check "boot 2: services only: kill -TERM 1 shuts down with status 0" test "$rc" = 1
  check "boot 2: the status device says 0" grep -qx "exit-status 0" "$WORK/boot2/status"
  check "boot 2: the console names the signal" contains "$c" "coreinit: shut down on signal 15 (SIGTERM) with status 0"
  check "boot 2: the service got SIGTERM before onshutdown" in_order "$c" "svc-got-term" "onshutdown-ran-2"
  check "boot 2: the volume is clean" volume_clean "$VOL"
fi

SERVICES_ONLY="version 1
$(module_lines)
service loop
  arg /bin/sh
  arg -c
  arg $SERVICE_LOOP
onshutdown bye
  arg /bin/sh
  arg -c
  arg echo onshutdown-ran"

# ---- boot 3: services only, QEMU's system_powerdown (the ACPI power button) -----------------
if [[ " $BOOTS " == *" 3 "* ]]; then
  boot 3 "$SERVICES_ONLY" ""
  wait_for 3 svc-up && monitor 3 system_powerdown
  wait_boot 3
  c=$(con 3)
  check "boot 3: the power button shuts down with status 0" test "$rc" = 1
  check "boot 3: as SIGPWR" contains "$c" "coreinit: shut down on signal 30 (SIGPWR, the power button) with status 0"
  check "boot 3: onshutdown ran" contains "$c" "onshutdown-ran"
fi

# ---- boot 4: services only, Ctrl-Alt-Del --------------------------------------------------------
if [[ " $BOOTS " == *" 4 "* ]]; then
  boot 4 "$SERVICES_ONLY" ""
  wait_for 4 svc-up && monitor 4 "sendkey ctrl-alt-delete"
  wait_boot 4
  c=$(con 4)
  check "boot 4: Ctrl-Alt-Del shuts down with status 0 instead of rebooting" test "$rc" = 1
  check "boot 4: as SIGINT" contains "$c" "coreinit: shut down on signal 2 (SIGINT, Ctrl-Alt-Del) with status 0"
fi

# ---- boot 5: a failing onboot step ------------------------------------------------------------
if [[ " $BOOTS " == *" 5 "* ]]; then
  boot 5 "version 1
onboot ok
  arg /bin/sh
  arg -c
  arg echo step-ok
onboot broken
  arg /bin/sh
  arg -c
  arg exit 3
onboot never-reached
  arg /bin/sh
  arg -c
  arg echo never-reached
service s
  arg /bin/sh
  arg -c
  arg echo service-started
onshutdown bye
  arg /bin/sh
  arg -c
  arg echo onshutdown-ran
arg /bin/sh
arg -c
arg echo main-started" ""
  wait_boot 5
  c=$(con 5)
  check "boot 5: a failed onboot step gives 125" test "$rc" = $(((125 << 1) | 1))
  check "boot 5: the console says which and why" contains "$c" "coreinit: onboot step 'broken' failed with status 3"
  check "boot 5: later steps, services, main and onshutdown do not run" \
    sh -c "! grep -qE 'never-reached|service-started|main-started|onshutdown-ran' '$c'"
fi

# ---- boot 6: a volume whose disk has no file system ------------------------------------------
if [[ " $BOOTS " == *" 6 "* ]]; then
  truncate -s 16M "$WORK/blank.img"
  boot 6 "version 1
$(module_lines)
mount /data
  type volume
  volume data
arg /bin/true" "version 1
volume data /dev/vda" "$WORK/blank.img"
  wait_boot 6
  c=$(con 6)
  check "boot 6: a blank disk gives 125" test "$rc" = $(((125 << 1) | 1))
  check "boot 6: with a message for the launcher" contains "$c" "coreinit: volume 'data': disk '/dev/vda' has no ext4 file system (the launcher must provide a formatted disk"
fi
# ---- boot 7: the files of before blocks existed, as older corec and corerun wrote them ----
if [[ " $BOOTS " == *" 7 "* ]]; then
  boot 7 "version 1
hostname testapp
arg /bin/sh
arg -c
arg exit 7" "version 1
status-device /dev/ttyS1
arg sh
arg -c
arg echo \"v1 override \$(hostname)\"; exit 9"
  wait_boot 7
  c=$(con 7)
  check "boot 7: run.conf's args replace the main command" contains "$c" "v1 override testapp"
  check "boot 7: its status comes through" grep -qx "exit-status 9" "$WORK/boot7/status"
  check "boot 7: no warnings" sh -c "! grep -q warning '$c'"
fi
finish
