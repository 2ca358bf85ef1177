#!/bin/bash
# Starts and stops a real OCI registry (Debian's docker-registry) on 127.0.0.1 for tests.
#   tests/registry.sh start STATE-DIR [USER PASSWORD]   prints the port; with a user, the
#                                                       registry requires basic auth (htpasswd, bcrypt)
#   tests/registry.sh start-token STATE-DIR [USER PASSWORD]
#                                                       prints the port of a registry that requires
#                                                       Bearer tokens (distribution's token auth) from
#                                                       tests/token_server.py, whose port is in
#                                                       STATE-DIR/token/token-port and its request log
#                                                       in STATE-DIR/token/token.log; with a user, the
#                                                       token server requires basic auth
#   tests/registry.sh stop STATE-DIR                    stops either kind
# The registry lives at most 15 minutes even if nobody stops it: a crashed test leaks nothing for long.
set -eu
cmd=${1:?usage: registry.sh start|start-token|stop STATE-DIR [USER PASSWORD]}
dir=${2:?usage: registry.sh start|start-token|stop STATE-DIR [USER PASSWORD]}

stop() {
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

# The token server of start-token: the same, for its own pid file.
stop_token() {
  [ -f "$dir/token/pid" ] || return 0
  tpid=$(cat "$dir/token/pid")
  kill "$tpid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$tpid" 2>/dev/null || true
  rm -f "$dir/token/pid"
}

if [ "$cmd" = stop ]; then
  stop
  stop_token
  exit 0
fi

# serve PORT AUTH-YAML LABEL: writes the config, starts the registry, prints PORT once /v2/
# answers (200, or 401 when AUTH-YAML asks for credentials); on failure shows its log.
serve() {
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
  addr: 127.0.0.1:$1
$2
CONF
  timeout 900 docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" || true)
    if [ "$code" = 401 ] || { [ "$code" = 200 ] && [ -z "$2" ]; }; then
      echo "$1"
      return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "registry.sh: the $3 did not come up on 127.0.0.1:$1; its log:" >&2
  cat "$dir/log" >&2
  stop
  return 1
}

if [ "$cmd" = start-token ]; then
  command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed (apt-get install docker-registry)" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "registry.sh: openssl is missing (apt-get install openssl)" >&2; exit 1; }
  here=$(cd "$(dirname "$0")" && pwd)
  mkdir -p "$dir/data" "$dir/token"
  rm -f "$dir/token/token-port"
  # The token server makes its key and certificate, then writes the port it listens on.
  if [ $# -ge 4 ]; then
    timeout 900 python3 "$here/token_server.py" "$dir/token" "$3" "$4" >"$dir/token/stderr" 2>&1 &
  else
    timeout 900 python3 "$here/token_server.py" "$dir/token" >"$dir/token/stderr" 2>&1 &
  fi
  echo $! >"$dir/token/pid"
  for _ in $(seq 100); do
    [ -s "$dir/token/token-port" ] && break
    kill -0 "$(cat "$dir/token/pid")" 2>/dev/null || break
    sleep 0.1
  done
  if ! [ -s "$dir/token/token-port" ]; then
    echo "registry.sh: the token server did not start; its output:" >&2
    cat "$dir/token/stderr" >&2
    stop_token
    exit 1
  fi
  tport=$(cat "$dir/token/token-port")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  serve "$port" "auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: core-test
    issuer: core-test-issuer
    rootcertbundle: $dir/token/token.crt" "token-auth registry" && exit 0
  stop_token
  exit 1
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
serve "$port" "$auth" registry
