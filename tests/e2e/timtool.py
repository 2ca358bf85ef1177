#!/usr/bin/env python3
"""Test helper: takes TIM artifacts apart and puts them back together wrong, the way an
attacker or a broken disk would. Only the tests use it; it is not part of core."""
import base64
import hashlib
import json
import sys
import tarfile


def load(path):
    with tarfile.open(path, "r:") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return files


def blob(files, digest):
    return files["blobs/sha256/" + digest.split(":", 1)[1]]


def put_json(files, obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + digest[7:]] = data
    return digest, len(data)


# The canonical tar of spec/tim.md, written independently of lib/tim_format.c so that a test
# comparing the two catches a drift in either. Keyword arguments make one field wrong on purpose.
def header(name, size=0, type=b"0", mode=None, uid=0, gid=0, mtime=0, linkname=b"", magic=b"ustar\x0000",
           uname=b"", gname=b"", prefix=b"", size_field=None, checksum=None):
    name = name.encode() if isinstance(name, str) else name
    h = bytearray(512)
    h[0:len(name)] = name[:100]
    h[100:108] = b"%06o \0" % (mode if mode is not None else (0o755 if type == b"5" else 0o644))
    h[108:116] = b"%06o \0" % uid
    h[116:124] = b"%06o \0" % gid
    h[124:136] = size_field if size_field is not None else b"%011o " % size
    h[136:148] = b"%011o " % mtime
    h[156:157] = type
    h[157:157 + len(linkname)] = linkname
    h[257:257 + len(magic)] = magic
    h[265:265 + len(uname)] = uname
    h[297:297 + len(gname)] = gname
    h[329:345] = b"000000 \x00" * 2
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    h[148:156] = checksum if checksum is not None else b"%06o\0 " % sum(h)
    return bytes(h)


def padded(data):
    return data + b"\0" * (-len(data) % 512)


def entry(name, data=b"", type=b"0", **fields):
    return header(name, len(data), type, **fields) + padded(data)


END = b"\0" * 1024


def canonical(files):
    """The entries of a TIM in the order corec writes them, as (name, type, data)."""
    out = [("oci-layout", b"0", files["oci-layout"]), ("index.json", b"0", files["index.json"]),
           ("blobs/", b"5", b""), ("blobs/sha256/", b"5", b"")]
    out += [(n, b"0", files[n]) for n in sorted(files) if n.startswith("blobs/sha256/")]
    return out


def save(files, path):
    with open(path, "wb") as f:
        for name, type, data in canonical(files):
            f.write(entry(name, data, type))
        f.write(END)


def resave(path, out):
    """Reads a TIM and writes it again: equal bytes when this file and corec agree on the format."""
    save(load(path), out)


def top_index(files):
    index = json.loads(files["index.json"])
    desc = index["manifests"][0]
    return index, desc, json.loads(blob(files, desc["digest"]))


def rewrite_top(files, index, desc, top):
    desc["digest"], desc["size"] = put_json(files, top)
    files["index.json"] = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()


def offsets(path):
    """name, size and data offset of every member, to flip bytes at known places."""
    with tarfile.open(path, "r:") as tar:
        for m in tar.getmembers():
            if m.isfile():
                print(f"{m.name}\t{m.size}\t{m.offset_data}")


def flip(path, out, offset):
    data = bytearray(open(path, "rb").read())
    data[int(offset)] ^= 0x01
    open(out, "wb").write(data)


def sig_manifest(files, top):
    entry = next(m for m in top["manifests"] if m.get("artifactType") == "application/vnd.dsse.envelope.v1+json")
    return entry, json.loads(blob(files, entry["digest"]))


def forge_sig(path, out):
    """Changes the signature bytes and re-hashes everything above them: only the signature check can catch it."""
    files = load(path)
    index, desc, top = top_index(files)
    entry, manifest = sig_manifest(files, top)
    env = json.loads(blob(files, manifest["layers"][0]["digest"]))
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[10] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    manifest["layers"][0]["digest"], manifest["layers"][0]["size"] = put_json(files, env)
    entry["digest"], entry["size"] = put_json(files, manifest)
    rewrite_top(files, index, desc, top)
    save(files, out)


def set_keyid(files, entry, manifest, keyid):
    """Writes keyid into a signature manifest's envelope and annotation, re-pointing entry at it."""
    env = json.loads(blob(files, manifest["layers"][0]["digest"]))
    env["signatures"][0]["keyid"] = keyid
    manifest["annotations"]["dev.core.signature.keyid"] = keyid
    manifest["layers"][0]["digest"], manifest["layers"][0]["size"] = put_json(files, env)
    entry["digest"], entry["size"] = put_json(files, manifest)


def claim_keyid(path, keyid, out):
    """Makes the signature claim another key's id: the id is outside what is signed, so anyone can."""
    files = load(path)
    index, desc, top = top_index(files)
    entry, manifest = sig_manifest(files, top)
    set_keyid(files, entry, manifest, keyid)
    rewrite_top(files, index, desc, top)
    save(files, out)


