# spec/app.schema.json against the language, with a JSON Schema validator from Debian
# (python3-jsonschema): every example and every fixture 'corec check' accepts must validate;
# every fixture it rejects for a schema reason must fail, at the place named below.
# Needs only corec (no guest, no packages), so it does not source lib.sh.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COREC=$ROOT/${BUILD:-build}/corec
SCHEMA=$ROOT/spec/app.schema.json
FIXTURES=$ROOT/tests/fixtures/check
[ -x "$COREC" ] || { echo "not ok - $COREC missing: run 'make all' first"; exit 1; }
# Debian's Python, where python3-jsonschema and python3-yaml install: a python3 earlier on PATH
# (pyenv, a venv) may have neither, or other versions.
PYTHON=/usr/bin/python3
"$PYTHON" -c 'import jsonschema, yaml' 2>/dev/null ||
  { echo "not ok - python3-jsonschema or python3-yaml missing: run 'make deps'"; exit 1; }

# Fixtures 'corec check' rejects, each with a place the schema must reject it at (a JSON
# pointer without its leading '/'; '' is the top level).
declare -A schema_reason=(
  [booleans]=files/0/optional          # 'yes' where a boolean is wanted
  [empty]=''                           # no mapping, so no required key
  [files_errors]=files/0/path          # a relative guest path
  [files_mode_uid]=files/0/mode        # an unquoted mode is an integer
  [include_errors]=include             # a string where a sequence is wanted
  [many_errors]=''                     # an unknown top-level key
  [mounts_errors]=mounts/2/path        # a relative mount path
  [network_errors]=network/ports/4     # a port out of range
  [network_mode]=network/mode          # not one of the modes
  [nothing_to_run]=''                  # neither main nor a service
  [resources_range]=resources/cpus     # over the maximum
  [services_depends]=services/4/depends_on # a dependency named twice
  [services_errors]=onboot/1/env       # a bad variable name
  [source_deb]=kernel/source           # an invalid package name
  [source_kinds]=kernel/source         # an unknown source kind
  [source_oci]=rootfs/0/source         # an invalid image reference
  [source_pins]=kernel/source          # a git source without a ref or commit
  [source_sha256]=kernel/source        # a malformed sha256
  [system_errors]=env                  # a bad variable name
  [unknown_keys]=''                    # misspelt keys
  [users_errors]=groups/0/members      # a member named twice
  [variables_errors]=variables/PORT    # 'env' must be a boolean
)
# Fixtures 'corec check' rejects for what a schema cannot say; the schema may accept them.
declare -A other_reason=(
  [files_duplicate]="two files entries with one path: a rule across items"
  [yaml_error]="not YAML at all: there is no document to validate"
)

. "$ROOT/tests/e2e/tap.sh"

results=$("$PYTHON" "$ROOT/tests/e2e/schema_check.py" "$SCHEMA" "$ROOT"/examples/*/app.yml "$FIXTURES"/*.yml) ||
  { echo "not ok - the validator failed"; exit 1; }
# The validator's line for one file.
result_of() { awk -v f="$1" '$2 == f' <<<"$results"; }

for app in "$ROOT"/examples/*/app.yml; do
  name=examples/$(basename "$(dirname "$app")")/app.yml
  r=$(result_of "$app")
  case $r in "valid $app") ok "$name validates" ;; *) not_ok "$name validates" "$r" ;; esac
done

for yml in "$FIXTURES"/*.yml; do
  f=$(basename "$yml" .yml)
  r=$(result_of "$yml")
  if (cd "$FIXTURES" && "$COREC" check "$f.yml" >/dev/null 2>&1); then
    case $r in "valid $yml") ok "fixture $f: accepted by corec check, validates" ;;
      *) not_ok "fixture $f: accepted by corec check, validates" "$r" ;; esac
  elif [ -n "${schema_reason[$f]+set}" ]; then
    if [[ $r == "invalid $yml "* && " ${r#"invalid $yml "}" == *" @${schema_reason[$f]} "* ]]; then
      ok "fixture $f: rejected by corec check, fails the schema at '${schema_reason[$f]}'"
    else
      not_ok "fixture $f: rejected by corec check, fails the schema at '${schema_reason[$f]}'" "${r:-no result}"
    fi
  elif [ -n "${other_reason[$f]+set}" ]; then
    ok "fixture $f: rejected by corec check for a non-schema reason (${other_reason[$f]})"
  else
    not_ok "fixture $f: rejected by corec check, but not listed here with a reason"
  fi
done

# A listed fixture that is gone or now accepted would make its line above vacuous.
for f in "${!schema_reason[@]}" "${!other_reason[@]}"; do
  [ -f "$FIXTURES/$f.yml" ] || not_ok "listed fixture $f.yml exists"
done

[ "$n_failed" -eq 0 ]
