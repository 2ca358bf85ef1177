#!/usr/bin/env python3
"""Test helper: makes malformed TIM artifacts from a genuine one built by corec, each wrong in
one way a hostile or broken file could be (spec/tim.md, "Readers"). Writes OUTDIR/NAME.tim for
each case and prints one line per case: NAME <tab> text the refusal must contain.

usage: hostile_tim.py GENUINE.tim OUTDIR
       hostile_tim.py differential GENUINE.tim ATTACK.tim   (the parser-differential check)"""
import hashlib
import json
import os
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timtool import END, canonical, entry, header, load, padded  # noqa: E402

GIB4 = 4 << 30


def pax(records):
    """A pax extended-header body: "LEN key=value\\n" records."""
    out = b""
    for key, value in records:
        rec = b" %s=%s\n" % (key, value)
        n = len(rec) + 1
        while len(str(n).encode() + rec) != n:
            n += 1
        out += str(n).encode() + rec
    return out


class Cases:
    def __init__(self, genuine, outdir):
        self.files = load(genuine)
        self.genuine = open(genuine, "rb").read()
        self.outdir = outdir
        self.ents = [(n, t, d) for n, t, d in canonical(self.files)]
        self.blobs = [n for n, t, d in self.ents if n.startswith("blobs/sha256/") and t == b"0"]
        self.small = min(self.blobs, key=lambda n: len(self.files[n]) or 1 << 40)  # a small, non-empty blob
        self.seen = set()

    def emit(self, name, data, expect):
        assert name not in self.seen, name
        self.seen.add(name)
        with open(os.path.join(self.outdir, name + ".tim"), "wb") as f:
            f.write(data)
        print(f"{name}\t{expect}")

    def tar(self, ents, end=END):
        """ents: a list of (name, type, data) or raw bytes (already serialized)."""
        return b"".join(e if isinstance(e, bytes) else entry(e[0], e[2], e[1]) for e in ents) + end

    def with_extra(self, raw, at=None):
        """The genuine entries with raw bytes inserted before entry `at` (default: before the end)."""
        ents = list(self.ents)
        ents.insert(len(ents) if at is None else at, raw)
        return self.tar(ents)

    def replace(self, index, raw):
        ents = list(self.ents)
        ents[index] = raw
        return self.tar(ents)

    def index_of(self, name):
        return next(i for i, e in enumerate(self.ents) if e[0] == name)

    def with_index(self, text):
        ents = list(self.ents)
        ents[1] = ("index.json", b"0", text if isinstance(text, bytes) else text.encode())
        return self.tar(ents)


def attack(c):
    """The pax hard-link attack: a hard link carrying data. libarchive reads the data as the
    link's content (a blob that hashes to its name); GNU tar, Python's tarfile and Go's
    archive/tar read it as further headers: here an index.json of the attacker's."""
    evil_index = json.dumps({"manifests": [], "mediaType": "application/vnd.oci.image.index.v1+json",
                             "schemaVersion": 2}, separators=(",", ":")).encode()
    hidden = entry("index.json", evil_index)
    name = "blobs/sha256/" + hashlib.sha256(hidden).hexdigest()
    body = pax([(b"path", name.encode())])
    return (header("././@PaxHeader", len(body), b"x") + padded(body) +
            header(name, len(hidden), b"1", linkname=b"oci-layout") + hidden)