def strip_sig(path, out):
    files = load(path)
    index, desc, top = top_index(files)
    top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != "application/vnd.dsse.envelope.v1+json"]
    rewrite_top(files, index, desc, top)
    save(files, out)


def graft_sig(path, donor, out):
    """Puts a valid signature of another artifact into this one."""
    files, other = load(path), load(donor)
    index, desc, top = top_index(files)
    entry, manifest = sig_manifest(files, top)
    _, _, other_top = top_index(other)
    _, other_manifest = sig_manifest(other, other_top)
    env = blob(other, other_manifest["layers"][0]["digest"])
    files["blobs/sha256/" + hashlib.sha256(env).hexdigest()] = env
    manifest["layers"][0]["digest"] = "sha256:" + hashlib.sha256(env).hexdigest()
    manifest["layers"][0]["size"] = len(env)
    entry["digest"], entry["size"] = put_json(files, manifest)
    rewrite_top(files, index, desc, top)
    save(files, out)


def envelope(path):
    """Prints the DSSE envelope of the artifact's signature."""
    files = load(path)
    _, _, top = top_index(files)
    _, manifest = sig_manifest(files, top)
    sys.stdout.buffer.write(blob(files, manifest["layers"][0]["digest"]))


DSSE = "application/vnd.dsse.envelope.v1+json"
VERSION_ANNOTATION = "org.opencontainers.image.version"


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def sign_with(key_pem, message):
    """Ed25519 over the message with OpenSSL itself, independently of linker/sign.c."""
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile() as msg:
        msg.write(message)
        msg.flush()
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key_pem, "-in", msg.name],
                              check=True, capture_output=True).stdout


def key_id(key_pem):
    import subprocess
    der = subprocess.run(["openssl", "pkey", "-in", key_pem, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def app_entry(top):
    return next(m for m in top["manifests"] if m.get("artifactType") == "application/vnd.core.tim.v1")


def statement_for(files, app):
    manifest = json.loads(blob(files, app["digest"]))
    name = manifest.get("annotations", {}).get("dev.core.app.name", "")
    st = {"_type": "https://in-toto.io/Statement/v1",
          "predicate": {"manifest": {"mediaType": app["mediaType"], "size": app["size"]}},
          "predicateType": "urn:core:predicate:artifact:v1",
          "subject": [{"digest": {"sha256": app["digest"][7:]}, "name": name}]}
    return json.dumps(st, separators=(",", ":"), sort_keys=True).encode()


def append_sig(files, top, key_pem):
    """Signs the app manifest's statement with key_pem and lists a new signature manifest for it."""
    app = app_entry(top)
    body = statement_for(files, app)
    payload_type = "application/vnd.in-toto+json"
    keyid = key_id(key_pem)
    env = {"payload": base64.b64encode(body).decode(), "payloadType": payload_type,
           "signatures": [{"keyid": keyid, "sig": base64.b64encode(sign_with(key_pem, pae(payload_type, body))).decode()}]}
    env_digest, env_size = put_json(files, env)
    empty_digest = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    files["blobs/sha256/" + empty_digest[7:]] = b"{}"
    sig = {"annotations": {"dev.core.signature.keyid": keyid}, "artifactType": DSSE,
           "config": {"digest": empty_digest, "mediaType": "application/vnd.oci.empty.v1+json", "size": 2},
           "layers": [{"digest": env_digest, "mediaType": DSSE, "size": env_size}],
           "mediaType": "application/vnd.oci.image.manifest.v1+json", "schemaVersion": 2,
           "subject": {"digest": app["digest"], "mediaType": app["mediaType"], "size": app["size"]}}
    digest, size = put_json(files, sig)
    top["manifests"].append({"artifactType": DSSE, "digest": digest,
                             "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": size})


def drop_unreferenced(files):
    """Keeps only the blobs the index reaches, as corec would have written them."""
    keep = set()

    def walk(digest):
        keep.add(digest[7:])
        doc = json.loads(blob(files, digest))
        for d in doc.get("manifests", []):
            walk(d["digest"])
        for d in [doc.get("config")] + doc.get("layers", []):
            if d:
                keep.add(d["digest"][7:])

    walk(json.loads(files["index.json"])["manifests"][0]["digest"])
    for name in [n for n in files if n.startswith("blobs/sha256/") and n[13:] not in keep]:
        del files[name]


def add_sig(path, key_pem, out):
    """Adds a signature by another key (the publisher's second signer), keeping the others."""
    files = load(path)
    index, desc, top = top_index(files)
    append_sig(files, top, key_pem)
    rewrite_top(files, index, desc, top)
    save(files, out)


def set_version(path, version, key_pem, out):
    """Gives the app manifest a version annotation: a new manifest, so the old signatures no longer
    apply; they are dropped and key_pem signs the new one."""
    files = load(path)
    index, desc, top = top_index(files)
    app = app_entry(top)
    manifest = json.loads(blob(files, app["digest"]))
    manifest.setdefault("annotations", {})[VERSION_ANNOTATION] = version
    app["digest"], app["size"] = put_json(files, manifest)
    top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != DSSE]
    append_sig(files, top, key_pem)
    rewrite_top(files, index, desc, top)
    drop_unreferenced(files)
    save(files, out)


def sig_keyid(path):
    """Prints the key id the artifact's first signature claims (a trusted key's, for a genuine one)."""
    files = load(path)
    _, _, top = top_index(files)
    _, manifest = sig_manifest(files, top)
    print(json.loads(blob(files, manifest["layers"][0]["digest"]))["signatures"][0]["keyid"])


def claim_sig(path, key_pem, keyid, out, keep="drop"):
    """A genuine Ed25519 signature of this app manifest's statement by key_pem, claiming keyid
    ("own": key_pem's id) in the envelope and the signature manifest. keep="keep" leaves the
    artifact's own signatures beside it; otherwise it is the only one."""
    files = load(path)
    index, desc, top = top_index(files)
    if keep != "keep":
        top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != DSSE]
    append_sig(files, top, key_pem)
    if keyid != "own":
        entry = top["manifests"][-1]
        set_keyid(files, entry, json.loads(blob(files, entry["digest"])), keyid)
    rewrite_top(files, index, desc, top)
    drop_unreferenced(files)
    save(files, out)


