#!/bin/bash
# Starts and stops a real OCI registry (Debian's docker-registry) on 127.0.0.1 for tests.
#   tests/registry.sh start STATE-DIR [USER PASSWORD]   prints the port; with a user, the
#                                                       registry requires basic auth (htpasswd, bcrypt)
#   tests/registry.sh stop STATE-DIR
# The registry lives at most 15 minutes even if nobody stops it: a crashed test leaks nothing for long.
set -eu
cmd=${1:?usage: registry.sh start|stop STATE-DIR [USER PASSWORD]}
dir=${2:?usage: registry.sh start|stop STATE-DIR [USER PASSWORD]}

stop() {
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "registry.sh: unknown command '$cmd'" >&2; exit 2; }
command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed (apt-get install docker-registry)" >&2; exit 1; }
mkdir -p "$dir/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
auth=""
if [ $# -ge 4 ]; then
  command -v htpasswd >/dev/null || { echo "registry.sh: htpasswd is missing (apt-get install apache2-utils)" >&2; exit 1; }
  htpasswd -Bbn "$3" "$4" >"$dir/htpasswd"
  auth="auth:
  htpasswd:
    realm: core-test
    path: $dir/htpasswd"
fi
cat >"$dir/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
CONF
timeout 900 docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
echo $! >"$dir/pid"
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
  if [ "$code" = 200 ] || [ "$code" = 401 ]; then
    echo "$port"
    exit 0
  fi
  kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
  sleep 0.1
done
echo "registry.sh: the registry did not come up on 127.0.0.1:$port; its log:" >&2
cat "$dir/log" >&2
stop
exit 1
