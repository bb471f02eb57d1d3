#!/usr/bin/env python3
"""Compare two deployed stacks object by object, as the engine stores them.

    compare.py snapshot STACK FILE   inspect STACK's objects into FILE
    compare.py diff FILE_A FILE_B    compare two snapshots

The engine is DOCKER_HOST (through the docker CLI).  The two deployments
run one after the other (named objects and published ports are
cluster-wide), so each is snapshotted before it is removed.

Only what must differ is normalised: IDs, versions, timestamps, and the
stack name (as a prefix of names and as the namespace label).  Network
targets are stored as IDs, so they are mapped back to names.  Prints one
line per differing field and exits 1 if there is any.
"""
import json
import subprocess
import sys

NS = "com.docker.stack.namespace"


def docker(*args):
    out = subprocess.run(["docker", *args], check=True, capture_output=True,
                         text=True).stdout
    return out


def listing(kind, stack):
    ids = docker(kind, "ls", "-q", "--filter", f"label={NS}={stack}").split()
    if not ids:
        return []
    return json.loads(docker(kind, "inspect", *ids))


def network_names():
    ids = docker("network", "ls", "-q").split()
    return {n["Id"]: n["Name"] for n in json.loads(docker("network", "inspect", *ids))}


def without_stackd_labels(obj):
    """stackd's own labels (owner, spec hash) are its bookkeeping."""
    for labels in (obj.get("Labels"), (obj.get("Spec") or {}).get("Labels")):
        if isinstance(labels, dict):
            for k in [k for k in labels if k.startswith("com.stackd.")]:
                del labels[k]
    return obj


def descope(value, stack):
    """Replace the stack name wherever it appears as a name or label."""
    if isinstance(value, dict):
        return {k: descope(v, stack) for k, v in value.items()}
    if isinstance(value, list):
        return [descope(v, stack) for v in value]
    if isinstance(value, str):
        if value == stack:
            return "STACK"
        if value.startswith(stack + "_"):
            return "STACK_" + value[len(stack) + 1:]
    return value


def service_spec(svc, nets):
    spec = svc["Spec"]
    tt = spec.get("TaskTemplate", {})
    for att in tt.get("Networks", []):
        att["Target"] = nets.get(att["Target"], att["Target"])
    cs = tt.get("ContainerSpec", {})
    for ref in cs.get("Secrets", []):
        ref.pop("SecretID", None)
    for ref in cs.get("Configs", []):
        ref.pop("ConfigID", None)
    return spec


# What the engine allocates per network: the VXLAN id, and a subnet from
# its default pool (10.0.N.0/24) when the file names none.
ALLOCATED_OPTIONS = ("com.docker.network.driver.overlay.vxlanid_list",)


def allocated_subnet(subnet):
    # the engine's default pool, 10.0.0.0/8 in /24s (10.1.x once a long
    # run has used 10.0.x up)
    return subnet.startswith("10.") and subnet.endswith(".0/24")


def network_spec(n):
    keep = ("Name", "Driver", "Options", "Labels", "Internal", "Attachable",
            "Scope", "EnableIPv6")
    out = {k: n.get(k) for k in keep}
    out["Options"] = {k: v for k, v in (out["Options"] or {}).items()
                      if k not in ALLOCATED_OPTIONS}
    ipam = n.get("IPAM") or {}
    out["IPAM"] = {"Driver": ipam.get("Driver"),
                   "Subnets": sorted(c.get("Subnet", "") for c in ipam.get("Config") or []
                                     if not allocated_subnet(c.get("Subnet", "")))}
    return out


def diff(path, a, b, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            diff(f"{path}.{k}", a.get(k), b.get(k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(f"{path}[{i}]", x, y, out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)} != {json.dumps(b)}")


def collect(stack, nets):
    objs = {}
    for s in listing("service", stack):
        spec = without_stackd_labels(service_spec(s, nets))
        objs["service " + descope(s["Spec"]["Name"], stack)] = descope(spec, stack)
    for n in listing("network", stack):
        spec = without_stackd_labels(network_spec(n))
        objs["network " + descope(n["Name"], stack)] = descope(spec, stack)
    for kind in ("secret", "config"):
        for o in listing(kind, stack):
            spec = without_stackd_labels(o["Spec"])
            objs[f"{kind} " + descope(o["Spec"]["Name"], stack)] = descope(spec, stack)
    return objs


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "snapshot":
        stack = sys.argv[2]
        with open(sys.argv[3], "w") as f:
            json.dump(collect(stack, network_names()), f, indent=1, sort_keys=True)
        return 0
    if len(sys.argv) != 4 or sys.argv[1] != "diff":
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2]) as f:
        oa = json.load(f)
    with open(sys.argv[3]) as f:
        ob = json.load(f)
    out = []
    for name in sorted(set(oa) | set(ob)):
        if name not in oa:
            out.append(f"{name}: only deployed by stackd")
        elif name not in ob:
            out.append(f"{name}: only deployed by docker stack deploy")
        else:
            diff(name, oa[name], ob[name], out)
    for line in out:
        print(line)
    print(f"{len(oa)} objects from docker stack deploy, {len(ob)} from stackd, "
          f"{len(out)} differences")
    return 1 if out or not oa else 0


if __name__ == "__main__":
    sys.exit(main())
