#!/usr/bin/env python3
"""A Docker registry token server for tests (distribution's "token" auth), stdlib + the openssl CLI.

  token_server.py STATE-DIR [USER PASSWORD]

Makes STATE-DIR/token.key and STATE-DIR/token.crt (self-signed RSA; the registry's
rootcertbundle), listens on 127.0.0.1 on a free port, writes that port to STATE-DIR/token-port
once it accepts connections, and answers GET /token?service=S&scope=T:NAME:ACTIONS... with
{"token", "access_token", "expires_in"}: a JWT signed RS256 whose header carries the certificate
as x5c (or, with TOKEN_SERVER_KID=1 in the environment, only the libtrust key id as kid). With a
user, the token endpoint requires HTTP Basic credentials: none or wrong ones get 401. Every
request is logged, one line each, to STATE-DIR/token.log (never the password). Lives at most 15
minutes; SIGTERM stops it.
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

ISSUER = "core-test-issuer"
SERVICE = "core-test"
LIFETIME = 900
GRANTABLE = ("pull", "push")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(("openssl",) + args, input=data, stdout=subprocess.PIPE, check=True).stdout


def libtrust_kid(spki_der):
    """libtrust's key id: base32 of the first 240 bits of sha256(SPKI DER), in groups of 4."""
    b32 = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def parse_scope(scope):
    """'repository:a/b:pull,push' -> ('repository', 'a/b', ['pull', 'push']); None if malformed."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit("usage: token_server.py STATE-DIR [USER PASSWORD]")
    state = sys.argv[1]
    creds = (sys.argv[2], sys.argv[3]) if len(sys.argv) == 4 else None
    key, crt = os.path.join(state, "token.key"), os.path.join(state, "token.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=core-test-token"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    cert_der = openssl("x509", "-in", crt, "-outform", "DER")
    spki_der = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")
    if os.environ.get("TOKEN_SERVER_KID") == "1":
        header = {"typ": "JWT", "alg": "RS256", "kid": libtrust_kid(spki_der)}
    else:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der).decode()]}
    log_lock = threading.Lock()
    log_path = os.path.join(state, "token.log")

    def log(line):
        with log_lock, open(log_path, "a") as f:
            f.write(line + "\n")

    def make_token(sub, scopes):
        now = int(time.time())
        access = []
        for s in scopes:
            parsed = parse_scope(s)
            if parsed is None or parsed[0] != "repository":
                continue
            actions = [a for a in parsed[2] if a in GRANTABLE]
            access.append({"type": "repository", "name": parsed[1], "actions": actions})
        claims = {"iss": ISSUER, "sub": sub, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(16), "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = openssl("dgst", "-sha256", "-sign", key, data=signing_input.encode())
        return signing_input + "." + b64url(sig), access

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the token.log lines say enough
            pass

        def reply(self, status, body, extra=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def user(self):
            """('ok'|'none'|'bad', user name)"""
            h = self.headers.get("Authorization", "")
            if not h.lower().startswith("basic "):
                return "none", "-"
            try:
                u, _, p = base64.b64decode(h[6:].strip()).decode().partition(":")
            except ValueError:
                return "bad", "?"
            if creds and (u, p) == creds:
                return "ok", u
            return ("bad" if creds else "ok"), u

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            service = q.get("service", [""])[0]
            # Clients send several scope parameters or one with space-separated scopes.
            scopes = [s for v in q.get("scope", []) for s in v.split(" ") if s]
            state_, user = self.user()
            what = "GET %s service=%s scope=%s user=%s" % (url.path, service, ",".join(scopes) or "-", user)
            if url.path != "/token":
                log(what + " -> 404")
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            if creds and state_ != "ok":
                log(what + " -> 401 (%s)" % ("no credentials" if state_ == "none" else "wrong credentials"))
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                                  [("WWW-Authenticate", 'Basic realm="core-test-token"')])
            if service != SERVICE:
                log(what + " -> 400 (unknown service)")
                return self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            token, access = make_token(user if user != "-" else "", scopes)
            log(what + " -> 200 access=%s" % json.dumps(access, separators=(",", ":")))
            self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

        def do_POST(self):
            # The OAuth2 form (identity tokens): not offered; 404 makes clients fall back to GET.
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            log("POST %s -> 404" % self.path)
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "use GET"}]})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(LIFETIME)
    tmp = os.path.join(state, "token-port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, os.path.join(state, "token-port"))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
