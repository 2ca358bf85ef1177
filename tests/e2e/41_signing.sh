# Signing an artifact again (corec sign), several signatures at build (--sign-key twice),
# encrypted keys (corec keygen --passphrase-file, openssl genpkey -aes256) and corec verify, for
# the TIM and the disk forms. Host side only: nothing boots (40_trust.sh boots a trusted key).
. "$(dirname "$0")/lib.sh"
DISKTOOL="python3 $ROOT/tests/e2e/disktool.py"
command -v qemu-img >/dev/null || { not_ok "qemu-img is missing: run 'make deps'"; exit 1; }
EMPTY=$WORK/empty-home # a CORE_HOME that trusts nothing: only --trust counts
mkdir -p "$EMPTY"
verify_only() { # verify_only KEY.pub ARTIFACT: corerun verify trusting KEY.pub alone
  CORE_HOME=$EMPTY "$BUILD_DIR/corerun" verify --trust "$1" "$2" >"$WORK/verify.out" 2>"$WORK/verify.err"
}

# The keys: the default one (first build), one from openssl, one encrypted by corec keygen,
# one encrypted by openssl.
tim=$(hello_tim) || { not_ok "hello builds"; exit 1; }
digest=$(cat "$WORK/hello.digest")
first_pub=$CORE_HOME/keys/default.pub
openssl genpkey -algorithm ed25519 -out "$WORK/second.key" 2>/dev/null
openssl pkey -in "$WORK/second.key" -pubout -out "$WORK/second.pub"
printf 'correct horse battery staple\n' >"$WORK/pass"
printf 'wrong\n' >"$WORK/wrongpass"
"$COREC" keygen --passphrase-file "$WORK/pass" "$WORK/third" >"$WORK/third.id" 2>"$WORK/err"
check "keygen --passphrase-file writes a key pair" test -s "$WORK/third.key" -a -s "$WORK/third.pub"
check "the private key is an encrypted PKCS#8 PEM" contains "$WORK/third.key" "BEGIN ENCRYPTED PRIVATE KEY"
check "the private key is mode 0600" test "$(stat -c %a "$WORK/third.key")" = 600
check "openssl opens it with the passphrase" openssl pkey -in "$WORK/third.key" -passin "file:$WORK/pass" -noout
openssl pkey -in "$WORK/third.key" -passin "file:$WORK/pass" -pubout >"$WORK/third.derived.pub" 2>/dev/null
check "its public half is third.pub" cmp -s "$WORK/third.derived.pub" "$WORK/third.pub"
openssl genpkey -algorithm ed25519 -aes256 -pass "file:$WORK/pass" -out "$WORK/fourth.key" 2>/dev/null
openssl pkey -in "$WORK/fourth.key" -passin "file:$WORK/pass" -pubout -out "$WORK/fourth.pub"

# corec sign on a TIM: the digest stays; the new key alone suffices; the old one still verifies.
cp "$tim" "$WORK/before.tim"
"$COREC" sign --key "$WORK/second.key" "$tim" >"$WORK/out" 2>"$WORK/err"
check "corec sign succeeds" test $? = 0
check "corec sign prints the unchanged digest" test "$(cat "$WORK/out")" = "$digest"
check "corec sign names the key it signed with" contains "$WORK/err" "with key $(openssl pkey -pubin -in "$WORK/second.pub" -outform DER | sha256sum | cut -c1-16)"
verify_only "$WORK/second.pub" "$tim"
check "corerun verify accepts it with only the second key trusted" test $? = 0
check "... and prints the same digest" test "$(cat "$WORK/verify.out")" = "$digest"
verify_only "$first_pub" "$tim"
check "the first signature still verifies with the first key alone" test $? = 0
verify_only "$WORK/second.pub" "$WORK/before.tim"
check "before signing, the second key alone was refused" test $? != 0
"$COREC" sign --key "$WORK/second.key" "$tim" >"$WORK/out" 2>"$WORK/err"
check "signing again with the same key is not an error" test $? = 0
check "... says the key already signed" contains "$WORK/err" "has already signed"
n_sigs() { # the signature manifests listed in a TIM's top index
  python3 - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
f = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
top = json.loads(f["blobs/sha256/" + json.loads(f["index.json"])["manifests"][0]["digest"][7:]])
print(sum(1 for m in top["manifests"] if m.get("artifactType") == "application/vnd.dsse.envelope.v1+json"))
PY
}
check "... and adds no duplicate (two signatures)" test "$(n_sigs "$tim")" = 2
tar tf "$tim" >/dev/null 2>&1
check "the signed TIM is still a tar other tools read" test $? = 0

