#!/usr/bin/env python3
"""The minimal client of bench/scale.sh: the engine's own throughput for
the writes stackd makes, one after the other on one connection.

usage: scale_client.py ENGINE_SOCK DIR N create|remove
create: for stacks 0..N-1, the network and the services of
        DIR/render-I.json (`stackd render` output) are created; prints
        the seconds it took.
remove: every service, then every network, labelled with a stack
        namespace is removed, and the engine waited for until they are
        gone.
"""
import http.client
import json
import socket
import sys
import time

sock, d, n, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)


c = C("engine")


def call(method, path, body=None):
    c.request(method, path, None if body is None else json.dumps(body),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300 and r.status != 404:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data) if data else None


def create():
    t0 = time.monotonic()
    for i in range(n):
        with open("%s/render-%d.json" % (d, i)) as f:
            stack = json.load(f)
        for net in stack["networks"]:
            call("POST", "/networks/create", net)
        for svc in stack["services"]:
            call("POST", "/services/create", svc)
    print("%.1f" % (time.monotonic() - t0))


def remove():
    label = '{"label":["com.docker.stack.namespace"]}'
    for s in call("GET", "/services?filters=" + label):
        call("DELETE", "/services/" + s["ID"])
    while call("GET", "/services?filters=" + label):
        time.sleep(0.2)
    for net in call("GET", "/networks?filters=" + label):
        call("DELETE", "/networks/" + net["Id"])
    while call("GET", "/networks?filters=" + label):
        time.sleep(0.2)


create() if what == "create" else remove()
