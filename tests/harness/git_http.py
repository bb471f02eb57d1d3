#!/usr/bin/env python3
"""A git smart-HTTP server for the tests: `git http-backend` behind a tiny
CGI bridge, with HTTP basic auth, on a loopback address.

    git_http.py ROOT ADDR PORT USER PASSWORD_FILE [LOG]

Serves every repository under ROOT; over https when GIT_HTTP_TLS is set
to "CERT_FILE:KEY_FILE".  When GIT_HTTP_FAULT names a file, its content
(read at each request) makes the server misbehave: "garbage" answers any
request with random bytes, "cut" sends half of a pack and closes the
connection, "hang" never answers a pack request.  Each request is logged to LOG (if
given) as "METHOD PATH STATUS BYTES", so a test can count what a fetch
cost.  Runs until killed.
"""
import base64
import hmac
import os
import socket
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def authorized(self):
        want = "%s:%s" % (self.server.user, self.server.password)
        got = self.headers.get("Authorization", "")
        if not got.startswith("Basic "):
            return False
        try:
            got = base64.b64decode(got[6:]).decode()
        except ValueError:
            return False
        return hmac.compare_digest(got, want)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write("%s %s %d %d\n" % (self.command, self.path, status,
                                           len(data)))

    def fault(self):
        path = os.environ.get("GIT_HTTP_FAULT")
        try:
            with open(path) as f:
                return f.read().strip()
        except (OSError, TypeError):
            return ""

    def misbehave(self, fault, payload):
        """True when the fault took the place of the answer."""
        if fault == "garbage":
            self.reply(200, [("Content-Type",
                              "application/x-git-upload-pack-advertisement")],
                       os.urandom(4096))
            return True
        if self.command != "POST":
            return False
        if fault == "hang":
            time.sleep(3600)
            return True
        if fault == "cut":
            self.send_response(200)
            self.send_header("Content-Type",
                             "application/x-git-upload-pack-result")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        return False

    def handle_any(self):
        data = self.body() if self.command == "POST" else b""
        if not self.authorized():
            # An empty body: libgit2 1.5 mis-parses the replayed request
            # on a kept-alive connection after a 401 that had one.
            self.reply(401, [("WWW-Authenticate", 'Basic realm="git"')],
                       b"")
            return
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=self.server.root,
                   GIT_HTTP_EXPORT_ALL="1", REQUEST_METHOD=self.command,
                   PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(data)),
                   REMOTE_USER=self.server.user, REMOTE_ADDR="127.0.0.1",
                   GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if self.misbehave(self.fault(), payload):
            return
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.reply(status, headers, payload)

    do_GET = handle_any
    do_POST = handle_any


def main():
    root, addr, port, user, pwfile = sys.argv[1:6]
    if not addr.startswith("127."):
        sys.exit("git_http.py: loopback addresses only")
    srv = ThreadingHTTPServer((addr, int(port)), Handler)
    srv.root = os.path.abspath(root)
    srv.user = user
    with open(pwfile) as f:
        srv.password = f.readline().strip()
    srv.log = sys.argv[6] if len(sys.argv) > 6 else None
    if os.environ.get("GIT_HTTP_TLS"):
        cert, key = os.environ["GIT_HTTP_TLS"].split(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
