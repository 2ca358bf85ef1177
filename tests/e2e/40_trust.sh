# Only keys in the trust store (or given with --trust) are accepted.
. "$(dirname "$0")/lib.sh"
qemu=$(fake_qemu)

"$COREC" keygen "$WORK/publisher" >"$WORK/keyid" 2>"$WORK/err"
check "keygen writes a key pair" test -s "$WORK/publisher.key" -a -s "$WORK/publisher.pub"
check "keygen prints a 64-hex key id" grep -qE '^[0-9a-f]{64}$' "$WORK/keyid"
check "the private key is mode 0600" test "$(stat -c %a "$WORK/publisher.key")" = 600
"$COREC" keygen "$WORK/publisher" >/dev/null 2>"$WORK/err"
check "keygen refuses to overwrite a key" test $? != 0
check "keygen says how to replace a key" contains "$WORK/err" "--force"
check "openssl reads the private key" openssl pkey -in "$WORK/publisher.key" -noout
openssl pkey -in "$WORK/publisher.key" -pubout >"$WORK/derived.pub"
check "the public key file is the private key's public half" cmp -s "$WORK/derived.pub" "$WORK/publisher.pub"

make_app "$WORK/app" '["/bin/sh", "-c", "exit 7"]'
"$COREC" keygen >/dev/null 2>&1 # a default key, so the trust store is not empty
"$COREC" build --sign-key "$WORK/publisher.key" "$WORK/app/app.yml" -o "$WORK/app.tim" >/dev/null 2>&1
check "build with --sign-key" test -s "$WORK/app.tim"

"$CORERUN" --qemu "$qemu" "$WORK/app.tim" >/dev/null 2>"$WORK/err"
rc=$?
check "an untrusted key is refused with 125" test "$rc" = 125
check "the refusal names the key and the fix" contains "$WORK/err" "is signed by key $(head -c 16 "$WORK/keyid"), which is not trusted"
check "qemu was not started for an untrusted artifact" test ! -e "$WORK/qemu-was-started"

"$CORERUN" verify --trust "$WORK/publisher.pub" "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "--trust accepts the publisher's key" test $? = 0
"$CORERUN" verify --trust "$WORK/publisher.key" "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "--trust refuses a private key file" contains "$WORK/err" "holds a private key"

# Files that are not keys: what they should be and how to make one, not OpenSSL's decoder code.
printf 'hello\n' >"$WORK/notakey"
"$CORERUN" verify --trust "$WORK/notakey" "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "--trust with a file that is not a key says what a key is" \
  contains "$WORK/err" "'$WORK/notakey' is not a PEM Ed25519 public key"
check "... and how to make one" contains "$WORK/err" "corec keygen"
check "... without OpenSSL's decoder code" sh -c "! grep -q DECODER '$WORK/err'"
"$COREC" build --sign-key "$WORK/notakey" "$WORK/app/app.yml" -o "$WORK/notakey.tim" >/dev/null 2>"$WORK/err"
check "--sign-key with a file that is not a key says what a key is" \
  contains "$WORK/err" "'$WORK/notakey' is not a PEM Ed25519 private key"
check "... and how to make one" contains "$WORK/err" "corec keygen"
"$COREC" build --sign-key "$WORK/publisher.pub" "$WORK/app/app.yml" -o "$WORK/notakey.tim" >/dev/null 2>"$WORK/err"
check "--sign-key with a public key asks for its private half" contains "$WORK/err" "is a public key; sign with its private half"

# A signature by an untrusted key that claims a trusted key's id: not "modified", another key.
trusted_id=$(openssl pkey -pubin -in "$CORE_HOME/keys/default.pub" -outform DER | sha256sum | cut -c1-64)
$TIMTOOL claim-keyid "$WORK/app.tim" "$trusted_id" "$WORK/claimed.tim"
rm -f "$WORK/qemu-was-started"
"$CORERUN" --qemu "$qemu" "$WORK/claimed.tim" >/dev/null 2>"$WORK/err"
check "a signature claiming a trusted key's id is refused with 125" test $? = 125
check "the refusal says the id is a trusted key's but the signature is not by it" \
  contains "$WORK/err" "its signature names trusted key ${trusted_id:0:16}"
check "... and that a different key claims that id" contains "$WORK/err" "made by a different key claiming that key's id"
check "qemu was not started for it" test ! -e "$WORK/qemu-was-started"

mkdir -p "$CORE_HOME/trust.d" && cp "$WORK/publisher.pub" "$CORE_HOME/trust.d/publisher.pub"
"$CORERUN" -q "$WORK/app.tim" >/dev/null 2>&1
check "a key in trust.d is trusted, and the guest's status 7 comes back" test $? = 7

CORE_HOME=$WORK/empty-home "$CORERUN" verify "$WORK/app.tim" >/dev/null 2>"$WORK/err"
check "with no trusted keys the artifact is refused" test $? = 125
check "the message says nothing is trusted and where it looked" contains "$WORK/err" "no key is trusted (looked in $WORK/empty-home/trust.d)"
finish
