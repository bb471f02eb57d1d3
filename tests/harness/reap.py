#!/usr/bin/env python3
"""Run a harness dockerd as a child subreaper: reap it and everything it
leaves behind (containerd, shims) as soon as they exit.

Without it a killed dockerd and its containerd are orphaned to PID 1,
which on some machines reaps late; until then their zombies keep
/proc/PID, and a restarted dockerd refuses its pid file or waits for the
"running" containerd of the pid in containerd.pid ("timeout waiting for
containerd to start").

usage: reap.py PROGRAM [ARGS...]    exits with the program's status once
no descendant is left; SIGTERM/SIGINT are passed to the program.
"""
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("reap.py: prctl(PR_SET_CHILD_SUBREAPER): "
             + os.strerror(ctypes.get_errno()))

child = os.fork()
if child == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda s, _f: os.kill(child, s))

status = 1
while True:
    try:
        pid, st = os.wait()
    except ChildProcessError:
        break
    if pid == child:
        status = os.waitstatus_to_exitcode(st)
sys.exit(status if status >= 0 else 128 - status)
