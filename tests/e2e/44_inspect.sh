# corec inspect, ls and diff (spec/inspect.md): each verifies first, exactly as corec verify does,
# and shows nothing of an artifact that does not verify. inspect reports signatures (trusted or
# not), blobs, encryption and the config, as text and --json; ls lists the initramfs like tar tv,
# as an independent reader (cpio) lists it, the same on every form and through decryption; diff
# reports config keys, modules and files, exiting 0/1/2 like diff(1). No guest boots.
. "$(dirname "$0")/lib.sh"
ENCTOOL="python3 $ROOT/tests/e2e/enctool.py"
for tool in age-keygen zstd cpio; do
  command -v $tool >/dev/null || { not_ok "$tool is missing: run 'make deps'"; exit 1; }
done

# Two apps that differ in one file (etc/greeting), one config key (resources.memory_mib) and one
# module (virtio_blk, with its dependencies).
make_app "$WORK/a" '["/bin/sh", "-c", "cat /etc/greeting"]'
mkdir -p "$WORK/a/rootfs/etc"
echo one >"$WORK/a/rootfs/etc/greeting"
ln -s greeting "$WORK/a/rootfs/etc/hello"
cp -a "$WORK/a" "$WORK/b"
echo two >"$WORK/b/rootfs/etc/greeting"
make_app "$WORK/b" '["/bin/sh", "-c", "cat /etc/greeting"]' '  modules: [virtio_blk]'
printf 'resources: {memory: 512M}\n' >>"$WORK/b/app.yml"
age-keygen -o "$WORK/id.txt" 2>/dev/null

build() { # build NAME APP-DIR [FLAGS...]: $WORK/NAME, its digest in $WORK/NAME.digest
  local out=$WORK/$1 app=$2
  shift 2
  "$COREC" build "$app/app.yml" -o "$out" "$@" >"$out.digest" 2>"$out.err" || { not_ok "builds $out" "$(cat "$out.err")"; return 1; }
}
build a.tim "$WORK/a" && build a.qcow2 "$WORK/a" && build a.iso "$WORK/a" && build b.tim "$WORK/b" &&
  build enc.img "$WORK/a" --encrypt-to "$(age-keygen -y "$WORK/id.txt")" || exit 1
