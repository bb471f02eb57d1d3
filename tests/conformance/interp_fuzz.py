#!/usr/bin/env python3
"""Differential fuzz of interpolation: `docker stack config` (the CLI's
own reading, offline) against `stackd render`, on random values.

    interp_fuzz.py STACKD N SEED

Each value becomes a service label of one generated stack file, read by
both programs with the same variables.  A value is in agreement when both
give the same string or both refuse it; the only accepted difference is a
value the CLI refuses and stackd reads as compose-spec does, and then
stackd must warn about it at its position.  Prints TAP (one line per
batch) and a summary; every divergence is printed with its input.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:     # a python3 of its own, beside Debian's python3-yaml
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

ENV = {"FOO": "first", "BAR": "", "U": "set", "A": "alpha"}
# What values are made of: operators, names (set, empty, unset), braces,
# digits, text, quotes.
PIECES = ["$", "$", "$$", "${", "{", "}", "}", ":-", "-", ":?", "?", ":+",
          "+", ":", "FOO", "BAR", "U", "NOPE", "_x", "1", "a", " ", "'", '"',
          "x-y", "\\", "$FOO", "${FOO}", "${NOPE:-d}", "${BAR-e}"]
BATCH = 40


def gen(rng):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9)))


def write_stack(path, values):
    with open(path, "w") as f:
        f.write('version: "3.8"\nservices:\n  s:\n    image: busybox\n'
                "    deploy:\n      labels:\n")
        for k, v in values.items():
            # a JSON string is a YAML double-quoted scalar
            f.write(f"        {k}: {json.dumps(v)}\n")


KEY = re.compile(r"services\.s\.deploy\.labels\.(l\d+)")


def cli_read(path):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"),
           **ENV}
    p = subprocess.run(["docker", "stack", "config", "-c", path], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr
    return yaml.safe_load(p.stdout)["services"]["s"]["deploy"]["labels"], ""


def stackd_read(stackd, path):
    args = [stackd, "render", "-f", path, "-s", "t"]
    args += [f"--var={k}={v}" for k, v in ENV.items()]
    p = subprocess.run(args, capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"]})
    if p.returncode != 0:
        return None, p.stderr
    labels = json.loads(p.stdout)["services"][0]["Labels"]
    return labels, p.stderr


def read_all(reader, path, values):
    """Values -> ({key: str or None (refused)}, stderr of the last run):
    a refused value is taken out and the rest read again."""
    left, out = dict(values), {}
    while True:
        write_stack(path, left)
        got, err = reader(path)
        if got is not None:
            out.update({k: got.get(k) for k in left})
            return out, err
        m = KEY.search(err)
        if not m or m.group(1) not in left:
            raise SystemExit(f"cannot tell which value failed: {err}")
        out[m.group(1)] = None
        del left[m.group(1)]


def main():
    stackd, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="stackd-ifz.")
    path = os.path.join(work, "stack.yml")
    stats = {"agree": 0, "refused": 0, "extension": 0, "diverge": 0}
    batches = 0
    for start in range(0, n, BATCH):
        values = {f"l{i}": gen(rng) for i in range(start, min(n, start + BATCH))}
        cli, _ = read_all(cli_read, path, values)
        ours, warn = read_all(lambda p: stackd_read(stackd, p), path,
                              values)
        bad = []
        for k, v in values.items():
            c, s = cli[k], ours[k]
            refuses = re.search(rf"labels\.{k}: docker stack deploy refuses",
                                warn)
            if c == s:
                stats["agree" if c is not None else "refused"] += 1
            elif c is None and s is not None and refuses:
                stats["extension"] += 1
            else:
                stats["diverge"] += 1
                bad.append(f"  {json.dumps(v)}: docker stack config "
                           f"{json.dumps(c)}, stackd {json.dumps(s)}")
        batches += 1
        print(f"{'not ok' if bad else 'ok'} {batches} - values {start}.."
              f"{start + len(values) - 1}")
        for b in bad:
            print(b)
    os.unlink(path)
    os.rmdir(work)
    print(f"# {n} values (seed {seed}): {stats['agree']} read alike, "
          f"{stats['refused']} refused by both, {stats['extension']} "
          f"refused by the CLI only (warned extensions), {stats['diverge']} "
          "divergences")
    return 1 if stats["diverge"] else 0


if __name__ == "__main__":
    sys.exit(main())
