#!/usr/bin/env python3
"""The tamper suite's cases and their runner (tests/e2e/33_tamper_suite.sh).

Every case is derived from the artifact itself, so the same code covers any TIM (signed,
encrypted, with more signatures): it parses the tar on its own (not with tarfile, which would
tolerate what it should enumerate) and the JSON documents inside it, and lists

  flip-random   one flipped bit at N offsets spread evenly over the whole file (one seeded
                random offset in each of N equal strata, a seeded random bit);
  flip-struct   one flipped bit in every structural field: each field of every tar header
                (first and last byte; the name's terminating NUL), the first and last byte of
                each entry's data and padding, bytes of the two terminating zero blocks, and
                the first byte of every JSON token (each key, value and punctuation) of
                oci-layout, index.json and every blob that is JSON (top index, manifests,
                config, signature manifests, DSSE envelopes);
  truncate      the file cut at every entry boundary (header, data, padding, end marker) and
                one byte either side, and at a seeded spread of lengths;
  swap          blobs exchanged with a second valid artifact: bytes replaced under the same
                name, and the app manifest (or the top index) re-pointed at the other's blob
                with every digest above it made consistent again.

`run` applies each case to a private working copy per worker (a flip is undone after its run,
a truncation only shortens the copy further, a swap writes one temporary file), runs corerun
with a stand-in QEMU that records whether it was started, and prints one TSV line per class:
class, cases, failures, and the failures as "label: what went wrong" joined by " | ".
A case passes when corerun exits 125, says why on stderr, and the stand-in never ran.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import timtool  # noqa: E402

BLOCK = 512
# The ustar header fields (spec/tim.md, The tar), as (name, offset, length).
FIELDS = [("name", 0, 100), ("mode", 100, 8), ("uid", 108, 8), ("gid", 116, 8), ("size", 124, 12),
          ("mtime", 136, 12), ("chksum", 148, 8), ("typeflag", 156, 1), ("linkname", 157, 100),
          ("magic", 257, 6), ("version", 263, 2), ("uname", 265, 32), ("gname", 297, 32),
          ("devmajor", 329, 8), ("devminor", 337, 8), ("prefix", 345, 155), ("padding", 500, 12)]


def parse_tar(data):
    """The entries of a TIM as dicts (name, header_at, data_at, size, end) and the offset of the
    end-of-archive marker. Trusts only what it must: the genuine artifact is corec's output."""
    entries, at = [], 0
    while at + BLOCK <= len(data):
        h = data[at:at + BLOCK]
        if h == b"\0" * BLOCK:
            return entries, at
        name = h[0:100].split(b"\0", 1)[0].decode()
        size = int(h[124:135], 8)
        end = at + BLOCK + size + (-size % BLOCK)
        entries.append({"name": name, "header_at": at, "data_at": at + BLOCK, "size": size, "end": end})
        at = end
    raise SystemExit("tamper_cases: the genuine artifact has no end-of-archive marker")


def roles(data, entries):
    """A short label per entry: what the layout uses it for (kernel, app-manifest, sig0-envelope...)."""
    by_name = {e["name"]: data[e["data_at"]:e["data_at"] + e["size"]] for e in entries}
    out = {"oci-layout": "oci-layout", "index.json": "index.json", "blobs/": "blobs/", "blobs/sha256/": "blobs/sha256/"}

    def blob(d):
        return by_name.get("blobs/sha256/" + d[7:])

    def name(d, role):
        out.setdefault("blobs/sha256/" + d[7:], role)

    try:
        top_desc = json.loads(by_name["index.json"])["manifests"][0]
        name(top_desc["digest"], "top-index")
        top = json.loads(blob(top_desc["digest"]))
        n_sig = 0
        for m in top["manifests"]:
            if m.get("artifactType") == timtool.DSSE:
                prefix, n_sig = "sig%d-" % n_sig, n_sig + 1
                name(m["digest"], prefix + "manifest")
            else:
                prefix = "app-"
                name(m["digest"], "app-manifest")
            man = json.loads(blob(m["digest"]))
            if man.get("config"):
                name(man["config"]["digest"], prefix + "config")
            for i, layer in enumerate(man.get("layers", [])):
                title = layer.get("annotations", {}).get("org.opencontainers.image.title")
                role = prefix + (title or ("envelope" if layer.get("mediaType") == timtool.DSSE else "layer%d" % i))
                name(layer["digest"], role)
    except (KeyError, ValueError, TypeError, IndexError):
        pass  # a label is only a label: anything unnamed keeps its digest
    return {e["name"]: out.get(e["name"], e["name"][13:25] + "...") for e in entries}


