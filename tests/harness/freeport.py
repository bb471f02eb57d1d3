#!/usr/bin/env python3
"""Print a port that nothing listens on at ADDR, for TCP and UDP alike
(a swarm listens on TCP, its data path on UDP).

usage: freeport.py ADDR    the port is in 20000-49151: dockerd takes a
data path port only below 49152, and the kernel's ephemeral range
starts at 32768, so this range rarely meets an outgoing connection.
"""
import random
import socket
import sys


def free(addr, port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


addr = sys.argv[1]
for _ in range(1000):
    p = random.randint(20000, 49151)
    if free(addr, p):
        print(p)
        sys.exit(0)
sys.exit("freeport.py: no free port on " + addr)
