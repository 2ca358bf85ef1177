# Every stdlib template's example builds (its Debian packages pulled through apt and pinned)
# and boots; the published ports of httpd and sshd answer from the host.
# e2e: guest behaviour (the sanitizer pass skips it: its host code runs in other files there)
. "$(dirname "$0")/lib.sh"

build_example() { # build_example NAME [corec flags...]
  local name=$1
  shift
  cp -r "$ROOT/examples/$name" "$WORK/$name"
  "$COREC" build --quiet "$@" "$WORK/$name/app.yml" -o "$WORK/$name.tim" >/dev/null 2>"$WORK/$name.err"
}

for example in kernel-cloud busybox console-shell httpd; do
  if build_example "$example"; then ok "example $example builds"; else not_ok "example $example builds" "$(tail -5 "$WORK/$example.err")"; continue; fi
  if [ "$example" = console-shell ]; then
    # A shell on the console, typed at through corerun's standard input once it is up: a shell
    # discards what was typed before its first prompt, so the line goes in when the prompt has
    # come out (a fixed wait was too short on a loaded host). Only running the line prints
    # "42-answered"; its echo shows the unexpanded text.
    rm -f "$WORK/console.in" && mkfifo "$WORK/console.in"
    "$CORERUN" -q "$WORK/$example.tim" <"$WORK/console.in" >"$WORK/$example.out" 2>&1 &
    vm=$!
    exec 3>"$WORK/console.in"
    for _ in $(seq 480); do
      contains "$WORK/$example.out" "console-shell# " || ! kill -0 "$vm" 2>/dev/null && break
      sleep 0.5
    done
    (printf 'echo $((6 * 7))-answered\nexit 0\n' >&3) 2>/dev/null
    exec 3>&-
    wait "$vm"
  else
    "$CORERUN" -q "$WORK/$example.tim" </dev/null >"$WORK/$example.out" 2>&1
  fi
  rc=$?
  if [ "$rc" = 0 ]; then ok "example $example boots and exits 0"; else not_ok "example $example boots and exits 0" "exit $rc" "$(tail -8 "$WORK/$example.out")"; fi
done
check "the busybox template provides a passwd with root" contains "$WORK/busybox.out" "busybox ok"
check "the console shell runs what is typed at it" contains "$WORK/console-shell.out" "42-answered"

# httpd from the host, through the published port.
host_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CORERUN" -q -p "$host_port:80" "$WORK/httpd.tim" -- sh -c 'sleep 30' </dev/null >"$WORK/httpd-bg.out" 2>&1 &
vm=$!
got=""
for _ in $(seq 60); do
  got=$(curl -s --max-time 2 "http://127.0.0.1:$host_port/" || true)
  [ -n "$got" ] && break
  sleep 0.5
done
kill "$vm" 2>/dev/null
wait "$vm" 2>/dev/null
case "$got" in *"Hello from a core appliance"*) ok "httpd answers on the published host port" ;; *) not_ok "httpd answers on the published host port" "got: $got" "$(tail -5 "$WORK/httpd-bg.out")" ;; esac

# sshd: log in from the host with a key baked in at build time.
ssh-keygen -q -t ed25519 -N "" -f "$WORK/id" >/dev/null
if SSH_AUTHORIZED_KEY="$(cat "$WORK/id.pub")" build_example sshd --var SSHD_UPTIME=40; then
  ok "example sshd builds"
  ssh_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$CORERUN" -q -p "$ssh_port:22" "$WORK/sshd.tim" </dev/null >"$WORK/sshd.out" 2>&1 &
  vm=$!
  answer=""
  for _ in $(seq 40); do
    answer=$(ssh -i "$WORK/id" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=3 -o BatchMode=yes root@127.0.0.1 'echo logged-in-as-$(id -u)' 2>/dev/null || true)
    [ -n "$answer" ] && break
    sleep 1
  done
  kill "$vm" 2>/dev/null
  wait "$vm" 2>/dev/null
  if [ "$answer" = "logged-in-as-0" ]; then ok "ssh logs in to the sshd example"; else not_ok "ssh logs in to the sshd example" "got: $answer" "$(tail -8 "$WORK/sshd.out")"; fi
else
  not_ok "example sshd builds" "$(tail -5 "$WORK/sshd.err")"
fi
finish
