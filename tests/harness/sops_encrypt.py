#!/usr/bin/env python3
"""Encrypt a file the way sops 3.9 does, for the tests (Debian has no sops).

usage: sops_encrypt.py RECIPIENT IN OUT

The format is OUT's, as sops picks it: .yaml/.yml (mappings, lists and
scalars), .env (KEY=VALUE lines), anything else binary (a JSON envelope
whose "data" is the whole file).  Every value is encrypted (sops's default
rule, unencrypted_suffix: _unencrypted, with no such key), each with a
fresh IV under a fresh data key, which Debian's age wraps for RECIPIENT:
an independent implementation of the age half stackd reads.
"""
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys

import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64(b):
    return base64.b64encode(b).decode()


class Enc:
    def __init__(self, key):
        self.key = key
        self.mac = hashlib.sha512()

    def value(self, plain, aad, kind="str", mac=True):
        if isinstance(plain, str):
            plain = plain.encode()
        if mac:
            self.mac.update(plain)
        if plain == b"" and kind == "str":
            return ""
        iv = os.urandom(32)
        ct = AESGCM(self.key).encrypt(iv, plain, aad.encode())
        return "ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]" % (
            b64(ct[:-16]), b64(iv), b64(ct[-16:]), kind)


def typed(v):
    if isinstance(v, bool):
        return ("True" if v else "False"), "bool"
    if isinstance(v, int):
        return str(v), "int"
    if isinstance(v, float):
        return repr(v), "float"
    return str(v), "str"


def walk(e, node, path):
    if isinstance(node, dict):
        return {k: walk(e, v, path + [str(k)]) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(e, v, path) for v in node]
    if node is None:
        return None
    text, kind = typed(node)
    return e.value(text, "".join(p + ":" for p in path), kind)


def metadata(e, recipient):
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    wrapped = subprocess.run(["age", "-r", recipient, "-a"], input=e.key,
                             capture_output=True, check=True).stdout.decode()
    mac = e.mac.hexdigest().upper()
    return {
        "age": [{"recipient": recipient, "enc": wrapped}],
        "lastmodified": now,
        "mac": e.value(mac, now, mac=False),
        "unencrypted_suffix": "_unencrypted",
        "version": "3.9.0",
    }


def flatten_meta(meta):
    out = []
    for k, v in meta.items():
        if isinstance(v, list):
            for i, item in enumerate(v):
                for ik, iv in item.items():
                    out.append("sops_%s__list_%d__map_%s=%s" % (
                        k, i, ik, iv.replace("\n", "\\n")))
        else:
            out.append("sops_%s=%s" % (k, v))
    return out


def main():
    recipient, src, dst = sys.argv[1:4]
    data = open(src, "rb").read()
    e = Enc(os.urandom(32))
    if dst.endswith((".yaml", ".yml")):
        tree = walk(e, yaml.safe_load(data), [])
        tree["sops"] = metadata(e, recipient)
        out = yaml.safe_dump(tree, sort_keys=False, default_flow_style=False)
    elif dst.endswith(".env"):
        lines = []
        for line in data.decode().split("\n"):
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            lines.append("%s=%s" % (k, e.value(v, k + ":")))
        out = "\n".join(lines + flatten_meta(metadata(e, recipient))) + "\n"
    else:
        env = {"data": e.value(data, "data:")}
        env["sops"] = metadata(e, recipient)
        out = json.dumps(env, indent="\t") + "\n"
    with open(dst, "w") as f:
        f.write(out)


if __name__ == "__main__":
    main()
