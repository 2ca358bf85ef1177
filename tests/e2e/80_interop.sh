# The signature is plain DSSE over Ed25519: openssl verifies it without any core code.
. "$(dirname "$0")/lib.sh"
tim=$(hello_tim) || { not_ok "build hello"; exit 1; }

$TIMTOOL envelope "$tim" >"$WORK/envelope.json"
python3 - "$WORK" <<'PY'
import base64, json, sys
work = sys.argv[1]
env = json.load(open(f"{work}/envelope.json"))
body = base64.b64decode(env["payload"])
kind = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)
open(f"{work}/pae", "wb").write(pae)
open(f"{work}/sig", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
open(f"{work}/statement.json", "wb").write(body)
PY
pub=$(ls "$CORE_HOME"/trust.d/*.pub | head -n 1)
check "openssl verifies the DSSE signature" openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$WORK/pae" -sigfile "$WORK/sig"
check "the signed statement is an in-toto Statement v1" contains "$WORK/statement.json" '"_type":"https://in-toto.io/Statement/v1"'
check "the statement's subject is the artifact digest" contains "$WORK/statement.json" "\"sha256\":\"$(sed 's/^sha256://' "$WORK/hello.digest")\""

mkdir -p "$WORK/layout" && tar -xf "$tim" -C "$WORK/layout"
manifest=$(sed 's/^sha256://' "$WORK/hello.digest")
check "every blob's name is the sha256 of its content" bash -c "cd '$WORK/layout/blobs/sha256' && for f in *; do echo \"\$f  \$f\"; done | sha256sum -c --quiet"
python3 - "$WORK/layout" "$manifest" >"$WORK/initramfs.digest" <<'PY'
import json, sys
m = json.load(open(f"{sys.argv[1]}/blobs/sha256/{sys.argv[2]}"))
print(next(l["digest"] for l in m["layers"] if l["mediaType"].startswith("application/vnd.core.initramfs")).split(":")[1])
PY
zstd -dc "$WORK/layout/blobs/sha256/$(cat "$WORK/initramfs.digest")" | cpio -t 2>/dev/null >"$WORK/cpio.list"
check "the initramfs is a zstd cpio that cpio lists" grep -qx init "$WORK/cpio.list"
check "the initramfs holds busybox" grep -qx bin/busybox "$WORK/cpio.list"
check "the initramfs holds the console node" grep -qx dev/console "$WORK/cpio.list"
check "the initramfs holds coreinit's config" grep -qx etc/core/init.conf "$WORK/cpio.list"
finish
