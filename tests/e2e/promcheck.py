#!/usr/bin/env python3
"""Check Prometheus text exposition (format 0.0.4) on stdin.

Every sample must belong to a family whose TYPE came first, names and
labels must be well-formed, values must parse, no family may be declared
twice and a histogram's buckets must be cumulative and end at +Inf.
Exits 1 with the first problem.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}


def fail(n, msg):
    print(f"line {n}: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    types = {}
    buckets = {}
    for n, line in enumerate(sys.stdin.read().splitlines(), 1):
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4 or not re.fullmatch(NAME, parts[2]):
                fail(n, "bad TYPE line")
            if parts[2] in types:
                fail(n, f"{parts[2]} declared twice")
            if parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail(n, f"unknown type {parts[3]}")
            types[parts[2]] = parts[3]
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            fail(n, f"not a sample: {line!r}")
        name, labels, value = m.groups()
        try:
            v = float(value)
        except ValueError:
            fail(n, f"bad value {value!r}")
        family = name
        for fam, typ in types.items():
            if typ in SUFFIXES and any(name == fam + s for s in SUFFIXES[typ]):
                family = fam
        if family not in types:
            fail(n, f"{name} has no TYPE before it")
        if types[family] == "counter" and v < 0:
            fail(n, f"negative counter {name}")
        if name.endswith("_bucket") and types[family] == "histogram":
            key = re.sub(r',?le="[^"]*"', "", labels or "")
            prev = buckets.get((family, key), -1)
            if v < prev:
                fail(n, "histogram buckets are not cumulative")
            buckets[(family, key)] = v
    if not types:
        fail(0, "no metric at all")


main()
