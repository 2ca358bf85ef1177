# The app.yml language in a real guest: files, users, env, sysctl, hostname, tmpfs and volume
# mounts, onboot and onshutdown steps, services with restart policies and dependencies.
# e2e: guest behaviour (the sanitizer pass skips it: its host code runs in other files there)
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/app/rootfs/bin"
ln -s busybox "$WORK/app/rootfs/bin/sh"
echo "from a source file" >"$WORK/app/note.txt"
cat >"$WORK/app/app.yml" <<YAML
name: lang
kernel:
  source: $DEBS/linux-image-cloud-amd64.deb
  cmdline: quiet
rootfs:
  - source: $DEBS/busybox-static.deb
  - source: rootfs
files:
  - path: /etc/greeting
    contents: "hello from files\n"
  - path: /etc/note
    source: note.txt
    mode: "0600"
  - path: /srv
    directory: true
  - path: /usr/bin/bb
    symlink: /bin/busybox
users:
  - name: app
    uid: 1000
    gid: 1000
groups:
  - name: app
    gid: 1000
env:
  GREETING: hi-from-env
hostname: langhost
sysctl:
  net.ipv4.ip_forward: 1
mounts:
  - path: /scratch
    type: tmpfs
    size: 8M
  - path: /data
    type: volume
    volume: data
onboot:
  - name: first
    run: "echo first > /run/order"
  - name: second
    run: "echo second >> /run/order"
services:
  - name: base
    run: "echo base >> /run/services; sleep 600"
  - name: flaky
    run: "echo attempt >> /run/flaky; test \$(wc -l < /run/flaky) -ge 3 && sleep 600; exit 1"
    restart: on-failure
    depends_on: [base]
  - name: once
    run: "echo once >> /run/once; exit 1"
    restart: never
  - name: who
    run: "id -u > /tmp/who-uid; sleep 600"
    user: app
onshutdown:
  - name: bye
    run: "echo onshutdown-ran"
main:
  - /bin/sh
  - -c
  - |
    sleep 4
    check() { if eval "\$2"; then echo "PASS \$1"; else echo "FAIL \$1"; fi; }
    check files-contents 'grep -q "hello from files" /etc/greeting'
    check files-source 'grep -q "from a source file" /etc/note && [ "\$(stat -c %a /etc/note)" = 600 ]'
    check files-dir '[ -d /srv ]'
    check files-symlink '[ "\$(readlink /usr/bin/bb)" = /bin/busybox ]'
    check users 'grep -q "^app:x:1000:1000:" /etc/passwd && grep -q "^app:x:1000:" /etc/group'
    check env '[ "\$GREETING" = hi-from-env ]'
    check hostname '[ "\$(hostname)" = langhost ]'
    check sysctl '[ "\$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]'
    check tmpfs 'df -k /scratch | tail -1 | grep -q " 8192 "'
    check onboot-order '[ "\$(cat /run/order | tr "\n" " ")" = "first second " ]'
    check service-started 'grep -q base /run/services'
    check restart-on-failure '[ "\$(wc -l < /run/flaky)" -ge 3 ]'
    check restart-never '[ "\$(wc -l < /run/once)" = 1 ]'
    check service-user '[ "\$(cat /tmp/who-uid)" = 1000 ]'
    check volume-mounted 'grep -q " /data " /proc/mounts'
    if [ -f /data/boots ]; then echo "previous boots: \$(cat /data/boots)"; fi
    echo boot >> /data/boots
    exit 0
YAML
"$COREC" build "$WORK/app/app.yml" -o "$WORK/lang.tim" >/dev/null 2>"$WORK/err"
check "an app using every part of the language builds" test -s "$WORK/lang.tim" || cat "$WORK/err" >&2

"$CORERUN" -q --volume "data=$WORK/data.img" --volume-size 64M "$WORK/lang.tim" </dev/null >"$WORK/out1" 2>&1
rc=$?
check "it boots and exits 0" test "$rc" = 0
for name in files-contents files-source files-dir files-symlink users env hostname sysctl tmpfs onboot-order \
  service-started restart-on-failure restart-never service-user volume-mounted; do
  if grep -q "PASS $name" "$WORK/out1"; then ok "guest: $name"; else not_ok "guest: $name" "$(grep -E "(PASS|FAIL) $name|coreinit" "$WORK/out1" | head -5)"; fi
done
check "onshutdown steps run after main" contains "$WORK/out1" "onshutdown-ran"
check "the volume image was created" test -s "$WORK/data.img"

"$CORERUN" -q --volume "data=$WORK/data.img" "$WORK/lang.tim" </dev/null >"$WORK/out2" 2>&1
check "data written to a volume is there on the next boot" contains "$WORK/out2" "previous boots: boot"

"$CORERUN" -q "$WORK/lang.tim" </dev/null >"$WORK/out3" 2>"$WORK/err3"
check "an unbound volume still works for one run" grep -q "PASS volume-mounted" "$WORK/out3"
finish
