#!/bin/bash
# corerun stays small (DESIGN.md section 3): it links exactly libarchive, libcrypto, libjansson
# and libc, and carries none of corec's code: not the content store, not key generation or
# signing, not the zstd compressor. lib/ is an archive, so this holds as long as nothing corerun
# uses pulls those in; this file notices when something does.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$ROOT/${BUILD:-build}
CORERUN=$BUILD_DIR/corerun
[ -x "$CORERUN" ] || { echo "not ok - $CORERUN missing: run 'make all' first"; exit 1; }

. "$ROOT/tests/e2e/tap.sh"

# The libraries corerun may name, by soname without its version; the sanitizer build also
# needs the two sanitizers' runtimes.
want=(libarchive libcrypto libjansson libc)
[[ ${BUILD:-build} == *-san ]] && want+=(libasan libubsan)
mapfile -t needed < <(readelf -d "$CORERUN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
unexpected=()
for lib in "${needed[@]}"; do
  base=${lib%%.so*}
  [[ " ${want[*]} " == *" $base "* ]] || unexpected+=("$lib")
done
if [ ${#needed[@]} -gt 0 ] && [ ${#unexpected[@]} -eq 0 ]; then
  ok "corerun links only ${want[*]:0:4} (NEEDED: ${needed[*]})"
else
  not_ok "corerun links only libarchive, libcrypto, libjansson and libc" "NEEDED: ${needed[*]}" \
    "unexpected: ${unexpected[*]}"
fi
for lib in libarchive libcrypto libjansson libc; do
  if printf '%s\n' "${needed[@]}" | grep -q "^$lib\.so"; then ok "corerun links $lib"; else not_ok "corerun links $lib"; fi
done

# Defined and undefined symbols both count: a store function compiled in, or a call into
# libzstd, libyaml, libcurl or libgit2 left for the loader, would each be corec's code.
symbols=$(nm "$CORERUN" 2>/dev/null)
[ -n "$symbols" ] || not_ok "nm reads corerun's symbols" "corerun is stripped or nm failed"
forbidden=(
  'core_store_'                                     # the content store (compiler/store.c)
  'core_key_generate' 'core_key_load_private'       # the publisher's keys (linker/sign.c)
  'core_key_save_' 'core_key_sign' 'core_dsse_sign' # signing (linker/sign.c)
  'core_error_zstd' 'ZSTD_'                          # compression (linker/initramfs.c)
  'yaml_' 'curl_' 'git_'                             # the front end and the fetchers
)
for pat in "${forbidden[@]}"; do
  hits=$(grep -E "[[:space:]]$pat" <<<"$symbols" | awk '{print $NF}' | head -n 5)
  if [ -z "$hits" ]; then ok "corerun holds no $pat* symbol"; else not_ok "corerun holds no $pat* symbol" $hits; fi
done

# The checks above must be able to fail: corec, which does carry all of it, must trip them.
if nm "$BUILD_DIR/corec" 2>/dev/null | grep -qE '[[:space:]]core_store_open' &&
  readelf -d "$BUILD_DIR/corec" | grep -q 'libzstd'; then
  ok "the same checks find the store and libzstd in corec"
else
  not_ok "the same checks find the store and libzstd in corec"
fi
[ "$n_failed" -eq 0 ]