def json_tokens(text):
    """(offset, path) of the first byte of every token of a JSON document: keys, values and
    punctuation, with the path of the value it belongs to (manifests[0].digest)."""
    toks, i = [], 0

    def ws():
        nonlocal i
        while i < len(text) and text[i] in b" \t\r\n":
            i += 1

    def string():
        nonlocal i
        start = i
        i += 1
        while text[i] != 0x22:
            i += 2 if text[i] == 0x5c else 1
        i += 1
        return text[start + 1:i - 1].decode("utf-8", "replace")

    def value(path):
        nonlocal i
        ws()
        c = text[i]
        if c == 0x7b:  # {
            toks.append((i, path + "{"))
            i += 1
            ws()
            if text[i] == 0x7d:
                toks.append((i, path + "}"))
                i += 1
                return
            while True:
                ws()
                at = i
                key = string()
                toks.append((at + 1 if key else at, (path + "." if path else "") + key + " (key)"))
                ws()
                toks.append((i, (path + "." if path else "") + key + ":"))
                i += 1
                value((path + "." if path else "") + key)
                ws()
                toks.append((i, path + ("," if text[i] == 0x2c else "}")))
                i += 1
                if text[i - 1] == 0x7d:
                    return
        elif c == 0x5b:  # [
            toks.append((i, path + "["))
            i += 1
            ws()
            if text[i] == 0x5d:
                toks.append((i, path + "]"))
                i += 1
                return
            n = 0
            while True:
                value("%s[%d]" % (path, n))
                n += 1
                ws()
                toks.append((i, path + ("," if text[i] == 0x2c else "]")))
                i += 1
                if text[i - 1] == 0x5d:
                    return
        elif c == 0x22:
            at = i
            s = string()
            # the first byte of the string's content (its quote when empty) and its last
            toks.append((at + 1 if len(s) else at, path + " (value)"))
            if i - at > 3:
                toks.append((i - 2, path + " (value, last byte)"))
        else:
            at = i
            while i < len(text) and text[i] not in b",]} \t\r\n":
                i += 1
            toks.append((at, path + " (value)"))

    value("")
    return toks


