#!/usr/bin/env python3
"""Test helper for the disk forms (spec/formats.md): finds the signed metadata tar in a raw
disk, qcow2 or ISO file on its own (qemu-img map for qcow2), lists where everything is, and
takes the tar out. Only the tests use it; it is not part of core."""
import io
import json
import subprocess
import sys
import tarfile


def form(path):
    with open(path, "rb") as f:
        head = f.read(512 + 8)
        f.seek(16 * 2048 + 1)
        cd = f.read(5)
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if cd == b"CD001":
        return "iso"
    if head[512:520] == b"EFI PART":
        return "raw"
    raise SystemExit(f"{path}: not a disk form")


def file_offset(path, at):
    """Where byte AT of the disk is in the file: the same for raw and ISO; for qcow2, what
    qemu-img map (not core's reader) says."""
    at = int(at)
    if form(path) != "qcow2":
        return at
    out = subprocess.run(["qemu-img", "map", "--output=json", "-f", "qcow2", path], check=True,
                         capture_output=True, text=True).stdout
    for m in json.loads(out):
        if m["data"] and m["start"] <= at < m["start"] + m["length"]:
            return m["offset"] + at - m["start"]
    raise SystemExit(f"{path}: byte {at} of the disk is not allocated")


def meta_offset(path):
    return 20 * 2048 if form(path) == "iso" else file_offset(path, 1 << 20)


def meta_tar(path):
    at = meta_offset(path)
    with open(path, "rb") as f:
        f.seek(at)
        data = f.read(64 << 20)
    return at, data


def info(path):
    """KEY VALUE lines: the region, the manifest's annotations, where each blob's data is."""
    at, data = meta_tar(path)
    print("meta_offset", at)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
        for m in members:
            if m.isfile():
                print("entry", m.name, at + m.offset_data, m.size)
        end = max(m.offset_data + m.size for m in members if m.isfile())
        print("tar_end", at + ((end + 511) // 512) * 512 + 1024)
    index = json.loads(files["index.json"])
    top = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"][7:]])
    for desc in top["manifests"]:
        doc = json.loads(files["blobs/sha256/" + desc["digest"][7:]])
        if desc.get("artifactType") == "application/vnd.core.tim.v1":
            print("manifest_digest", desc["digest"])
            for k, v in sorted(doc["annotations"].items()):
                print("ann", k, v)
            for layer in doc["layers"]:
                if "dev.core.image.offset" not in layer.get("annotations", {}):
                    continue  # the SBOM and provenance: in the metadata, not on the disk
                kind = "kernel" if "kernel" in layer["mediaType"] else "initramfs"
                print(kind, layer["annotations"]["dev.core.image.offset"], layer["size"])
        else:
            print("signature_envelope", doc["layers"][0]["digest"][7:])


def extract(path, out):
    at, data = meta_tar(path)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        end = max(m.offset_data + m.size for m in tar.getmembers() if m.isfile())
    with open(out, "wb") as f:
        f.write(data[: ((end + 511) // 512) * 512 + 1024])


if __name__ == "__main__":
    commands = {"info": info, "extract": extract, "form": lambda p: print(form(p)),
                "fileoff": lambda p, at: print(file_offset(p, at))}
    commands[sys.argv[1]](*sys.argv[2:])
