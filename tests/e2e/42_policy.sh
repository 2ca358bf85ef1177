# The trust policy (spec/trust.md): every signature is checked, N of M named keys by artifact name,
# rollback protection recorded only by a boot, and a malformed policy refuses everything.
. "$(dirname "$0")/lib.sh"
qemu=$(fake_qemu)

tim=$(hello_tim) || { not_ok "build hello" "$(cat "$WORK/hello.build.err")"; exit 1; }
release_key=$CORE_HOME/keys/default.key
release_id=$(openssl pkey -pubin -in "$CORE_HOME/keys/default.pub" -outform DER | sha256sum | cut -c1-64)
"$COREC" keygen "$WORK/qa" >"$WORK/qa.id" 2>/dev/null
"$COREC" keygen "$WORK/stranger" >/dev/null 2>&1
cp "$WORK/qa.pub" "$CORE_HOME/trust.d/qa.pub"

# A second signature, made by OpenSSL over the DSSE PAE, beside corec's own.
$TIMTOOL add-sig "$tim" "$WORK/qa.key" "$WORK/two.tim"
$TIMTOOL add-sig "$tim" "$WORK/stranger.key" "$WORK/stranger.tim"

# No policy: today's rules, with every signature checked.
"$CORERUN" verify "$WORK/two.tim" >/dev/null 2>"$WORK/err"
check "without a policy, a doubly signed artifact verifies" test $? = 0
check "... and both signers are named" \
  contains "$WORK/err" "signed by key ${release_id:0:16} ($CORE_HOME/trust.d/"
check "... the second too" contains "$WORK/err" "key $(head -c 16 "$WORK/qa.id") ($CORE_HOME/trust.d/qa.pub)"
"$CORERUN" verify "$WORK/stranger.tim" >/dev/null 2>"$WORK/err"
check "a signature by an untrusted key beside a trusted one is ignored" test $? = 0
$TIMTOOL forge-sig "$WORK/two.tim" "$WORK/forged.tim"
"$CORERUN" verify "$WORK/forged.tim" >/dev/null 2>"$WORK/err"
check "one altered signature refuses the artifact though another verifies" test $? = 125
check "... saying which key it claims" contains "$WORK/err" "its signature names trusted key ${release_id:0:16}"

# 2 of 2. The qa key is given as a file beside the policy, release by its id.
cat >"$WORK/two-of-two.json" <<EOF
{"version": 1, "keys": {"release": "$release_id", "qa": "qa.pub"},
 "rules": [{"names": ["hel*"], "require": 2, "of": ["release", "qa"]}]}
EOF
"$CORERUN" verify --policy "$WORK/two-of-two.json" "$WORK/two.tim" >/dev/null 2>"$WORK/err"
check "2 of 2 passes with both signatures" test $? = 0
check "... and verify says the policy admits it" contains "$WORK/err" "the policy admits it"
"$CORERUN" verify --policy "$WORK/two-of-two.json" "$tim" >/dev/null 2>"$WORK/err"
check "2 of 2 refuses one signature with 125" test $? = 125
check "the refusal names the rule, the keys and who signed" \
  contains "$WORK/err" "policy rule 1 (names hel*) requires 2 of release, qa; signed by: release (policy '$WORK/two-of-two.json')"
"$CORERUN" --qemu "$qemu" --policy "$WORK/two-of-two.json" "$tim" >/dev/null 2>"$WORK/err"
check "a run is refused the same way" test $? = 125
check "qemu was not started" test ! -e "$WORK/qemu-was-started"
cp "$WORK/two-of-two.json" "$CORE_HOME/policy.json"
cp "$WORK/qa.pub" "$CORE_HOME/qa.pub" # the policy's relative key file, beside it
"$CORERUN" verify "$tim" >/dev/null 2>"$WORK/err"
check "\$CORE_HOME/policy.json applies without --policy" contains "$WORK/err" "policy '$CORE_HOME/policy.json'"
rm "$CORE_HOME/policy.json"

