#!/usr/bin/env python3
"""Test helper: makes an OCI image layout (one gzip layer) from a directory, so tests can
push real images to a real registry with skopeo. Only the tests use it; it is not part of core.
usage: oci_image.py SOURCE-DIR LAYOUT-DIR TAG"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
    with open(f"{layout}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def layer_of(src):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(dirs + files):
                path = os.path.join(root, name)
                info = tar.gettarinfo(path, os.path.relpath(path, src))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), hashlib.sha256(tar_bytes).hexdigest()


def main(src, layout, tag):
    layer, diff_id = layer_of(src)
    layer_desc = blob(layout, layer)
    layer_desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    config = {"architecture": "amd64", "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}
    config_desc = blob(layout, json.dumps(config, sort_keys=True).encode())
    config_desc["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = blob(layout, json.dumps(manifest, sort_keys=True).encode())
    manifest_desc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(f"{layout}/oci-layout", "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(f"{layout}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest_desc]}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
