#!/bin/bash
# Checks that dependencies between the source folders run one way (DESIGN.md section 3):
#   runtime/ -> lib/;  linker/ -> compiler/ plan types -> lib/;  compiler/ -> lib/;  cmd/ -> anything;
#   container/ (libc only, built for coreinit with musl and for the host) -> itself; coreinit and
#   the rest of runtime/ may include its one public header.
# Every #include "..." is resolved the way the compiler resolves it (the including file's
# folder first, then the -iquote folders in the Makefile's order), so a bare "store.h" is judged
# by where store.h really lives. Prints TAP: one line per folder, the offending includes below.
set -u
cd "$(dirname "$0")/.."

# Same order as INCLUDES in the Makefile.
IQUOTE=(lib compiler linker runtime)

# The compiler headers the linker may use: the plan and the types it is made of, and the
# positioned errors that let late stages point back into app.yml.
LINKER_MAY_USE_COMPILER=(
  compiler/plan.h compiler/resolve.h compiler/layer_kind.h compiler/app_config.h compiler/diag.h
  # core_parse_size (sizes in app.yml) lives with the checker; link.c parses a size with it.
  compiler/check.h
)

# layer_of PATH: sets LAYER to the layer PATH belongs to: runtime/init/ (coreinit, a static
# musl binary) stands apart.
layer_of() {
  case $1 in
  runtime/init/*) LAYER=runtime/init ;;
  */*) LAYER=${1%%/*} ;;
  *) LAYER=. ;;
  esac
}

# allowed FROM_LAYER HEADER_PATH: whether FROM_LAYER may include HEADER_PATH.
allowed() {
  local to
  layer_of "$2"
  to=$LAYER
  [ "$to" = "$1" ] && return 0
  case $1 in
  lib) return 1 ;;
  # coreinit is built alone with musl: it may share only lib/'s header-only format files,
  # the one copy of the config keywords its parser and corec's writer agree on.
  runtime/init) [ "$2" = lib/initconf_keys.h ] || [ "$2" = container/container.h ] ;;
  container) return 1 ;;
  runtime) [ "$to" = lib ] || [ "$2" = container/container.h ] ;;
  compiler) [ "$to" = lib ] ;;
  linker)
    [ "$to" = lib ] && return 0
    local h
    for h in "${LINKER_MAY_USE_COMPILER[@]}"; do [ "$2" = "$h" ] && return 0; done
    return 1
    ;;
  cmd) return 0 ;;
  *) return 1 ;;
  esac
}

# normalise PATH: sets NORMALISED to PATH without '.' and 'dir/..' components (what realpath
# --relative-to=. gives for the files of this tree), in bash alone: a fork per include made
# this script take a minute.
normalise() {
  local -a parts out=()
  local part
  IFS=/ read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    case $part in
    '' | .) ;;
    ..) if [ ${#out[@]} -gt 0 ] && [ "${out[-1]}" != .. ]; then unset 'out[-1]'; else out+=(..); fi ;;
    *) out+=("$part") ;;
    esac
  done
  local IFS=/
  NORMALISED="${out[*]}"
}

# resolve FILE HEADER: sets RESOLVED to the path the header resolves to, or to nothing.
resolve() {
  local d
  RESOLVED=
  d=.
  [[ $1 == */* ]] && d=${1%/*}
  if [ -f "$d/$2" ]; then normalise "$d/$2"; RESOLVED=$NORMALISED; return; fi
  for d in "${IQUOTE[@]}"; do
    if [ -f "$d/$2" ]; then normalise "$d/$2"; RESOLVED=$NORMALISED; return; fi
  done
}

failed=0
n=0
for layer in lib compiler linker runtime runtime/init container cmd; do
  n=$((n + 1))
  bad=()
  while IFS= read -r file; do
    layer_of "$file"
    [ "$LAYER" = "$layer" ] || continue
    while IFS= read -r header; do
      resolve "$file" "$header"
      path=$RESOLVED
      if [ -z "$path" ]; then
        bad+=("$file: \"$header\" not found in its folder or ${IQUOTE[*]}")
      elif ! allowed "$layer" "$path"; then
        bad+=("$file: \"$header\" is $path, against the direction")
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
  done < <(find "$layer" -name '*.[chS]' | sort)
  if [ ${#bad[@]} -eq 0 ]; then
    echo "ok $n - $layer/ includes only what it may"
  else
    echo "not ok $n - $layer/ includes headers against the direction"
    printf '#   %s\n' "${bad[@]}"
    failed=$((failed + 1))
  fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
