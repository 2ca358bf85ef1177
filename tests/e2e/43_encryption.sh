# Encryption at rest (spec/trust.md, "Encryption"): corec build --encrypt-* writes the initramfs
# as a standard age v1 file; corerun decrypts it only after everything verified, with an age
# identity or a passphrase, and refuses every wrong key, damaged ciphertext or mismatched
# plaintext before QEMU starts. Interoperates with Debian's age both ways. One boot.
. "$(dirname "$0")/lib.sh"
ENCTOOL="python3 $ROOT/tests/e2e/enctool.py"
for tool in age age-keygen zstd cpio; do
  command -v $tool >/dev/null || { not_ok "$tool is missing: run 'make deps'"; exit 1; }
done
age-keygen -o "$WORK/id.txt" 2>/dev/null
age-keygen -o "$WORK/other.txt" 2>/dev/null
recipient=$(age-keygen -y "$WORK/id.txt")
hello=$ROOT/examples/hello/app.yml

# --- Building ---------------------------------------------------------------------------------
"$COREC" build "$hello" -o "$WORK/enc.tim" --encrypt-to "$recipient" >"$WORK/enc.digest" 2>"$WORK/err"
check "corec build --encrypt-to writes an artifact" test $? = 0 -a -s "$WORK/enc.tim"
$ENCTOOL extract "$WORK/enc.tim" "$WORK/blob.age"
check "the initramfs blob is an age v1 file" test "$(head -c 22 "$WORK/blob.age")" = "age-encryption.org/v1"
plain_digest=$($ENCTOOL annotation "$WORK/enc.tim" dev.core.plaintext.digest)
plain_size=$($ENCTOOL annotation "$WORK/enc.tim" dev.core.plaintext.size)
check "the signed manifest names the plaintext's digest and size" test -n "$plain_digest" -a -n "$plain_size"
check "the kernel stays in the clear (a bzImage blob)" \
  sh -c "tar -xOf '$WORK/enc.tim' --wildcards 'blobs/sha256/*' | grep -qa HdrS"

# Debian's age decrypts our blob, to exactly the plaintext the manifest names: a zstd cpio.
age -d -i "$WORK/id.txt" -o "$WORK/plain" "$WORK/blob.age" 2>"$WORK/err"
check "age -d decrypts corec's blob" test $? = 0
check "... to the plaintext digest the manifest signs" test "sha256:$(sha256sum <"$WORK/plain" | cut -d' ' -f1)" = "$plain_digest"
check "... of the size it names" test "$(stat -c %s "$WORK/plain")" = "$plain_size"
zstd -dc "$WORK/plain" | cpio -t --quiet 2>/dev/null >"$WORK/list"
check "... which is the initramfs (a zstd cpio holding init)" grep -qx init "$WORK/list"

# --- Booting and verifying --------------------------------------------------------------------
"$CORERUN" --identity "$WORK/id.txt" "$WORK/enc.tim" >"$WORK/boot.out" 2>"$WORK/boot.err"
rc=$?
check "the encrypted hello boots with its identity (exit 0)" test "$rc" = 0
check "... and runs main in the guest" contains "$WORK/boot.out" "Hello from core!"
refused "without a key it is refused, naming what to pass" "pass --identity FILE" "$WORK/enc.tim"
refused "with another identity it is refused" "no identity matches" --identity "$WORK/other.txt" "$WORK/enc.tim"
printf 'not an identity\n' >"$WORK/bad-id.txt"
refused "a malformed identity file is refused before the artifact is read" "identity file '$WORK/bad-id.txt'" \
  --identity "$WORK/bad-id.txt" "$WORK/enc.tim"
CORE_IDENTITY_FILE=$WORK/id.txt "$BUILD_DIR/corerun" verify "$WORK/enc.tim" >"$WORK/out" 2>"$WORK/err"
check "CORE_IDENTITY_FILE works like --identity (verify decrypts and checks)" contains "$WORK/err" "decrypted and checked"
"$BUILD_DIR/corerun" verify --identity "$WORK/other.txt" --identity "$WORK/id.txt" "$WORK/enc.tim" >/dev/null 2>"$WORK/err"
check "--identity may be repeated: the matching one decrypts" test $? = 0
"$BUILD_DIR/corerun" verify "$WORK/enc.tim" >"$WORK/out" 2>"$WORK/err"
check "verify without a key checks the ciphertext and says so" contains "$WORK/err" "the plaintext not checked"
check "... and prints the artifact's digest" test "$(cat "$WORK/out")" = "$(cat "$WORK/enc.digest")"
"$COREC" verify "$WORK/enc.tim" >/dev/null 2>"$WORK/err"
check "corec verify accepts the encrypted artifact" test $? = 0