key=$(openssl pkey -pubin -in "$CORE_HOME"/trust.d/*.pub -outform DER | sha256sum | cut -d' ' -f1)

# --- inspect ----------------------------------------------------------------------------------
"$COREC" inspect "$WORK/a.tim" >"$WORK/out" 2>"$WORK/err"
check "inspect exits 0 on a verified artifact" test $? = 0
check "... and shows its digest" grep -qx "digest: *$(cat "$WORK/a.tim.digest")" "$WORK/out"
check "... its form and name" sh -c "grep -qx 'form: *tim' '$WORK/out' && grep -qx 'name: *testapp' '$WORK/out'"
check "... the signing key, trusted" grep -q "^  $key  trusted" "$WORK/out"
check "... the blobs with roles" sh -c "grep -q '^  kernel ' '$WORK/out' && grep -q '^  initramfs ' '$WORK/out'"
check "... and the config" grep -q '^  main: *\["/bin/sh","-c","cat /etc/greeting"\]' "$WORK/out"
check "... the pinned sources" grep -q '^  kernel  sha256:[0-9a-f]\{64\}$' "$WORK/out"

"$COREC" inspect --json "$WORK/a.tim" >"$WORK/a.json" 2>"$WORK/err"
check "inspect --json exits 0" test $? = 0
check "inspect --json has the documented keys and values" python3 - "$WORK/a.json" "$(cat "$WORK/a.tim.digest")" "$key" "$WORK/a.tim" <<'PY'
import json, sys, tarfile
r = json.load(open(sys.argv[1]))
assert set(r) == {"inspect_version", "artifact", "digest", "form", "name", "version", "encrypted",
                  "plaintext_checked", "signatures", "blobs", "sources", "config"}, sorted(r)
assert r["inspect_version"] == 1 and r["digest"] == sys.argv[2] and r["form"] == "tim" and r["name"] == "testapp"
assert r["version"] is None and r["encrypted"] is False and r["plaintext_checked"] is False
assert [(s["keyid"], s["trusted"]) for s in r["signatures"]] == [(sys.argv[3], True)], r["signatures"]
roles = [b["role"] for b in r["blobs"]]
assert roles == ["index", "manifest", "config", "kernel", "initramfs", "sbom", "provenance", "signature-manifest",
                 "signature-config", "signature"], roles
media = {b["role"]: b["media_type"] for b in r["blobs"]}
assert media["sbom"] == "application/spdx+json" and media["provenance"] == "application/vnd.in-toto+json", media
# The sources as the provenance pins them: the two packages by digest (the directory has no pin).
names = [s["name"] for s in r["sources"]]
assert names[0] == "kernel" and names[1].startswith("rootfs ") and names[1].endswith("busybox-static.deb"), names
assert len(names) == 2 and all(len(s["digest"]["sha256"]) == 64 for s in r["sources"]), r["sources"]
# Every blob of the tar is listed once, with its size as stored.
with tarfile.open(sys.argv[4]) as t:
    stored = {"sha256:" + m.name.rsplit("/", 1)[1]: m.size for m in t.getmembers() if m.name.startswith("blobs/sha256/") and m.isfile()}
assert {b["digest"]: b["size"] for b in r["blobs"]} == stored
assert all(b["encrypted"] is False and "plaintext" not in b for b in r["blobs"])
assert r["config"]["main"] == ["/bin/sh", "-c", "cat /etc/greeting"] and r["config"]["kernel"]["cmdline"] == "quiet"
PY

# A second signature by a key not trusted here is listed, marked; with --trust it is trusted too.
"$COREC" keygen "$WORK/other" >/dev/null 2>&1
"$COREC" sign --key "$WORK/other.key" -o "$WORK/two.tim" "$WORK/a.tim" >/dev/null 2>"$WORK/err"
other=$(openssl pkey -pubin -in "$WORK/other.pub" -outform DER | sha256sum | cut -d' ' -f1)
"$COREC" inspect "$WORK/two.tim" >"$WORK/out" 2>&1
check "inspect lists a signature by an untrusted key, marked" grep -q "^  $other  UNTRUSTED" "$WORK/out"
"$COREC" inspect --json --trust "$WORK/other.pub" "$WORK/two.tim" >"$WORK/two.json" 2>&1
check "... and with --trust, both signatures are trusted" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [(s["keyid"], s["trusted"]) for s in r["signatures"]] == [(sys.argv[2], True), (sys.argv[3], True)], r["signatures"]' \
  "$WORK/two.json" "$key" "$other"

# Refusals: exactly corec verify's message and status, and nothing of the artifact on stdout.
read -r _ size offset < <($TIMTOOL offsets "$WORK/a.tim" | grep "$(python3 -c '
import json, sys; print([b for b in json.load(open(sys.argv[1]))["blobs"] if b["role"] == "initramfs"][0]["digest"][7:])' "$WORK/a.json")")
$TIMTOOL flip "$WORK/a.tim" "$WORK/flipped.tim" $((offset + size / 2))
"$COREC" verify "$WORK/flipped.tim" >/dev/null 2>"$WORK/verify.err"
for cmd in inspect ls; do
  "$COREC" $cmd "$WORK/flipped.tim" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  if [ "$rc" = 1 ] && [ ! -s "$WORK/out" ] && cmp -s "$WORK/err" "$WORK/verify.err"; then
    ok "$cmd refuses a tampered artifact with corec verify's message"
  else
    not_ok "$cmd refuses a tampered artifact with corec verify's message" "exit $rc" "$(cat "$WORK/err")"
  fi
done
CORE_HOME=$WORK/empty-home "$COREC" verify "$WORK/a.tim" >/dev/null 2>"$WORK/verify.err"
CORE_HOME=$WORK/empty-home "$COREC" inspect "$WORK/a.tim" >"$WORK/out" 2>"$WORK/err"
check "inspect refuses an artifact signed by no trusted key, as verify does" \
  sh -c "test $? = 1 && ! test -s '$WORK/out' && cmp -s '$WORK/err' '$WORK/verify.err'"

# --- ls ---------------------------------------------------------------------------------------
"$COREC" ls "$WORK/a.tim" >"$WORK/ls.tim" 2>"$WORK/err"
check "ls exits 0" test $? = 0
check "ls shows a symlink with its target" grep -q '^lrwxrwxrwx 0/0 .* etc/hello -> greeting$' "$WORK/ls.tim"
check "ls shows the console device's numbers" grep -q '^crw------- 0/0 *5,1 1970-01-01 00:00 dev/console$' "$WORK/ls.tim"
$ENCTOOL extract "$WORK/a.tim" "$WORK/initramfs"
zstd -dc "$WORK/initramfs" | cpio -itv --quiet --numeric-uid-gid >"$WORK/cpio.list" 2>/dev/null
# Both listings as "mode uid gid size path[ -> target]", sorted: cpio's own reader against ours.
normalize() {
  python3 -c '
import re, sys
out = []
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if sys.argv[1] == "cpio":
        m = re.match(r"^(\S{10})\s+\d+\s+(\d+)\s+(\d+)\s+(\d+|\d+,\s*\d+)\s+\w{3}\s+\d+\s+[\d:]+\s(.*)$", line)
        mode, uid, gid, size, rest = m.groups()
    else:
        mode, owner, size, _, _, rest = re.split(r" +", line, 5)
        uid, gid = owner.split("/")
    out.append(" ".join([mode, uid, gid, re.sub(r",\s*", ",", size), rest]))
print("\n".join(sorted(out)))' "$1" "$2"
}
normalize cpio "$WORK/cpio.list" >"$WORK/cpio.norm"
normalize ls "$WORK/ls.tim" >"$WORK/ls.norm"
check "ls lists what cpio lists (path, mode, owner, size, target)" \
  sh -c "test -s '$WORK/ls.norm' && cmp -s '$WORK/ls.norm' '$WORK/cpio.norm'"
check "... every entry" test "$(wc -l <"$WORK/ls.tim")" = "$(wc -l <"$WORK/cpio.list")"

"$COREC" ls "$WORK/a.tim" /etc >"$WORK/out" 2>&1
check "ls PATH lists only PATH and below" sh -c "grep -q ' etc/greeting\$' '$WORK/out' &&
  test -z \"\$(awk '\$6 != \"etc\" && \$6 !~ /^etc\\//' '$WORK/out')\""
check "... starting with PATH itself" grep -q '^d.* etc$' "$WORK/out"
"$COREC" ls "$WORK/a.tim" etc/greeting >"$WORK/out" 2>&1
check "ls of one file lists that file" sh -c "test \$(wc -l <'$WORK/out') = 1 && grep -q '^-rw-r--r-- 0/0 *4 .* etc/greeting\$' '$WORK/out'"
"$COREC" ls "$WORK/a.tim" /etc/gree >"$WORK/out" 2>"$WORK/err"
check "ls of a path that is not there exits 1, saying so" sh -c "test $? = 1 && grep -q 'nothing at' '$WORK/err'"

for form in qcow2 iso; do
  "$COREC" ls "$WORK/a.$form" >"$WORK/ls.$form" 2>"$WORK/err"
  check "ls on the $form form lists what the TIM does" cmp -s "$WORK/ls.$form" "$WORK/ls.tim"
done
"$COREC" inspect --json "$WORK/a.qcow2" >"$WORK/out" 2>"$WORK/err"
check "inspect on the qcow2 form: form qcow2, kernel and initramfs at signed offsets" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["form"] == "qcow2"
assert all(isinstance(b.get("offset"), int) for b in r["blobs"] if b["role"] in ("kernel", "initramfs"))' "$WORK/out"

# A signed but hostile initramfs: one cpio header claiming a 256 MiB name (16 KB of zstd).
# libarchive would buffer the whole name before handing it out; the framing check refuses it first.
python3 -c '
import sys
n = 256 << 20
out = sys.stdout.buffer
out.write(b"070701" + b"".join(b"%08X" % v for v in [1, 0o100644, 0, 0, 1, 0, 0, 0, 0, 0, 0, n, 0]))
for _ in range(n >> 20):
    out.write(b"a" * (1 << 20))' | zstd -q -3 >"$WORK/hostile.zst"
$ENCTOOL replace "$WORK/a.tim" "$WORK/hostile.zst" "$WORK/hostile.tim"
"$COREC" sign --key "$CORE_HOME/keys/default.key" "$WORK/hostile.tim" >/dev/null 2>"$WORK/err"
peak_rss "$WORK/rss" "$COREC" ls "$WORK/hostile.tim" >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ "$rc" = 1 ] && grep -q "whose name is over 4095 bytes" "$WORK/err" && [ "$(cat "$WORK/rss")" -lt 150000 ]; then
  ok "ls refuses a signed initramfs claiming a 256 MiB name, in bounded memory ($(cat "$WORK/rss") KiB)"
else
  not_ok "ls refuses a signed initramfs claiming a 256 MiB name, in bounded memory" "exit $rc, $(cat "$WORK/rss") KiB" "$(cat "$WORK/err")"
fi

# --- encrypted ----------------------------------------------------------------------------------
"$COREC" ls "$WORK/enc.img" >"$WORK/out" 2>"$WORK/err"
check "ls of an encrypted artifact without a key exits 1, naming --identity" \
  sh -c "test $? = 1 && grep -q -- '--identity FILE' '$WORK/err' && ! test -s '$WORK/out'"
"$COREC" ls --identity "$WORK/id.txt" "$WORK/enc.img" >"$WORK/ls.enc" 2>"$WORK/err"
check "ls --identity of the encrypted raw disk lists what the clear TIM does" cmp -s "$WORK/ls.enc" "$WORK/ls.tim"
"$COREC" inspect --json "$WORK/enc.img" >"$WORK/enc.json" 2>"$WORK/err"
check "inspect of an encrypted artifact (no key): encrypted, its plaintext named, not checked" python3 -c '
import json, sys
r, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
clear = [b for b in a["blobs"] if b["role"] == "initramfs"][0]
b = [b for b in r["blobs"] if b["role"] == "initramfs"][0]
assert r["form"] == "raw" and r["encrypted"] is True and r["plaintext_checked"] is False
assert b["encrypted"] is True and b["media_type"].endswith("+age")
assert b["plaintext"] == {"digest": clear["digest"], "size": clear["size"], "checked": False}, b' \
  "$WORK/enc.json" "$WORK/a.json"
"$COREC" inspect --json --identity "$WORK/id.txt" "$WORK/enc.img" >"$WORK/out" 2>"$WORK/err"
check "... with --identity, the plaintext is decrypted and checked" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["plaintext_checked"] is True and [b for b in r["blobs"] if b["role"] == "initramfs"][0]["plaintext"]["checked"]' "$WORK/out"

# --- diff ---------------------------------------------------------------------------------------
"$COREC" diff "$WORK/a.tim" "$WORK/a.tim" >"$WORK/out" 2>"$WORK/err"
check "diff of an artifact with itself: exit 0, no output" sh -c "test $? = 0 && ! test -s '$WORK/out'"
"$COREC" diff "$WORK/a.tim" "$WORK/a.iso" >"$WORK/out" 2>"$WORK/err"
check "diff of one app's TIM and ISO: exit 0 (content, not form, is compared)" test $? = 0
"$COREC" diff --identity "$WORK/id.txt" "$WORK/a.qcow2" "$WORK/enc.img" >"$WORK/out" 2>"$WORK/err"
check "diff of a clear and an encrypted build of one app: exit 0" test $? = 0 || cat "$WORK/out" "$WORK/err" >&2
"$COREC" diff "$WORK/a.tim" "$WORK/enc.img" >"$WORK/out" 2>"$WORK/err"
check "diff with an encrypted artifact and no key: exit 2, naming --identity" \
  sh -c "test $? = 2 && grep -q -- '--identity' '$WORK/err'"
"$COREC" diff "$WORK/a.tim" "$WORK/b.tim" >"$WORK/out" 2>"$WORK/err"
check "diff of two different apps: exit 1" test $? = 1
check "... reports the config key" grep -q '^config resources.memory_mib: 256 -> 512$' "$WORK/out"
check "... the module" grep -qx 'module + virtio_blk' "$WORK/out"
check "... the module's file" grep -q '^file + lib/modules/.*/virtio_blk.ko ' "$WORK/out"
check "... and the changed file" grep -q '^file ~ etc/greeting: sha256 ' "$WORK/out"
"$COREC" diff --json "$WORK/a.tim" "$WORK/b.tim" >"$WORK/diff.json" 2>"$WORK/err"
check "diff --json: exit 1 and the documented shape" python3 - "$WORK/diff.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r) == {"diff_version", "a", "b", "identical", "config", "kernel", "modules", "files", "sources",
                  "packages"}, sorted(r)
