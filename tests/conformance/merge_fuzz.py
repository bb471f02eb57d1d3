#!/usr/bin/env python3
"""Differential fuzz of multi-file stacks against `docker stack config`.

    merge_fuzz.py STACKD N SEED

Each pair is two files from gen_stack.py (seeds SEED+2i and SEED+2i+1,
the same service names s0..s3, so services meet), given one version.  The
CLI merges them (`docker stack config -c a.yml -c b.yml`, offline); stackd
renders that merged file, and renders the pair itself (`-f a.yml -f
b.yml`): both renders must be equal, or the merge differs.  A pair both
refuse counts apart; one refused by one side only is a divergence.
Prints TAP (one line per pair) and a summary.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def gen(seed, d, name):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_stack.py"),
                    str(seed), d], check=True)
    os.rename(os.path.join(d, "stack.yml"), os.path.join(d, name))


def render(stackd, d, files):
    args = [stackd, "render", "-s", "t"]
    for f in files:
        args += ["-f", os.path.join(d, f)]
    p = subprocess.run(args, capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"]})
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1:]
    doc = json.loads(p.stdout)
    for k in ("networks", "secrets", "configs", "services"):
        doc[k] = sorted(doc[k], key=lambda o: o.get("Name", ""))
    doc["external_networks"] = sorted(doc["external_networks"])
    return doc, []


def differences(x, y, path):
    """The paths where x (merged by the CLI) and y (by stackd) differ."""
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            yield from differences(x.get(k), y.get(k), path + "." + k)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (a, b) in enumerate(zip(x, y)):
            yield from differences(a, b, "%s[%d]" % (path, i))
    elif x is None and y in (0, [], {}, "", False):
        # the merged file leaves a zero value out; the engine stores the
        # same either way
        return
    elif x != y:
        yield "%s: merged by the CLI %s, by stackd %s" % (
            path, json.dumps(x)[:200], json.dumps(y)[:200])


def one(stackd, seed, work):
    d = os.path.join(work, str(seed))
    os.makedirs(d)
    gen(seed, d, "a.yml")
    gen(seed + 1, d, "b.yml")
    text = open(os.path.join(d, "a.yml")).read()
    version = re.search(r'^version: .*$', text, re.M).group(0)
    b = open(os.path.join(d, "b.yml")).read()
    open(os.path.join(d, "b.yml"), "w").write(
        re.sub(r'^version: .*$', version, b, flags=re.M))
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    p = subprocess.run(["docker", "stack", "config", "-c", "a.yml", "-c",
                        "b.yml"], cwd=d, capture_output=True, text=True,
                       env=env)
    ours, why = render(stackd, d, ["a.yml", "b.yml"])
    if p.returncode != 0:
        return ("refused" if ours is None else "diverge",
                ["docker stack config: " + p.stderr.strip()] + why)
    # the CLI writes file: paths absolute; stackd keeps them in the source
    merged = p.stdout.replace(d + "/", "./")
    open(os.path.join(d, "merged.yml"), "w").write(merged)
    cli, why2 = render(stackd, d, ["merged.yml"])
    # the merge is fine, and the stack is refused the same way either way
    # (a merged service no deploy takes: global with replicas, ...)
    strip = lambda ls: [re.sub(r" \([^()]*:\d+:\d+\)$", "", x)
                        for x in ls]
    if cli is None and ours is None and strip(why) == strip(why2):
        return "refused", why
    if cli is None or ours is None:
        return "diverge", why + why2
    diff = list(differences(cli, ours, ""))
    return ("diverge", diff) if diff else ("agree", [])


def main():
    stackd, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    work = tempfile.mkdtemp(prefix="stackd-mfz.")
    stats = {"agree": 0, "refused": 0, "diverge": 0}
    try:
        for i in range(n):
            s = seed + 2 * i
            verdict, lines = one(stackd, s, work)
            stats[verdict] += 1
            ok = "not ok" if verdict == "diverge" else "ok"
            print("%s %d - seeds %d+%d: %s" % (ok, i + 1, s, s + 1, verdict))
            for line in lines if verdict != "agree" else []:
                print("#   " + line)
    finally:
        shutil.rmtree(work)
    print("1..%d" % n)
    print("# %d pairs: %d merged alike, %d refused by both, %d divergences"
          % (n, stats["agree"], stats["refused"], stats["diverge"]))
    return 1 if stats["diverge"] else 0


if __name__ == "__main__":
    sys.exit(main())
