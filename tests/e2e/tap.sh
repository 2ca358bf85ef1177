# TAP result lines for the end-to-end tests; lib.sh sources it, and so do the files that need
# no guest (they check only the built binaries or the spec).
n_failed=0
ok() { echo "ok - $1"; }
not_ok() {
  echo "not ok - $1"
  shift
  [ $# -gt 0 ] && printf '#   %s\n' "$@"
  n_failed=$((n_failed + 1))
}
# check NAME COMMAND...: passes when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
contains() { grep -qF -- "$2" "$1"; }
finish() { [ "$n_failed" -eq 0 ]; }
