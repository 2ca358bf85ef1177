#!/usr/bin/env python3
"""Test helper: takes TIM artifacts apart and puts them back together wrong, the way an
attacker or a broken disk would. Only the tests use it; it is not part of core."""
import base64
import hashlib
import io
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


def save(files, path):
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))


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


if __name__ == "__main__":
    commands = {"offsets": offsets, "flip": flip, "forge-sig": forge_sig, "strip-sig": strip_sig,
                "graft-sig": graft_sig, "envelope": envelope}
    commands[sys.argv[1]](*sys.argv[2:])