# The added signature, checked by OpenSSL alone over the PAE bytes of spec/tim.md.
python3 - "$tim" "$WORK/second.pub" "$WORK/pae" "$WORK/sig" <<'PY'
import base64, hashlib, json, subprocess, sys, tarfile
t = tarfile.open(sys.argv[1])
f = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
blob = lambda d: f["blobs/sha256/" + d[7:]]
keyid = hashlib.sha256(subprocess.run(["openssl", "pkey", "-pubin", "-in", sys.argv[2], "-outform", "DER"],
                                      capture_output=True, check=True).stdout).hexdigest()
top = json.loads(blob(json.loads(f["index.json"])["manifests"][0]["digest"]))
for m in top["manifests"]:
    if m.get("artifactType") != "application/vnd.dsse.envelope.v1+json":
        continue
    env = json.loads(blob(json.loads(blob(m["digest"]))["layers"][0]["digest"]))
    if env["signatures"][0]["keyid"] != keyid:
        continue
    body, ptype = base64.b64decode(env["payload"]), env["payloadType"].encode()
    open(sys.argv[3], "wb").write(b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body))
    open(sys.argv[4], "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
PY
openssl pkeyutl -verify -pubin -inkey "$WORK/second.pub" -rawin -in "$WORK/pae" -sigfile "$WORK/sig" >/dev/null 2>&1
check "openssl pkeyutl verifies the added signature over the PAE bytes" test $? = 0
check "the PAE starts 'DSSEv1 28 application/vnd.in-toto+json '" \
  test "$(head -c 39 "$WORK/pae")" = "DSSEv1 28 application/vnd.in-toto+json "

# corec verify agrees with corerun verify.
CORE_HOME=$EMPTY "$COREC" verify --trust "$WORK/second.pub" --trust "$first_pub" "$tim" >"$WORK/out" 2>"$WORK/err"
check "corec verify accepts what corerun accepts" test $? = 0
check "... printing the same digest" test "$(cat "$WORK/out")" = "$digest"
check "... and both trusted signers on stderr" test "$(grep -c 'signed by trusted key' "$WORK/err")" = 2
CORE_HOME=$EMPTY "$COREC" verify --trust "$WORK/fourth.pub" "$tim" >"$WORK/out" 2>"$WORK/err"
rc=$?
CORE_HOME=$EMPTY "$BUILD_DIR/corerun" verify --trust "$WORK/fourth.pub" "$tim" >/dev/null 2>"$WORK/err.corerun"
check "corec verify refuses an artifact no trusted key signed" test "$rc" != 0 -a ! -s "$WORK/out"
check "... with corerun's message" test "$(sed 's/^corec:/X:/' "$WORK/err")" = "$(sed 's/^corerun:/X:/' "$WORK/err.corerun")"

# Encrypted keys: a passphrase file (flag or environment); the wrong one is a clear error.
cp "$WORK/before.tim" "$WORK/enc.tim"
"$COREC" sign --key "$WORK/third.key" --sign-passphrase-file "$WORK/wrongpass" "$WORK/enc.tim" >/dev/null 2>"$WORK/err"
check "a wrong passphrase is refused" test $? != 0
check "... saying so" contains "$WORK/err" "wrong passphrase"
check "... and the artifact is unchanged" cmp -s "$WORK/enc.tim" "$WORK/before.tim"
setsid -w "$COREC" sign --key "$WORK/third.key" "$WORK/enc.tim" </dev/null >/dev/null 2>"$WORK/err"
check "no passphrase and no terminal: a clear error" contains "$WORK/err" "no terminal to ask for its passphrase"
"$COREC" sign --key "$WORK/third.key" --sign-passphrase-file "$WORK/pass" "$WORK/enc.tim" >"$WORK/out" 2>"$WORK/err"
check "a corec keygen --passphrase-file key signs with --sign-passphrase-file" test $? = 0 -a "$(cat "$WORK/out")" = "$digest"
verify_only "$WORK/third.pub" "$WORK/enc.tim"
check "... and that signature verifies alone" test $? = 0
CORE_SIGN_PASSPHRASE_FILE=$WORK/pass "$COREC" sign --key "$WORK/fourth.key" "$WORK/enc.tim" >/dev/null 2>"$WORK/err"
check "an 'openssl genpkey -aes256' key signs with CORE_SIGN_PASSPHRASE_FILE" test $? = 0
verify_only "$WORK/fourth.pub" "$WORK/enc.tim"
check "... and that signature verifies alone" test $? = 0

# --sign-key twice: two signatures, in one build.
make_app "$WORK/app" '["/bin/sh", "-c", "exit 0"]'
"$COREC" build --sign-key "$WORK/second.key" --sign-key "$WORK/third.key" --sign-passphrase-file "$WORK/pass" \
  "$WORK/app/app.yml" -o "$WORK/two.tim" >/dev/null 2>"$WORK/err"
check "build with --sign-key twice" test $? = 0
check "... gives two signature manifests" test "$(n_sigs "$WORK/two.tim")" = 2
verify_only "$WORK/second.pub" "$WORK/two.tim" && verify_only "$WORK/third.pub" "$WORK/two.tim"
check "... each verifying with its key alone" test $? = 0

# A damaged artifact is refused and nothing is written.
cp "$WORK/before.tim" "$WORK/bad.tim"
at=$($TIMTOOL offsets "$WORK/bad.tim" | awk -F'\t' '$1 != "index.json" && $2 > 100 { print $3 + 50; exit }')
$TIMTOOL flip "$WORK/bad.tim" "$WORK/bad.tim" "$at"
cp "$WORK/bad.tim" "$WORK/bad.copy"
"$COREC" sign --key "$WORK/second.key" "$WORK/bad.tim" >"$WORK/out" 2>"$WORK/err"
check "corec sign refuses a corrupted TIM" test $? != 0
check "... saying it is damaged" contains "$WORK/err" "is damaged, so it is not signed"
check "... leaving it as it was" cmp -s "$WORK/bad.tim" "$WORK/bad.copy"
check "... and no temporary file behind" test -z "$(ls -A "$WORK" | grep '\.tmp-')"
"$COREC" sign --key "$WORK/second.key" -o "$WORK/bad-out.tim" "$WORK/bad.tim" >/dev/null 2>&1
check "... nor an output file" test ! -e "$WORK/bad-out.tim"

# The disk forms: signed again in place, the same digest, every byte outside the region kept.
for form in img qcow2 iso; do
  art=$WORK/hello.$form
  "$COREC" build "$ROOT/examples/hello/app.yml" -o "$art" >"$art.digest" 2>"$art.err" ||
    { not_ok "hello builds as $form" "$(cat "$art.err")"; continue; }
  cp --sparse=always "$art" "$art.before"
  meta_at=$($DISKTOOL info "$art" | awk '$1 == "meta_offset" { print $2 }')
  meta_size=$($DISKTOOL info "$art" | awk '$2 == "dev.core.image.meta.size" { print $3 }')
  "$COREC" sign --key "$WORK/second.key" "$art" >"$WORK/out" 2>"$WORK/err"
  check "$form: corec sign succeeds" test $? = 0
  check "$form: the digest is unchanged" test "$(cat "$WORK/out")" = "$(cat "$art.digest")"
  verify_only "$WORK/second.pub" "$art"
  check "$form: corerun verify accepts it with only the second key trusted" test $? = 0
  verify_only "$first_pub" "$art"
  check "$form: the first signature still verifies" test $? = 0
  check "$form: two signatures in the metadata" test "$($DISKTOOL info "$art" | grep -c signature_envelope)" = 2
  check "$form: the file's size is unchanged" test "$(stat -c %s "$art")" = "$(stat -c %s "$art.before")"
  check "$form: the bytes before the metadata region are unchanged" cmp -s -n "$meta_at" "$art" "$art.before"
  end=$((meta_at + meta_size))
  check "$form: the bytes after the metadata region are unchanged" \
    cmp -s <(tail -c +$((end + 1)) "$art") <(tail -c +$((end + 1)) "$art.before")
  if [ "$form" = qcow2 ]; then
    qemu-img check "$art" >"$WORK/out" 2>&1
    check "qcow2: qemu-img check is still clean" contains "$WORK/out" "No errors were found on the image."
  fi
  CORE_HOME=$EMPTY "$COREC" verify --trust "$WORK/second.pub" "$art" >"$WORK/out" 2>/dev/null
  check "$form: corec verify agrees" test "$(cat "$WORK/out")" = "$(cat "$art.digest")"
done

# A damaged disk: a byte changed in its metadata, or anywhere else, is refused.
cp --sparse=always "$WORK/hello.img.before" "$WORK/bad.img"
at=$($DISKTOOL info "$WORK/bad.img" | awk '$1 == "entry" && $2 != "index.json" && $4 > 100 { print $3 + 50; exit }')
$TIMTOOL flip "$WORK/bad.img" "$WORK/bad.img" "$at"
"$COREC" sign --key "$WORK/second.key" "$WORK/bad.img" >/dev/null 2>"$WORK/err"
check "a raw disk with a changed metadata blob is refused" contains "$WORK/err" "is damaged, so it is not signed"
cp --sparse=always "$WORK/hello.img.before" "$WORK/bad.img"
$TIMTOOL flip "$WORK/bad.img" "$WORK/bad.img" $((3 << 20))
cp "$WORK/bad.img" "$WORK/bad.img.copy"
"$COREC" sign --key "$WORK/second.key" "$WORK/bad.img" >/dev/null 2>"$WORK/err"
check "a raw disk with a changed byte outside the metadata is refused" contains "$WORK/err" "does not verify, so it was not written"
check "... and left as it was" cmp -s "$WORK/bad.img" "$WORK/bad.img.copy"
finish
