#!/usr/bin/env python3
"""A unix-socket pass-through to a harness engine that SIGKILLs the engine
when the Nth request matching a pattern arrives, before forwarding it; or,
with ACTION "bump", first writes the service that request updates (a
label change through the engine itself), so the request carries a stale
version: a concurrent writer that wins the race every time.

faults.sh uses it to kill dockerd in the middle of an apply at a chosen
request instead of racing a poll loop against the apply (which on a fast
machine finished all its writes before the poll saw the first ones).
The engine and the kill are real; the proxy only picks the moment.

usage: killproxy.py LISTEN_SOCK ENGINE_SOCK ENGINE_PIDFILE PATTERN N [kill|bump]
Prints "ready" once listening.  Runs until killed.
"""
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time

listen_path, engine_path, pidfile, pattern, limit = sys.argv[1:6]
action = sys.argv[6] if len(sys.argv) > 6 else "kill"
pattern = pattern.encode()
limit = int(limit)
seen = 0
lock = threading.Lock()


def running(pid):
    """A zombie is dead: PID 1 may take its time to reap the killed dockerd."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def kill_engine():
    with open(pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    for _ in range(600):  # the socket must not answer once we return
        if not running(pid):
            return
        time.sleep(0.05)


class EngineConn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(engine_path)


def bump(request):
    """Update the service POST /vX/services/ID/update names, first."""
    m = re.search(rb"/services/([^/ ]+)/update", request)
    if m is None:
        return
    c = EngineConn("engine")
    c.request("GET", "/services/" + m.group(1).decode())
    svc = json.loads(c.getresponse().read())
    svc["Spec"].setdefault("Labels", {})["bump"] = "1"
    c.request("POST", "/services/%s/update?version=%d" % (svc["ID"], svc["Version"]["Index"]),
              json.dumps(svc["Spec"]), {"Content-Type": "application/json"})
    c.getresponse().read()
    c.close()
    print("bumped " + svc["Spec"]["Name"], flush=True)


def matches(chunk, tail):
    """Requests seen in this chunk; tail carries a split pattern over."""
    data = tail + chunk
    return data.count(pattern), data[-len(pattern):]


def client_to_engine(client, engine):
    global seen
    tail = b""
    while True:
        chunk = client.recv(65536)
        if not chunk:
            break
        n, tail = matches(chunk, tail)
        with lock:
            if n and seen < limit <= seen + n:
                seen += n
                if action == "bump":
                    bump(chunk)
                else:
                    kill_engine()
                    break
            else:
                seen += n
        engine.sendall(chunk)
    for s in (client, engine):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def engine_to_client(engine, client):
    while True:
        try:
            chunk = engine.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        try:
            client.sendall(chunk)
        except OSError:
            break
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def serve(client):
    engine = socket.socket(socket.AF_UNIX)
    try:
        engine.connect(engine_path)
    except OSError:
        client.close()  # the engine is gone: as a dead socket would
        return
    t = threading.Thread(target=engine_to_client, args=(engine, client), daemon=True)
    t.start()
    try:
        client_to_engine(client, engine)
    except OSError:
        pass
    t.join()
    client.close()
    engine.close()


def main():
    try:
        os.unlink(listen_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(listen_path)
    srv.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


main()