# --- Recipients files and passphrases ---------------------------------------------------------
printf '# ops team\n%s\n\n%s\n' "$(age-keygen -y "$WORK/other.txt")" "$recipient" >"$WORK/recipients"
"$COREC" build "$hello" -o "$WORK/multi.tim" --encrypt-recipients-file "$WORK/recipients" >/dev/null 2>"$WORK/err"
check "--encrypt-recipients-file encrypts to every recipient listed" test $? = 0
for id in id other; do
  "$BUILD_DIR/corerun" verify --identity "$WORK/$id.txt" "$WORK/multi.tim" >/dev/null 2>&1
  check "... and $id.txt decrypts it" test $? = 0
done
printf 'correct horse battery staple\n' >"$WORK/pass"
printf 'wrong\n' >"$WORK/wrongpass"
"$COREC" build "$hello" -o "$WORK/pass.tim" --encrypt-passphrase-file "$WORK/pass" >/dev/null 2>"$WORK/err"
check "--encrypt-passphrase-file encrypts to a passphrase" test $? = 0
$ENCTOOL extract "$WORK/pass.tim" "$WORK/pass.age"
check "... in an scrypt stanza" grep -qa -- "-> scrypt " "$WORK/pass.age"
"$BUILD_DIR/corerun" verify --passphrase-file "$WORK/pass" "$WORK/pass.tim" >/dev/null 2>"$WORK/err"
check "corerun --passphrase-file decrypts it" contains "$WORK/err" "decrypted and checked"
refused "a wrong passphrase is refused" "cannot decrypt its initramfs" --passphrase-file "$WORK/wrongpass" "$WORK/pass.tim"
refused "without a terminal or passphrase file it is refused, naming the flag" "pass --passphrase-file FILE" "$WORK/pass.tim"
# On a terminal corerun asks, with echo off; the stand-in QEMU starting shows the passphrase worked.
qemu=$(fake_qemu)
python3 - "$BUILD_DIR/corerun" "$qemu" "$WORK/pass.tim" >"$WORK/tty.out" 2>&1 <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--qemu", sys.argv[2], sys.argv[3]])
seen, sent, deadline = b"", False, time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not sent and b"Passphrase for " in seen:
        time.sleep(0.2)  # the terminal's echo is off before the prompt is written
        os.write(fd, b"correct horse battery staple\n")
        sent = True
os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
PY
check "on a terminal, corerun asks for the passphrase" contains "$WORK/tty.out" "Passphrase for hello: "
check "... without echoing it" sh -c "! grep -q 'correct horse' '$WORK/tty.out'"
check "... and decrypts with it (QEMU was started)" test -e "$WORK/qemu-was-started"

# --- What corec refuses -----------------------------------------------------------------------
"$COREC" build "$hello" -o "$WORK/x.tim" --encrypt-to age1notarecipient >/dev/null 2>"$WORK/err"
check "a malformed recipient is refused" test $? != 0 -a ! -e "$WORK/x.tim"
check "... naming the flag and the form expected" contains "$WORK/err" "--encrypt-to 'age1notarecipient'"
"$COREC" build "$hello" -o "$WORK/x.tim" --encrypt-to "$recipient" --encrypt-passphrase-file "$WORK/pass" >/dev/null 2>"$WORK/err"
check "recipients and a passphrase together are refused, as age refuses them" test $? != 0 -a ! -e "$WORK/x.tim"
check "... saying to choose one" contains "$WORK/err" "choose one"

# The disk forms: the kernel and the age file as plain files, no boot loader; corerun decrypts.
# (raw and qcow2 share their layout; the qcow2 stands for both.)
for form in qcow2 iso; do
  "$COREC" build "$hello" -o "$WORK/enc.$form" --encrypt-to "$recipient" >/dev/null 2>"$WORK/err"
  check "an encrypted $form builds" test $? = 0
  "$BUILD_DIR/corerun" verify --identity "$WORK/id.txt" "$WORK/enc.$form" >/dev/null 2>"$WORK/err"
  check "... and corerun decrypts it from the disk and checks the plaintext" contains "$WORK/err" "decrypted and checked"
  refused "... and refuses it without a key" "pass --identity FILE" "$WORK/enc.$form"