# A key restricted by name: qa counts for web-* only, release for everything else.
$TIMTOOL set-version "$tim" 1.0.0 "$WORK/qa.key" "$WORK/qa-only.tim"
cat >"$WORK/by-name.json" <<EOF
{"version": 1, "keys": {"release": "$release_id", "qa": "$(cat "$WORK/qa.id")"},
 "rules": [{"names": ["web-*"], "require": 1, "of": ["qa"]},
           {"names": ["*"], "require": 1, "of": ["release"]}]}
EOF
"$CORERUN" verify --policy "$WORK/by-name.json" "$WORK/qa-only.tim" >/dev/null 2>"$WORK/err"
check "a key restricted to web-* does not admit hello" test $? = 125
check "... the catch-all rule refuses it, by number" \
  contains "$WORK/err" "policy rule 2 (names *) requires 1 of release; signed by: qa"
"$CORERUN" verify --policy "$WORK/by-name.json" "$tim" >/dev/null 2>"$WORK/err"
check "release still admits hello under the same policy" test $? = 0
cat >"$WORK/web-only.json" <<EOF
{"version": 1, "keys": {"qa": "$(cat "$WORK/qa.id")"}, "rules": [{"names": ["web-*"], "require": 1, "of": ["qa"]}]}
EOF
"$CORERUN" verify --policy "$WORK/web-only.json" "$WORK/qa-only.tim" >/dev/null 2>"$WORK/err"
check "a name no rule matches is refused" test $? = 125
check "... saying so" contains "$WORK/err" "no rule of policy '$WORK/web-only.json' names 'hello' (its rules name: web-*)"

# Malformed policies refuse everything, with the file and the fault.
printf '{"version": 1, "rules": [{"names": ["*"], "require": 1, "of": ["release"]}]}' >"$WORK/bad-key.json"
"$CORERUN" verify --policy "$WORK/bad-key.json" "$tim" >/dev/null 2>"$WORK/err"
check "a rule naming an unknown key is refused with 125" test $? = 125
check "... naming the file and the fault" \
  contains "$WORK/err" "policy '$WORK/bad-key.json': rules[0].of[0]: no key named 'release' in 'keys'"
printf '{"version": 1, "rollbak": true, "rules": []}' >"$CORE_HOME/policy.json"
rm -f "$WORK/qemu-was-started"
"$CORERUN" --qemu "$qemu" "$tim" >/dev/null 2>"$WORK/err"
check "a malformed \$CORE_HOME/policy.json refuses the run with 125" test $? = 125
check "... naming the unknown field" contains "$WORK/err" "policy '$CORE_HOME/policy.json': the policy: unknown field 'rollbak'"
check "... before qemu starts" test ! -e "$WORK/qemu-was-started"
printf '{"version": 1,' >"$CORE_HOME/policy.json"
"$CORERUN" verify "$tim" >/dev/null 2>"$WORK/err"
check "a policy that is not JSON refuses with 125" test $? = 125
check "... with the line" contains "$WORK/err" "policy '$CORE_HOME/policy.json': invalid JSON at line 1"
rm "$CORE_HOME/policy.json"
"$CORERUN" verify --policy "$WORK/missing.json" "$tim" >/dev/null 2>"$WORK/err"
check "a --policy file that does not exist refuses" test $? = 125

# Rollback: versions in the signed manifest; only a boot records one.
$TIMTOOL set-version "$tim" 1.4.0 "$release_key" "$WORK/v1.4.0.tim"
$TIMTOOL set-version "$tim" 1.3.9 "$release_key" "$WORK/v1.3.9.tim"
cat >"$WORK/rollback.json" <<EOF
{"version": 1, "keys": {"release": "$release_id"},
 "rules": [{"names": ["*"], "require": 1, "of": ["release"]}], "rollback": true}
