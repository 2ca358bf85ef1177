#!/usr/bin/env python3
"""A local HTTP server that misbehaves on request, for the fetcher tests.

Listens on 127.0.0.1 on a port the OS picks and prints that port as its first line.
Stops by itself after a bounded time (--lifetime, 120 s by default), on SIGTERM, and when
the process that started it goes away.

Bodies are deterministic: byte i of a body of SIZE bytes with SEED is (i*31 + 7 + SEED) % 256,
so a test can compute the digest itself. Query parameters: size (default 1000), seed (0),
noranges=1 (ignore Range headers, as some servers do).

  /ok/NAME                 the body, with Content-Length, ETag and Range support
  /fail-then-ok/KEY?n=2    HTTP `code` (default 500) the first n times per KEY, then the body
  /truncate/KEY            first time per KEY: full Content-Length, half the body, then the
                           connection is closed; afterwards the body, with Range support
  /slow/KEY                a Content-Length, `first` bytes (1), then nothing for `stall` seconds
                           (60). libcurl measures speed over a window of about 5 s, so a
                           stall shows as under 1 byte/s soonest when few bytes came first
  /status/CODE             an empty response with that status (e.g. /status/404)
  /404                     HTTP 404
  /redirect?to=PATH        302 to PATH (which may be any URL, e.g. file:///etc/passwd)
  /redirect-loop/N         302 to /redirect-loop/N+1, forever
  /log                     every request so far as a JSON list of {"path", "range"}
"""
import argparse
import http.server
import json
import os
import re
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
log = []  # every request but /log: {"path": ..., "range": header or None}
counts = {}  # KEY -> times seen, for /fail-then-ok and /truncate


def body(size, seed):
    # The pattern repeats every 256 bytes, so large bodies are cheap to build.
    block = bytes(((i * 31 + 7 + seed) & 0xFF) for i in range(256))
    return (block * (size // 256 + 1))[:size]


def seen(key):
    """How many earlier requests carried this key (then counts this one)."""
    with lock:
        n = counts.get(key, 0)
        counts[key] = n + 1
        return n


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framing: what real servers do

    def log_message(self, fmt, *args):  # stderr stays quiet; /log is the record
        pass

    def param(self, q, name, default):
        v = q.get(name, [None])[0]
        return int(v) if v is not None else default

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        path = url.path
        if path != "/log":
            with lock:
                log.append({"path": self.path, "range": self.headers.get("Range")})
        size = self.param(q, "size", 1000)
        seed = self.param(q, "seed", 0)
        ranges = not self.param(q, "noranges", 0)
        parts = path.split("/")
        try:
            if path == "/log":
                with lock:
                    data = json.dumps(log).encode()
                return self.send_bytes(200, data, "application/json")
            if path.startswith("/ok/"):
                return self.send_body(body(size, seed), ranges, head)
            if path.startswith("/fail-then-ok/"):
                if seen(path) < self.param(q, "n", 2):
                    return self.send_bytes(self.param(q, "code", 500), b"try again\n")
                return self.send_body(body(size, seed), ranges, head)
            if path.startswith("/truncate/"):
                data = body(size, seed)
                if seen(path) == 0:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Accept-Ranges", "bytes" if ranges else "none")
                    self.send_header("ETag", '"%d-%d"' % (size, seed))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                return self.send_body(data, ranges, head)
            if path.startswith("/slow/"):
                data = body(size, seed)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: self.param(q, "first", 1)])
                self.wfile.flush()
                time.sleep(self.param(q, "stall", 60))
                self.close_connection = True
                return
            if path.startswith("/status/") and len(parts) == 3:
                return self.send_bytes(int(parts[2]), b"")
            if path == "/404":
                return self.send_bytes(404, b"not found\n")
            if path == "/redirect":
                return self.redirect(q.get("to", ["/ok/redirected"])[0])
            if path.startswith("/redirect-loop/") and len(parts) == 3:
                return self.redirect("/redirect-loop/%d" % (int(parts[2]) + 1))
            return self.send_bytes(404, b"no such test path\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def redirect(self, to):
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_bytes(self, code, data, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_body(self, data, ranges, head):
        rng = self.headers.get("Range") if ranges else None
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if rng and m:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            if start >= len(data) or start > end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            part = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        else:
            part = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if not head:
            self.wfile.write(part)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True  # a stalled /slow/ request must not keep the process alive
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lifetime", type=float, default=120, help="seconds before exiting on its own")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parent = os.getppid()

    def watchdog():
        deadline = time.monotonic() + args.lifetime
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    threading.Thread(target=watchdog, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