# Same packages in both: sources and packages have nothing to report.
assert r["sources"] == {"added": [], "removed": [], "changed": []}, r["sources"]
assert r["packages"] == {"added": [], "removed": [], "changed": []}, r["packages"]
assert r["diff_version"] == 1 and r["identical"] is False and r["kernel"] is None
assert set(r["a"]) == {"artifact", "digest", "form", "name"} and r["a"]["form"] == "tim"
paths = {c["path"]: c for c in r["config"]}
assert paths["resources.memory_mib"]["a"] == 256 and paths["resources.memory_mib"]["b"] == 512, paths
assert "kernel.modules" in paths
assert "virtio_blk" in r["modules"]["added"] and r["modules"]["removed"] == []
changed = {c["path"]: c for c in r["files"]["changed"]}
g = changed["etc/greeting"]
assert g["fields"] == ["sha256"] and g["a"]["sha256"] != g["b"]["sha256"] and g["a"]["size"] == 4, g
assert any(f["path"].endswith("/virtio_blk.ko") and f["sha256"].startswith("sha256:") for f in r["files"]["added"])
assert r["files"]["removed"] == []
PY
check "... and exit 1" test "$("$COREC" diff --json "$WORK/a.tim" "$WORK/b.tim" >/dev/null 2>&1; echo $?)" = 1
"$COREC" diff "$WORK/a.tim" "$WORK/flipped.tim" >"$WORK/out" 2>"$WORK/err"
check "diff with an artifact that does not verify: exit 2, verify's message, nothing compared" \
  sh -c "test $? = 2 && ! test -s '$WORK/out' && grep -q 'does not match its content' '$WORK/err'"
"$COREC" diff "$WORK/a.tim" >/dev/null 2>&1
check "diff with one artifact: exit 2" test $? = 2
for cmd in inspect ls diff; do
  check "corec $cmd --help" sh -c "'$COREC' $cmd --help | grep -q 'usage: corec $cmd'"
done
finish
