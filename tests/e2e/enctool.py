#!/usr/bin/env python3
"""Test helper for encrypted TIMs: takes the initramfs ciphertext out of one and puts another in.
Builds on timtool (same directory); only the tests use it."""
import hashlib
import json
import sys

import timtool

AGE_TYPE = "application/vnd.core.initramfs.v1.cpio+zstd+age"
DSSE = timtool.DSSE


def initramfs_layer(files):
    index, desc, top = timtool.top_index(files)
    app = timtool.app_entry(top)
    manifest = json.loads(timtool.blob(files, app["digest"]))
    layer = next(l for l in manifest["layers"] if l["mediaType"].startswith("application/vnd.core.initramfs."))
    return index, desc, top, app, manifest, layer


def extract(path, out):
    """Writes the initramfs blob as stored (the age file of an encrypted artifact)."""
    files = timtool.load(path)
    layer = initramfs_layer(files)[5]
    with open(out, "wb") as f:
        f.write(timtool.blob(files, layer["digest"]))


def annotation(path, key):
    files = timtool.load(path)
    print(initramfs_layer(files)[5].get("annotations", {}).get(key, ""))


def replace(path, new_blob, out, keep_signatures="drop", plaintext=None):
    """Puts NEW_BLOB in as the initramfs and re-points the manifest at it; with PLAINTEXT (a file),
    the plaintext annotations name it, else they are kept. The old signatures name the old
    manifest: dropped (for corec sign to sign anew) or kept ("keep")."""
    files = timtool.load(path)
    index, desc, top, app, manifest, layer = initramfs_layer(files)
    data = open(new_blob, "rb").read()
    if plaintext:
        h, n = hashlib.sha256(), 0
        with open(plaintext, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
        layer["annotations"]["dev.core.plaintext.digest"] = "sha256:" + h.hexdigest()
        layer["annotations"]["dev.core.plaintext.size"] = str(n)
    layer["digest"] = "sha256:" + hashlib.sha256(data).hexdigest()
    layer["size"] = len(data)
    files["blobs/sha256/" + layer["digest"][7:]] = data
    app["digest"], app["size"] = timtool.put_json(files, manifest)
    if keep_signatures != "keep":
        top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != DSSE]
    timtool.rewrite_top(files, index, desc, top)
    timtool.drop_unreferenced(files)
    timtool.save(files, out)


def set_annotation(path, key, value, out):
    """Sets (or with value "-", removes) one annotation of the initramfs layer; the signatures
    no longer apply and are dropped, for timtool add-sig to sign the result."""
    files = timtool.load(path)
    index, desc, top, app, manifest, layer = initramfs_layer(files)
    if value == "-":
        layer["annotations"].pop(key, None)
    else:
        layer["annotations"][key] = value
    app["digest"], app["size"] = timtool.put_json(files, manifest)
    top["manifests"] = [m for m in top["manifests"] if m.get("artifactType") != DSSE]
    timtool.rewrite_top(files, index, desc, top)
    timtool.drop_unreferenced(files)
    timtool.save(files, out)


def swap_blob(path, new_blob, out):
    """Puts NEW_BLOB's bytes under the initramfs's old name, leaving every JSON document alone."""
    files = timtool.load(path)
    layer = initramfs_layer(files)[5]
    files["blobs/sha256/" + layer["digest"][7:]] = open(new_blob, "rb").read()
    timtool.save(files, out)


if __name__ == "__main__":
    commands = {"extract": extract, "annotation": annotation, "replace": replace, "swap-blob": swap_blob,
                "set-annotation": set_annotation}
    commands[sys.argv[1]](*sys.argv[2:])
