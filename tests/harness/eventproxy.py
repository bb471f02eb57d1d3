#!/usr/bin/env python3
"""A unix-socket pass-through to a harness engine that can lose the event
stream on purpose, while every other request goes through untouched.

With CONTROL_DIR/mute present, what the engine sends on a GET /events
connection is dropped: the stream stays open and says nothing, as a
connection whose far end went silent.  With CONTROL_DIR/cut present,
event connections are closed, and new ones closed as soon as they ask.

usage: eventproxy.py LISTEN_SOCK ENGINE_SOCK CONTROL_DIR
Prints "ready" once listening.  Runs until killed.
"""
import os
import re
import select
import socket
import sys
import threading

listen_path, engine_path, control = sys.argv[1:4]
EVENTS = re.compile(rb"^GET /(v[0-9.]+/)?events[ ?]")


def flag(name):
    return os.path.exists(os.path.join(control, name))


def serve(client):
    engine = socket.socket(socket.AF_UNIX)
    try:
        engine.connect(engine_path)
    except OSError:
        client.close()
        return
    events = None  # unknown until the request line is in
    socks = [client, engine]
    try:
        while True:
            if events and flag("cut"):
                return
            ready, _, _ = select.select(socks, [], [], 0.2)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                if s is client:
                    if events is None:
                        events = bool(EVENTS.match(data))
                        if events and flag("cut"):
                            return
                    engine.sendall(data)
                elif not (events and flag("mute")):
                    client.sendall(data)
    except OSError:
        pass
    finally:
        client.close()
        engine.close()


def main():
    try:
        os.unlink(listen_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(listen_path)
    srv.listen(64)
    print("ready", flush=True)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