def make(c):
    g = c.genuine
    layout = c.files["oci-layout"]
    index = json.loads(c.files["index.json"])
    small = c.small
    small_data = c.files[small]
    i_small = c.index_of(small)
    hexname = small[len("blobs/sha256/"):]

    # The original attack, and entry types corec never writes.
    c.emit("pax-hardlink-with-data", c.with_extra(attack(c)), "pax extended header")
    c.emit("hardlink-with-data", c.with_extra(header("blobs/sha256/" + "0" * 64, len(small_data), b"1",
                                                     linkname=small.encode()) + padded(small_data)), "hard link")
    c.emit("hardlink-no-data", c.with_extra(header("blobs/sha256/" + "0" * 64, 0, b"1", linkname=small.encode())),
           "hard link")
    c.emit("hardlink-as-index", c.replace(1, header("index.json", 0, b"1", linkname=b"oci-layout")), "hard link")
    c.emit("symlink", c.with_extra(header("blobs/sha256/" + "f" * 64, 0, b"2", linkname=b"/etc/passwd")),
           "symbolic link")
    c.emit("char-device", c.with_extra(header("blobs/sha256/" + "f" * 64, 0, b"3")), "character device")
    c.emit("block-device", c.with_extra(header("blobs/sha256/" + "f" * 64, 0, b"4")), "block device")
    c.emit("fifo", c.with_extra(header("blobs/sha256/" + "f" * 64, 0, b"6")), "FIFO")
    c.emit("contiguous-file", c.replace(i_small, header(small, len(small_data), b"7") + padded(small_data)),
           "contiguous file")
    longname = b"blobs/sha256/" + hexname.encode() + b"/" + b"x" * 100 + b"\0"
    c.emit("gnu-longname", c.with_extra(header("././@LongLink", len(longname), b"L") + padded(longname), at=i_small),
           "GNU long name")
    c.emit("gnu-longlink", c.with_extra(header("././@LongLink", len(longname), b"K") + padded(longname), at=i_small),
           "GNU long link name")
    body = pax([(b"path", b"index.json")])
    c.emit("pax-x-path", c.with_extra(header("PaxHeaders/x", len(body), b"x") + padded(body), at=i_small),
           "pax extended header")
    body = pax([(b"comment", b"hello")])
    c.emit("pax-g-global", c.with_extra(header("pax_global_header", len(body), b"g") + padded(body), at=0),
           "pax global header")
    body = pax([(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.name", small.encode()),
                (b"GNU.sparse.realsize", b"%d" % GIB4)])
    c.emit("pax-sparse-4gib", c.with_extra(header("PaxHeaders/s", len(body), b"x") + padded(body), at=i_small),
           "pax extended header")
    c.emit("gnu-sparse-ustar-magic", c.replace(i_small, header(small, len(small_data), b"S") + padded(small_data)),
           "GNU sparse file")
    # An old-GNU sparse header: one 4 KiB data chunk at the end of a 4 GiB file.
    sparse = bytearray(header(small, 512, b"S", magic=b"ustar  \0"))
    sparse[386:398] = b"%011o " % (GIB4 - 512)
    sparse[398:410] = b"%011o " % 512
    sparse[483:495] = b"%011o " % GIB4
    c.emit("gnu-sparse-4gib", c.replace(i_small, bytes(sparse) + b"\0" * 512), "old GNU tar header")
    c.emit("old-gnu-magic", c.replace(1, header("index.json", len(c.files["index.json"]), magic=b"ustar  \0") +
                                      padded(c.files["index.json"])), "old GNU tar header")
    c.emit("v7-no-magic", c.replace(1, header("index.json", len(c.files["index.json"]), b"\0", magic=b"") +
                                    padded(c.files["index.json"])), "v7 tar header")
    c.emit("unknown-type", c.with_extra(header("blobs/sha256/" + "f" * 64, 0, b"Z")), "unknown entry type")

    # Size fields.
    idx = c.files["index.json"]
    # The report's case: a 20 KiB file whose largest blob claims 4 GiB.
    big = max(c.blobs, key=lambda n: len(c.files[n]))
    i_big = c.index_of(big)
    c.emit("size-4gib-in-20k-file", c.tar(c.ents[:i_big] + [header(big, GIB4) + c.files[big][:20480]], end=b"")[:20480],
           "claims %d bytes, but only" % GIB4)
    c.emit("size-max-octal", c.replace(1, header("index.json", 0o77777777777) + padded(idx)), "claims 8589934591 bytes")
    c.emit("size-octal-overflow", c.replace(1, header("index.json", size_field=b"777777777777") + padded(idx)),
           "size field")
    c.emit("size-base256", c.replace(1, header("index.json", size_field=b"\x80" + b"\0" * 7 + len(idx).to_bytes(4, "big")) +
                                     padded(idx)), "base-256")
    c.emit("size-not-octal", c.replace(1, header("index.json", size_field=b"0000000009x ") + padded(idx)), "size field")
    c.emit("size-leading-spaces", c.replace(1, header("index.json", size_field=b"%11o " % len(idx)) + padded(idx)),
           "size field")
    c.emit("size-bigger-than-file", c.replace(1, header("index.json", len(g)) + padded(idx)), "claims %d bytes" % len(g))
    c.emit("size-one-short", c.replace(1, header("index.json", len(idx) - 1) + padded(idx)), "padding")
    c.emit("directory-with-size", c.replace(2, header("blobs/", 512, b"5") + b"\0" * 512), "claims 512 bytes of data")

    # Names.
    c.emit("name-trailing-slash", c.replace(i_small, entry(small + "/", small_data)), "unexpected entry")
    c.emit("name-dot-slash", c.replace(0, entry("./oci-layout", layout)), "is './oci-layout', expected")
    c.emit("name-dotdot", c.replace(i_small, entry("blobs/sha256/../../" + hexname[:40], small_data)), "unexpected entry")
    c.emit("name-absolute", c.replace(1, entry("/index.json", idx)), "is '/index.json', expected")
    c.emit("name-uppercase-hex", c.replace(i_small, entry(small.upper().replace("BLOBS/SHA256/", "blobs/sha256/"),
                                                          small_data)), "unexpected entry")
    c.emit("name-63-hex", c.replace(i_small, entry(small[:-1], small_data)), "unexpected entry")
    c.emit("name-65-hex", c.replace(i_small, entry(small + "0", small_data)), "unexpected entry")
    nul = bytearray(header("index.json", len(idx)))
    nul[10:14] = b"\0evil"[:4]
    nul[148:156] = b" " * 8
    nul[148:156] = b"%06o\0 " % sum(nul)
    c.emit("name-nul-trick", c.replace(1, bytes(nul) + padded(idx)), "name field")
    c.emit("name-in-prefix", c.replace(i_small, header(hexname, len(small_data), prefix=b"blobs/sha256") +
                                       padded(small_data)), "prefix field")
    c.emit("name-other-file", c.with_extra(entry("notes.txt", b"hello")), "unexpected entry 'notes.txt'")

    # Duplicates.
    c.emit("second-oci-layout-early", c.with_extra(entry("oci-layout", layout), at=2), "is 'oci-layout', expected")
    c.emit("second-oci-layout-late", c.with_extra(entry("oci-layout", layout)), "unexpected entry 'oci-layout'")
    c.emit("second-index-json", c.with_extra(entry("index.json", idx)), "unexpected entry 'index.json'")
    c.emit("duplicate-blob", c.with_extra(entry(small, small_data), at=i_small), "appears twice")

    # Order.
    ents = list(c.ents)
    ents[0], ents[1] = ents[1], ents[0]
    c.emit("order-index-first", c.tar(ents), "is 'index.json', expected the file 'oci-layout'")
    ents = list(c.ents)
    ents[4], ents[5] = ents[5], ents[4]
    c.emit("order-blobs-unsorted", c.tar(ents), "out of order")
    c.emit("order-no-directories", c.tar(c.ents[:2] + c.ents[4:]), "expected the directory 'blobs/'")
    ents = list(c.ents)
    ents[2], ents[3] = ents[3], ents[2]
    c.emit("order-directories-swapped", c.tar(ents), "expected the directory 'blobs/'")
    c.emit("no-index", c.tar(c.ents[:1]), "ends before its 'index.json' entry")

    # Non-canonical metadata.
    c.emit("meta-mode", c.replace(1, header("index.json", len(idx), mode=0o755) + padded(idx)), "mode field")
    c.emit("meta-uid", c.replace(1, header("index.json", len(idx), uid=1000) + padded(idx)), "uid field")
    c.emit("meta-mtime", c.replace(1, header("index.json", len(idx), mtime=1700000000) + padded(idx)), "mtime field")
    c.emit("meta-uname", c.replace(1, header("index.json", len(idx), uname=b"root") + padded(idx)), "uname field")
    c.emit("meta-linkname", c.replace(1, header("index.json", len(idx), linkname=b"x") + padded(idx)), "linkname field")
    c.emit("meta-checksum-wrong", c.replace(1, header("index.json", len(idx), checksum=b"000000\0 ") + padded(idx)),
           "wrong checksum")
    h = bytearray(header("index.json", len(idx)))
    value = int(h[148:154], 8)
    c.emit("meta-checksum-form", c.replace(1, bytes(h[:148]) + b"%07o\0" % value + bytes(h[156:]) + padded(idx)),
           "checksum field")
    h = bytearray(header("index.json", len(idx)))
    h[329:345] = b"\0" * 16
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    c.emit("meta-devmajor", c.replace(1, bytes(h) + padded(idx)), "devmajor field")
    c.emit("padding-not-zero", c.replace(1, header("index.json", len(idx)) + idx + b"x" * (-len(idx) % 512)), "padding")

    # The end of the archive.
    c.emit("trailing-zero-block", g + b"\0" * 512, "after its end-of-archive marker")
    c.emit("trailing-garbage", g + b"hello", "after its end-of-archive marker")
    c.emit("trailing-entry", g + entry("index.json", idx) + END, "after its end-of-archive marker")
    c.emit("record-padding-10240", g + b"\0" * (-len(g) % 10240 or 10240), "after its end-of-archive marker")
    c.emit("one-zero-block", g[:-512], "truncated")
    c.emit("no-end-marker", g[:-1024], "truncated")
    c.emit("zero-block-then-entry", g[:-1024] + b"\0" * 512 + entry("index.json", idx) + END, "single zero block")

    # Truncation at many points: inside headers, inside data, at block boundaries.
    offsets = sorted({512, 700, 1024, 1536, 2048, 2560, 3072, 3072 + 100, len(g) // 2, len(g) - 1536, len(g) - 1000,
                      len(g) - 513})
    for cut in offsets:
        c.emit("truncated-at-%d" % cut, g[:cut], "truncated")
    c.emit("truncated-at-300", g[:300], "only 300 bytes")
    c.emit("empty-file", b"", "only 0 bytes")

    # oci-layout: exactly the one content corec writes.
    for label, text in [("newline", layout + b"\n"), ("space", b'{"imageLayoutVersion": "1.0.0"}'),
                        ("version-2", b'{"imageLayoutVersion":"2.0.0"}'), ("empty-object", b"{}"), ("empty", b""),
                        ("substring", b'{"x":"\\"imageLayoutVersion\\""}'),
                        ("duplicate-key", b'{"imageLayoutVersion":"1.0.0","imageLayoutVersion":"9"}')]:
        c.emit("oci-layout-" + label, c.replace(0, entry("oci-layout", text)), "oci-layout is not")

    # JSON shapes of index.json and the top index.
    desc = index["manifests"][0]
    text = c.files["index.json"].decode()
    c.emit("json-duplicate-key", c.with_index(text[:-1] + ',"schemaVersion":2}'), "duplicate")
    two = dict(index, manifests=[desc, desc])
    c.emit("json-two-entries", c.with_index(json.dumps(two)), "exactly one image index, not 2")
    c.emit("json-no-entries", c.with_index(json.dumps(dict(index, manifests=[]))), "exactly one image index, not 0")
    c.emit("json-index-media-type", c.with_index(json.dumps(dict(index, mediaType="application/json"))), "media type")
    c.emit("json-schema-string", c.with_index(json.dumps(dict(index, schemaVersion="2"))), "schemaVersion 2")
    c.emit("json-not-object", c.with_index("[]"), "not a JSON object")
    c.emit("json-size-string", c.with_index(json.dumps(dict(index, manifests=[dict(desc, size=str(desc["size"]))]))),
           "malformed descriptor")
    c.emit("json-size-float", c.with_index(json.dumps(dict(index, manifests=[dict(desc, size=desc["size"] + 0.0)]))),
           "malformed descriptor")
    c.emit("json-size-disagrees", c.with_index(json.dumps(dict(index, manifests=[dict(desc, size=desc["size"] + 1)]))),
           "descriptor says")
    c.emit("json-size-over-cap", c.with_index(json.dumps(dict(index, manifests=[dict(desc, size=1 << 40)]))),
           "more than the 4194304")
    c.emit("json-no-digest", c.with_index(json.dumps(dict(index, manifests=[{k: v for k, v in desc.items()
                                                                              if k != "digest"}]))),
           "malformed descriptor")
    c.emit("json-entry-manifest-type",
           c.with_index(json.dumps(dict(index, manifests=[dict(desc, mediaType="application/vnd.oci.image.manifest.v1+json")]))),
           "media type")
    # The top index with a duplicate key: two readers could pick two different app manifests.
    top = c.files["blobs/sha256/" + desc["digest"][7:]].decode()
    dup = (top[:-1] + ',"manifests":[]}').encode()
    files = dict(c.files)
    files["blobs/sha256/" + hashlib.sha256(dup).hexdigest()] = dup
    files["index.json"] = json.dumps(dict(index, manifests=[dict(desc, digest="sha256:" + hashlib.sha256(dup).hexdigest(),
                                                                   size=len(dup))])).encode()
    c.emit("json-top-index-duplicate-key", c.tar(canonical(files)), "duplicate")


def differential(genuine, attack_path):
    """Python's tarfile reads another index.json from the attack file than from the genuine one."""
    def index_of(path):
        with tarfile.open(path, "r:") as tar:
            return tar.extractfile(tar.getmember("index.json")).read()
    a, b = index_of(genuine), index_of(attack_path)
    print("genuine index.json: %s\nattack index.json as tarfile reads it: %s" % (a.decode(), b.decode()))
    sys.exit(0 if a != b else 1)


if __name__ == "__main__":
    if sys.argv[1] == "differential":
        differential(sys.argv[2], sys.argv[3])
    else:
        make(Cases(sys.argv[1], sys.argv[2]))
