#!/usr/bin/env python3
"""Bench helper: makes a big TIM cheaply. Takes a TIM corec built, replaces its initramfs blob
with the bytes of DATA (any file, e.g. 1 GiB from /dev/urandom), rewrites the app manifest,
the top index and index.json to name it, drops every signature (they no longer verify), and
writes the canonical tar of spec/tim.md to OUT, streaming DATA. The result is unsigned: sign
it for real with `corec sign --key K OUT`. It verifies but does not boot (the initramfs is
not one). Only bench/run.sh uses it; it is not part of core.

usage: bigtim.py SRC.tim DATA OUT.tim"""
import hashlib
import json
import os
import sys
import tarfile

INITRAMFS = "application/vnd.core.initramfs.v1.cpio+zstd"
DSSE = "application/vnd.dsse.envelope.v1+json"


def canon(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def header(name, size, type=b"0"):
    # The one header form of spec/tim.md, "The tar" (as tests/e2e/timtool.py writes it).
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"%06o \0" % (0o755 if type == b"5" else 0o644)
    h[108:116] = b"000000 \0"
    h[116:124] = b"000000 \0"
    h[124:136] = b"%011o " % size
    h[136:148] = b"%011o " % 0
    h[156:157] = type
    h[257:265] = b"ustar\x0000"
    h[329:345] = b"000000 \x00" * 2
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def main(src, data_path, out):
    with tarfile.open(src, "r:") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}

    def blob(digest):
        return files["blobs/sha256/" + digest.split(":", 1)[1]]

    index = json.loads(files["index.json"])
    top = json.loads(blob(index["manifests"][0]["digest"]))
    app_desc = next(m for m in top["manifests"] if m.get("artifactType") != DSSE)
    manifest = json.loads(blob(app_desc["digest"]))

    h = hashlib.sha256()
    size = 0
    with open(data_path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    big = h.hexdigest()

    keep = {}  # name -> bytes, or None for the big blob (streamed from DATA)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        keep["blobs/sha256/" + d] = data
        return "sha256:" + d, len(data)

    put(blob(manifest["config"]["digest"]))
    for layer in manifest["layers"]:
        if layer["mediaType"] == INITRAMFS:
            layer["digest"], layer["size"] = "sha256:" + big, size
            keep["blobs/sha256/" + big] = None
        else:
            put(blob(layer["digest"]))
    app_desc["digest"], app_desc["size"] = put(canon(manifest))
    top["manifests"] = [app_desc]
    index["manifests"][0]["digest"], index["manifests"][0]["size"] = put(canon(top))

    with open(out, "wb") as o:
        for name, data in ((b"oci-layout", files["oci-layout"]), (b"index.json", canon(index))):
            o.write(header(name, len(data)) + data + b"\0" * (-len(data) % 512))
        o.write(header(b"blobs/", 0, b"5") + header(b"blobs/sha256/", 0, b"5"))
        for name in sorted(keep):
            data = keep[name]
            if data is not None:
                o.write(header(name.encode(), len(data)) + data + b"\0" * (-len(data) % 512))
                continue
            o.write(header(name.encode(), size))
            with open(data_path, "rb") as f:
                while chunk := f.read(1 << 20):
                    o.write(chunk)
            o.write(b"\0" * (-size % 512))
        o.write(b"\0" * 1024)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