def structural(data):
    """One flip (bit 0, which keeps a digit a digit and a letter a letter: the subtle change)
    per structural field, as (offset, bit, label)."""
    entries, end_at = parse_tar(data)
    role = roles(data, entries)
    cases = []
    for e in entries:
        r, h = role[e["name"]], e["header_at"]
        for field, off, n in FIELDS:
            cases.append((h + off, 0, "%s header %s" % (r, field)))
        cases.append((h + len(e["name"].encode()), 0, "%s header name's NUL" % r))
        if e["size"]:
            cases.append((e["data_at"], 0, "%s data (first byte)" % r))
            cases.append((e["data_at"] + e["size"] - 1, 0, "%s data (last byte)" % r))
        if e["end"] > e["data_at"] + e["size"]:
            cases.append((e["data_at"] + e["size"], 0, "%s padding (first byte)" % r))
            cases.append((e["end"] - 1, 0, "%s padding (last byte)" % r))
        body = data[e["data_at"]:e["data_at"] + e["size"]]
        if e["size"] and body[:1] in (b"{", b"[") and e["size"] <= 4 << 20:
            try:
                json.loads(body)
            except ValueError:
                continue
            for off, path in json_tokens(body):
                # In a blob every byte is under its digest, so keys and values stand for the
                # rest; index.json is under no digest: there, every token.
                if e["name"].startswith("blobs/") and not path.endswith(")"):
                    continue
                cases.append((e["data_at"] + off, 0, "%s JSON %s" % (r, path)))
    for k, name in ((0, "first"), (1, "second")):
        b = end_at + k * BLOCK
        for off, where in ((0, "first byte"), (BLOCK // 2, "middle"), (BLOCK - 1, "last byte")):
            cases.append((b + off, 0, "end marker, %s zero block (%s)" % (name, where)))
    seen, out = set(), []
    for c in cases:
        if c[0] not in seen:  # a one-byte field's first and last byte, a NUL at a field's end
            seen.add(c[0])
            out.append(c)
    return out


def where(data, entries, role, off):
    """Where an offset falls, for a failure's label."""
    for e in entries:
        if e["header_at"] <= off < e["end"]:
            r = role[e["name"]]
            if off < e["data_at"]:
                rel = off - e["header_at"]
                field = next(f for f, o, n in FIELDS if o <= rel < o + n)
                return "%s header %s" % (r, field)
            if off < e["data_at"] + e["size"]:
                return "%s data +%d" % (r, off - e["data_at"])
            return "%s padding" % r
    return "end marker"


def random_flips(data, n, seed):
    entries, _ = parse_tar(data)
    role = roles(data, entries)
    rng = random.Random(seed)
    out = []
    for k in range(n):
        lo, hi = len(data) * k // n, len(data) * (k + 1) // n
        off = rng.randrange(lo, hi)
        bit = rng.randrange(8)
        out.append((off, bit, "offset %d bit %d (%s)" % (off, bit, where(data, entries, role, off))))
    return out


def truncations(data, n, seed):
    entries, end_at = parse_tar(data)
    role = roles(data, entries)
    marks = {0: "empty file"}
    for e in entries:
        for at, what in ((e["header_at"], "header"), (e["data_at"], "data"), (e["data_at"] + e["size"], "data end"),
                         (e["end"], "entry end")):
            for d in (-1, 0, 1):
                marks.setdefault(at + d, "%s %s%s" % (role[e["name"]], what, {-1: " - 1", 0: "", 1: " + 1"}[d]))
    for at, what in ((end_at, "end marker"), (end_at + BLOCK, "second zero block"), (len(data), "file end")):
        for d in (-1, 0, 1):
            marks.setdefault(at + d, "%s%s" % (what, {-1: " - 1", 0: "", 1: " + 1"}[d]))
    rng = random.Random(seed + 1)
    for k in range(n):
        lo, hi = len(data) * k // n, len(data) * (k + 1) // n
        marks.setdefault(rng.randrange(lo, hi), "spread")
    return sorted(((L, "%d bytes (%s)" % (L, what)) for L, what in marks.items() if 0 <= L < len(data)), reverse=True)


def swaps(path, other):
    """(label, builder) pairs: each builder returns the bytes of one swapped artifact."""
    a_files, b_files = timtool.load(path), timtool.load(other)
    a_data, b_data = open(path, "rb").read(), open(other, "rb").read()
    a_role = roles(a_data, parse_tar(a_data)[0])
    b_role = roles(b_data, parse_tar(b_data)[0])
    b_by_role = {r: n for n, r in b_role.items() if n.startswith("blobs/sha256/")}
    out = []
    blobs_b = sorted((n for n in b_files if n.startswith("blobs/sha256/")), key=lambda n: -len(b_files[n]))
    for name in sorted(n for n in a_files if n.startswith("blobs/sha256/")):
        r = a_role[name]
        donor = b_by_role.get(r)
        how = "%s's bytes" % r
        if donor is None or b_files[donor] == a_files[name]:
            # Identical in both (the same kernel, the empty config): the other's largest blob
            # that differs stands in, so the bytes really change.
            donor = next(n for n in blobs_b if b_files[n] != a_files[name])
            how = "%s's bytes (its %s is the same)" % (b_role[donor], r)

        def build(name=name, donor=donor):
            files = dict(a_files)
            files[name] = b_files[donor]
            return files
        out.append(("%s replaced by the other's %s under the same name" % (r, how), build))

    # Re-pointing: the app manifest's config and layers at the other's blobs (the other's
    # whole descriptor), then the top index and index.json made consistent; and the top index
    # at the other's app manifest, keeping this one's signatures.
    index, desc, top = timtool.top_index(a_files)
    app = timtool.app_entry(top)
    manifest = json.loads(timtool.blob(a_files, app["digest"]))
    _, _, b_top = timtool.top_index(b_files)
    b_app = timtool.app_entry(b_top)
    b_manifest = json.loads(timtool.blob(b_files, b_app["digest"]))
    slots = [("config", None)] + [("layers", i) for i in range(len(manifest.get("layers", [])))]
    for key, i in slots:
        mine = manifest[key] if i is None else manifest[key][i]
        theirs = b_manifest[key] if i is None else b_manifest[key][i]
        label = key if i is None else "%s[%d] (%s)" % (key, i, mine.get("mediaType"))
        if theirs["digest"] == mine["digest"]:
            out.append(("SKIP app manifest %s: the same blob in both artifacts" % label, None))
            continue

        def build(key=key, i=i, theirs=theirs):
            files = dict(a_files)
            idx, d, t = timtool.top_index(files)
            ap = timtool.app_entry(t)
            m = json.loads(timtool.blob(files, ap["digest"]))
            if i is None:
                m[key] = dict(theirs)
            else:
                m[key][i] = dict(theirs)
            files["blobs/sha256/" + theirs["digest"][7:]] = timtool.blob(b_files, theirs["digest"])
            ap["digest"], ap["size"] = timtool.put_json(files, m)
            timtool.rewrite_top(files, idx, d, t)
            timtool.drop_unreferenced(files)
            return files
        out.append(("app manifest %s re-pointed at the other's blob, digests above made consistent" % label, build))

    def build_top():
        files = dict(a_files)
        idx, d, t = timtool.top_index(files)
        ap = timtool.app_entry(t)
        for k in ("digest", "size", "mediaType"):
            ap[k] = b_app[k]
        mb = timtool.blob(b_files, b_app["digest"])
        files["blobs/sha256/" + b_app["digest"][7:]] = mb
        for d2 in [b_manifest.get("config")] + b_manifest.get("layers", []):
            if d2:
                files["blobs/sha256/" + d2["digest"][7:]] = timtool.blob(b_files, d2["digest"])
        timtool.rewrite_top(files, idx, d, t)
        timtool.drop_unreferenced(files)
        return files
    out.append(("top index re-pointed at the other's app manifest (its blobs included), this one's signatures kept",
                build_top))
    return out


def tar_bytes(files):
    parts = [timtool.entry(n, d, t) for n, t, d in timtool.canonical(files)]
    return b"".join(parts) + timtool.END


class Runner:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.kinds = set()

    def standin(self, w):
        d = os.path.join(self.a.workdir, "w%d" % w)
        os.makedirs(d, exist_ok=True)
        script, marker = os.path.join(d, "fake-qemu"), os.path.join(d, "qemu-was-started")
        with open(script, "w") as f:
            f.write('#!/bin/sh\ntouch "%s"\nexit 1\n' % marker)
        os.chmod(script, 0o755)
        return d, script, marker

    def one(self, w, artifact, label, leaks=True):
        """None when refused as required, else what went wrong."""
        _, script, marker = self.ws[w]
        if os.path.exists(marker):
            os.unlink(marker)
        env = None
        if not leaks:
            env = dict(os.environ)
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        try:
            p = subprocess.run([self.a.corerun, "--qemu", script] + self.a.opts + [artifact], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, env=env)
            rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        started = os.path.exists(marker)
        last = err.strip().splitlines()[-1][:300] if err.strip() else "(no message)"
        if rc == 125 and not started and "error" in err:
            if not leaks and self.first_of_kind(last):
                return self.one(w, artifact, label + " (again, leak check on)")
            return None
        return "exit %s, qemu started: %s, %s" % (rc, "yes" if started else "no", last)

    def first_of_kind(self, message):
        """With --leak-sample (the sanitizer pass), cases run without LeakSanitizer, whose scan at
        exit is half of each run's time, and the first case of every kind of refusal (its message
        with names, numbers and digests taken out) runs again with it: every refusal path is
        leak-checked once, every case checked for memory errors."""
        kind = re.sub(r"'[^']*'", "'X'", message)
        kind = re.sub(r"[0-9a-f]{12,}|[0-9]+", "N", kind)
        with self.lock:
            if kind in self.kinds:
                return False
            self.kinds.add(kind)
            return True

    def setup(self):
        self.ws = [self.standin(w) for w in range(self.a.jobs)]

    def copies(self):
        for d, _, _ in self.ws:
            shutil.copyfile(self.a.artifact, os.path.join(d, "work.tim"))
        return [os.path.join(d, "work.tim") for d, _, _ in self.ws]

    def parallel(self, shares, fn):
        with concurrent.futures.ThreadPoolExecutor(self.a.jobs) as ex:
            results = list(ex.map(fn, range(self.a.jobs), shares))
        return [f for r in results for f in r]

    def flips(self, cases):
        works = self.copies()
        self.notes = []

        def worker(w, share):
            fails = []
            with open(works[w], "r+b") as f:
                for off, bit, label in share:
                    f.seek(off)
                    b = f.read(1)[0]
                    f.seek(off)
                    f.write(bytes([b ^ (1 << bit)]))
                    f.flush()
                    why = self.one(w, works[w], label, not self.a.leak_sample)
                    f.seek(off)
                    f.write(bytes([b]))
                    f.flush()
                    if why:
                        fails.append("%s: %s" % (label, why))
            return fails
        fails = self.parallel([cases[w::self.a.jobs] for w in range(self.a.jobs)], worker)
        genuine = hashlib.sha256(open(self.a.artifact, "rb").read()).digest()
        for w in works:  # every flip was undone: the runs were of one change each
            if hashlib.sha256(open(w, "rb").read()).digest() != genuine:
                fails.append("working copy %s differs from the artifact after the flips were undone" % w)
        return fails

    def truncations(self, cases):
        works = self.copies()

        def worker(w, share):
            fails = []
            for length, label in share:  # longest first: each cut only shortens the copy further
                os.truncate(works[w], length)
                why = self.one(w, works[w], label, not self.a.leak_sample)
                if why:
                    fails.append("%s: %s" % (label, why))
            return fails
        return self.parallel([cases[w::self.a.jobs] for w in range(self.a.jobs)], worker)

    def files(self, cases):
        def worker(w, share):
            fails = []
            path = os.path.join(self.ws[w][0], "case.tim")
            for label, build in share:
                with open(path, "wb") as f:
                    f.write(tar_bytes(build()))
                why = self.one(w, path, label, not self.a.leak_sample)
                if why:
                    fails.append("%s: %s" % (label, why))
            os.unlink(path) if os.path.exists(path) else None
            return fails
        return self.parallel([cases[w::self.a.jobs] for w in range(self.a.jobs)], worker)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["run", "list"])
    p.add_argument("artifact")
    p.add_argument("--other", help="a second valid artifact of the same kind, for the swap cases")
    p.add_argument("--corerun")
    p.add_argument("--workdir")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--random", type=int, default=400, help="random flipped-bit offsets")
    p.add_argument("--every", type=int, default=1, help="run every Nth random offset (sanitizer pass)")
    p.add_argument("--truncations", type=int, default=24, help="spread truncation lengths besides the boundaries")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--leak-sample", action="store_true", help="leak-check one case of each kind of refusal (sanitizer pass)")
    p.add_argument("--classes", default="flip-random,flip-struct,truncate,swap")
    argv = sys.argv[1:]
    rest = argv.index("--") if "--" in argv else len(argv)
    a = p.parse_args(argv[:rest])
    a.opts = argv[rest + 1:]  # more corerun options, after --: e.g. --identity KEY
    data = open(a.artifact, "rb").read()
    classes = a.classes.split(",")
    plan = {}
    if "flip-random" in classes:
        plan["flip-random"] = random_flips(data, a.random, a.seed)[::a.every]
    if "flip-struct" in classes:
        plan["flip-struct"] = structural(data)
    if "truncate" in classes:
        plan["truncate"] = truncations(data, a.truncations, a.seed)
    if a.command == "list":
        for cls, cases in plan.items():
            for c in cases:
                print("%s\t%s" % (cls, "\t".join(map(str, c))))
        if "swap" in classes and a.other:
            for label, _ in swaps(a.artifact, a.other):
                print("swap\t%s" % label)
        return
    r = Runner(a)
    r.setup()
    for cls in classes:
        notes, t0 = [], time.monotonic()
        if cls in ("flip-random", "flip-struct"):
            cases, fails = plan[cls], r.flips(plan[cls])
            notes = sorted(r.notes)
        elif cls == "truncate":
            cases, fails = plan[cls], r.truncations(plan[cls])
        elif cls == "swap":
            if not a.other:
                continue
            all_cases = swaps(a.artifact, a.other)
            cases = [c for c in all_cases if c[1] is not None]
            fails = r.files(cases)
            notes = [lbl[5:] for lbl, b in all_cases if b is None]
        if a.leak_sample:
            notes = notes + ["%d kinds of refusal so far, each leak-checked once" % len(r.kinds)]
        # "-" for an empty list: bash's read joins consecutive tabs
        print("%s\t%d\t%d\t%s\t%s\t%.0f" % (cls, len(cases), len(fails), " | ".join(fails) or "-", " | ".join(notes) or "-",
                                            time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    main()