def replay_sig(path, old, out, mode="as-is"):
    """Gives the artifact at path the signature of an older artifact (old). mode "as-is": old's
    signature manifests (their subject old's app manifest) and envelopes replace path's own;
    "resubject": old's envelope in a signature manifest whose subject is path's app manifest."""
    files, before = load(path), load(old)
    index, desc, top = top_index(files)
    _, _, old_top = top_index(before)
    old_sigs = [m for m in old_top["manifests"] if m.get("artifactType") == DSSE]
    if mode == "as-is":
        top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != DSSE] + old_sigs
        for m in old_sigs:
            files["blobs/sha256/" + m["digest"][7:]] = blob(before, m["digest"])
            sm = json.loads(blob(before, m["digest"]))
            for d in [sm["config"]] + sm["layers"]:
                files["blobs/sha256/" + d["digest"][7:]] = blob(before, d["digest"])
    else:
        entry, manifest = sig_manifest(files, top)
        _, old_manifest = sig_manifest(before, old_top)
        env = blob(before, old_manifest["layers"][0]["digest"])
        files["blobs/sha256/" + hashlib.sha256(env).hexdigest()] = env
        manifest["layers"][0] = dict(old_manifest["layers"][0])
        manifest["annotations"] = dict(old_manifest["annotations"])
        entry["digest"], entry["size"] = put_json(files, manifest)
    rewrite_top(files, index, desc, top)
    drop_unreferenced(files)
    save(files, out)


def repoint(path, digest, new_blob, out):
    """Replaces the blob the app manifest names with digest (config or a layer) by the bytes of
    the file new_blob: the descriptor gets their digest and size (media type and annotations
    stay), and the app manifest, top index and index.json are made consistent again, so only the
    signature can object. For a re-encrypted layer: the same plaintext, another ciphertext."""
    files = load(path)
    data = open(new_blob, "rb").read()
    index, desc, top = top_index(files)
    app = app_entry(top)
    manifest = json.loads(blob(files, app["digest"]))
    descs = [d for d in [manifest.get("config")] + manifest.get("layers", []) if d and d["digest"] == digest]
    if not descs:
        sys.exit("timtool: the app manifest names no blob " + digest)
    for d in descs:
        d["digest"], d["size"] = "sha256:" + hashlib.sha256(data).hexdigest(), len(data)
    files["blobs/sha256/" + hashlib.sha256(data).hexdigest()] = data
    app["digest"], app["size"] = put_json(files, manifest)
    rewrite_top(files, index, desc, top)
    drop_unreferenced(files)
    save(files, out)


def unpack(path, out):
    """Writes the app's parts under out, named by role rather than by digest, so two builds can be
    compared part by part by another tool (diffoscope): manifest.json, config.json, and each layer
    under its title annotation (vmlinuz, initramfs, ...)."""
    import os
    files = load(path)
    _, _, top = top_index(files)
    app = app_entry(top)
    manifest_bytes = blob(files, app["digest"])
    manifest = json.loads(manifest_bytes)
    os.makedirs(out, exist_ok=True)
    parts = {"manifest.json": manifest_bytes, "config.json": blob(files, manifest["config"]["digest"])}
    for layer in manifest["layers"]:
        title = layer.get("annotations", {}).get("org.opencontainers.image.title")
        if not title or "/" in title or title in parts:
            sys.exit("timtool: a layer without a usable title: " + layer["digest"])
        parts[title] = blob(files, layer["digest"])
    for name, data in parts.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    commands = {"offsets": offsets, "flip": flip, "forge-sig": forge_sig, "strip-sig": strip_sig,
                "graft-sig": graft_sig, "envelope": envelope, "resave": resave,
                "claim-keyid": claim_keyid, "add-sig": add_sig, "set-version": set_version,
                "sig-keyid": sig_keyid, "claim-sig": claim_sig, "replay-sig": replay_sig, "repoint": repoint,
                "unpack": unpack}
    commands[sys.argv[1]](*sys.argv[2:])
