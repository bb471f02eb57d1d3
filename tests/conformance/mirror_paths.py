#!/usr/bin/env python3
"""The docker.io images of a `docker stack config` document on stdin, one
per line as a registry mirror stores them ("library/nginx:latest",
"grafana/grafana:10"), each once.  Images of other registries, with a
digest, or that are no reference are left out: they cannot be mirrored,
and both deploys then fail to pin them alike."""
import re
import sys

import yaml

COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


def mirror_path(image):
    if "@" in image:
        return None
    name, tag = image, "latest"
    head, _, last = image.rpartition("/")
    if ":" in last:
        name, tag = image.rsplit(":", 1)
    parts = name.split("/")
    if len(parts) > 1 and (("." in parts[0] or ":" in parts[0]) or parts[0] == "localhost"):
        if parts[0] not in ("docker.io", "index.docker.io"):
            return None
        parts = parts[1:]
    if len(parts) == 1:
        parts = ["library"] + parts
    if not all(COMPONENT.match(p) for p in parts):
        return None
    return "/".join(parts) + ":" + tag


def main():
    doc = yaml.safe_load(sys.stdin) or {}
    seen = set()
    for svc in (doc.get("services") or {}).values():
        path = mirror_path(str((svc or {}).get("image") or ""))
        if path and path not in seen:
            seen.add(path)
            print(path)


if __name__ == "__main__":
    main()
