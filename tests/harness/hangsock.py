#!/usr/bin/env python3
"""An engine whose daemon is wedged: a unix socket that accepts every
connection, reads what is sent and never answers.

usage: hangsock.py SOCK   (prints "ready" once listening; runs until killed)
"""
import socket
import sys
import threading

s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(64)
print("ready", flush=True)
held = []


def drain(c):
    while c.recv(65536):
        pass


while True:
    c, _ = s.accept()
    held.append(c)
    threading.Thread(target=drain, args=(c,), daemon=True).start()