done
check "the encrypted qcow2 is a clean qcow2 (qemu-img check)" qemu-img check -q "$WORK/enc.qcow2"
check "the encrypted disk holds no EFI loader (a clear one names BOOTX64)" sh -c "! grep -qa 'BOOTX64' '$WORK/enc.qcow2'"
check "the encrypted ISO has no El Torito boot record" sh -c "! grep -qa 'EL TORITO SPECIFICATION' '$WORK/enc.iso'"

# Encryption is randomized: two builds differ, but they name the same plaintext.
"$COREC" build "$hello" -o "$WORK/enc2.tim" --encrypt-to "$recipient" >"$WORK/enc2.digest" 2>/dev/null
check "two encrypted builds differ (a fresh file key each)" test "$(cat "$WORK/enc2.digest")" != "$(cat "$WORK/enc.digest")"
check "... but sign the same plaintext digest" test "$($ENCTOOL annotation "$WORK/enc2.tim" dev.core.plaintext.digest)" = "$plain_digest"

# --- Ciphertext from elsewhere -----------------------------------------------------------------
# age -r encrypts the same plaintext; put in and signed anew with corec sign, corerun decrypts it.
age -r "$recipient" -o "$WORK/by-age.age" "$WORK/plain"
$ENCTOOL replace "$WORK/enc.tim" "$WORK/by-age.age" "$WORK/by-age.tim"
"$COREC" sign --key "$CORE_HOME/keys/default.key" "$WORK/by-age.tim" >/dev/null 2>"$WORK/err"
check "an artifact holding age's own ciphertext is signed anew by corec sign" test $? = 0
"$BUILD_DIR/corerun" verify --identity "$WORK/id.txt" "$WORK/by-age.tim" >/dev/null 2>"$WORK/err"
check "corerun decrypts what age -r wrote, to the signed plaintext" contains "$WORK/err" "decrypted and checked"
# The same re-encryption without a new signature: the right plaintext, but not the signed ciphertext.
$ENCTOOL replace "$WORK/enc.tim" "$WORK/by-age.age" "$WORK/resealed.tim" keep
refused "a re-encrypted blob (right plaintext, other ciphertext) under the old signature is refused" \
  "is not signed" --identity "$WORK/id.txt" "$WORK/resealed.tim"
$ENCTOOL swap-blob "$WORK/enc.tim" "$WORK/by-age.age" "$WORK/swapped.tim"
refused "the re-encrypted bytes under the signed ciphertext's name are refused" "does not match its content" \
  --identity "$WORK/id.txt" "$WORK/swapped.tim"

# A signer's own bad ciphertext: it verifies, but no plaintext of it may reach QEMU.
python3 - "$WORK/by-age.age" "$WORK/corrupt.age" "$WORK/cut.age" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
cut = bytes(data[:len(data) - 100])
data[len(data) // 2] ^= 1
open(sys.argv[2], "wb").write(data)
open(sys.argv[3], "wb").write(cut)
PY
# Other content of the same size: only the plaintext digest tells it apart.
head -c "$plain_size" /dev/urandom | age -r "$recipient" -o "$WORK/wrong-plain.age"
for case in corrupt:"does not authenticate" cut:"truncated" wrong-plain:"is not the plaintext its signed manifest names"; do
  name=${case%%:*} text=${case#*:}
  $ENCTOOL replace "$WORK/enc.tim" "$WORK/$name.age" "$WORK/$name.tim"
  "$COREC" sign --key "$CORE_HOME/keys/default.key" "$WORK/$name.tim" >/dev/null 2>"$WORK/err" ||
    not_ok "corec sign signs the $name case" "$(cat "$WORK/err")"
  refused "signed but $name ciphertext is refused before QEMU" "$text" --identity "$WORK/id.txt" "$WORK/$name.tim"
done

# Hostile plaintext annotations, signed by a trusted key all the same: refused before decryption.
cipher_size=$(stat -c %s "$WORK/blob.age")
for case in "size:0" "size:-1" "size:12ab" "size:99999999999999999999" "size:$cipher_size" "size:-" \
  "digest:sha256:xyz" "digest:sha256:$(echo "${plain_digest#sha256:}" | tr a-f A-F)" "digest:-"; do
  key=dev.core.plaintext.${case%%:*} value=${case#*:}
  $ENCTOOL set-annotation "$WORK/enc.tim" "$key" "$value" "$WORK/bad-ann.tim"
  $TIMTOOL add-sig "$WORK/bad-ann.tim" "$CORE_HOME/keys/default.key" "$WORK/bad-ann.tim"
  refused "a signed manifest with $key '$value' is refused" "must name its plaintext" --identity "$WORK/id.txt" \
    "$WORK/bad-ann.tim"
done
finish