EOF
state=$CORE_HOME/rollback.json
"$CORERUN" verify --policy "$WORK/rollback.json" "$WORK/v1.4.0.tim" >/dev/null 2>"$WORK/err"
check "a versioned artifact passes a rollback policy" test $? = 0
check "verify records no rollback state" test ! -e "$state"
"$CORERUN" verify --policy "$WORK/rollback.json" "$tim" >/dev/null 2>"$WORK/err"
check "an artifact without a version is refused when rollback is on" test $? = 125
check "... saying which annotation it lacks" \
  contains "$WORK/err" "rollback: 'hello' has no version, and the policy turns rollback protection on"

# corec records app.yml's version in the signed manifest: such a build passes the same policy.
cp -r "$ROOT/examples/hello" "$WORK/versioned" && ln -sfn "$DEBS" "$WORK/debs"
printf 'version: "2.0.1"\n' >>"$WORK/versioned/app.yml"
"$COREC" build --sign-key "$release_key" "$WORK/versioned/app.yml" -o "$WORK/versioned.tim" >/dev/null 2>"$WORK/err"
check "corec writes app.yml's version as org.opencontainers.image.version" python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1]); f = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
b = lambda d: json.loads(f["blobs/sha256/" + d[7:]])
top = b(json.loads(f["index.json"])["manifests"][0]["digest"])
app = [m for m in top["manifests"] if m.get("artifactType") == "application/vnd.core.tim.v1"][0]
sys.exit(b(app["digest"])["annotations"].get("org.opencontainers.image.version") != "2.0.1")' "$WORK/versioned.tim"
"$CORERUN" verify --policy "$WORK/rollback.json" "$WORK/versioned.tim" >/dev/null 2>"$WORK/err"
check "a build with a version: passes the rollback policy" test $? = 0

# The one real boot of this file: 1.4.0 boots and is recorded.
"$CORERUN" --policy "$WORK/rollback.json" "$WORK/v1.4.0.tim" >"$WORK/out" 2>"$WORK/err"
check "1.4.0 boots under the rollback policy" test $? = 0
check "... and the guest ran" contains "$WORK/out" "Hello from core!"
digest140=$("$CORERUN" verify "$WORK/v1.4.0.tim" 2>/dev/null)
check "the boot recorded hello at 1.4.0 with its digest" python3 -c '
import json, sys
app = json.load(open(sys.argv[1]))["apps"]["hello"]
sys.exit(0 if app == {"version": "1.4.0", "digest": sys.argv[2]} else 1)' "$state" "$digest140"

"$CORERUN" verify --policy "$WORK/rollback.json" "$WORK/v1.3.9.tim" >/dev/null 2>"$WORK/err"
check "1.3.9 after 1.4.0 is refused with 125" test $? = 125
check "the refusal gives both versions and the digest booted" \
  contains "$WORK/err" "rollback: hello is at 1.4.0 here ($digest140), this artifact is 1.3.9"
rm -f "$WORK/qemu-was-started"
"$CORERUN" --qemu "$qemu" --policy "$WORK/rollback.json" "$WORK/v1.3.9.tim" >/dev/null 2>"$WORK/err"
check "a run of 1.3.9 is refused too" test $? = 125
check "... before qemu starts" test ! -e "$WORK/qemu-was-started"
"$CORERUN" verify --policy "$WORK/rollback.json" "$WORK/v1.4.0.tim" >/dev/null 2>"$WORK/err"
check "the same version again passes" test $? = 0
"$CORERUN" verify "$WORK/v1.3.9.tim" >/dev/null 2>"$WORK/err"
check "without the policy, rollback state is not consulted" test $? = 0

printf '{"version": 1, "apps": [' >"$state"
"$CORERUN" verify --policy "$WORK/rollback.json" "$WORK/v1.4.0.tim" >/dev/null 2>"$WORK/err"
check "a damaged rollback state refuses rather than forgetting" test $? = 125
check "... naming the file" contains "$WORK/err" "rollback state '$state' is damaged"
finish
