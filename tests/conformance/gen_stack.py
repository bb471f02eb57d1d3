#!/usr/bin/env python3
"""Generate a random valid stack file (and the files it names) from a seed.

    gen_stack.py SEED DIR

Writes DIR/stack.yml plus the secret, config and env files it refers to.
Keys are drawn from what the CLI's compose schema (3.x) accepts, values in
the forms people write them: quoted and unquoted, numbers as strings,
durations, byte sizes, lists and maps.  Services run no task (replicas 0,
or a job of 0) unless they are global, so a file deploys in a second; the
only image is the harness's local one, written in the ways the CLI
normalises.
"""
import json
import os
import random
import sys

R = None
IMAGES = ["local/busybox:1", "docker.io/local/busybox:1",
          "index.docker.io/local/busybox:1"]


def q(s):
    """A string in one of the forms YAML allows."""
    s = str(s)
    form = R.random()
    plain_ok = not (any(c in s for c in ":#{}[],&*!|>'\"%@`") or s == "" or
                    s.lower() in ("true", "false", "yes", "no", "on", "off",
                                  "null", "~") or
                    s.replace(".", "", 1).lstrip("-").isdigit())
    if form < 0.4 or not plain_ok:
        return json.dumps(s)
    if form < 0.6:
        return "'" + s.replace("'", "''") + "'"
    return s


def num(n):
    """A number (the schema takes no string where it wants one)."""
    return str(n)


def duration():
    return q(R.choice(["10s", "1m30s", "500ms", "2m", "1h", "0s", "1.5s",
                       "90s", "1m", "250ms"]))


def size():
    # the engine refuses a memory limit under 4 MiB
    return R.choice(["64M", "1g", "1.5G", "4096k", "100m", "4194304",
                     "16MB", "8192k", "3gb"])


def name(prefix):
    return prefix + "".join(R.choice("abcdefgh") for _ in range(4))


class Stack:
    def __init__(self, d):
        self.dir = d
        self.version = R.choice(["3.8", "3.9", "3.13"])
        self.lines = ['version: "%s"' % self.version, "services:"]
        self.secrets, self.configs, self.networks, self.volumes = \
            {}, {}, {}, set()
        self.port = R.randint(20000, 60000)

    def out(self, indent, text):
        self.lines.append("  " * indent + text)

    def file(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def published(self):
        self.port += R.randint(1, 50)
        return self.port

    # --- service keys --------------------------------------------------
    def ports(self, i):
        self.out(i, "ports:")
        for _ in range(R.randint(1, 6)):
            r = R.random()
            t = R.randint(1, 9000)
            if r < 0.25:
                self.out(i + 1, "- " + q(str(t)))
            elif r < 0.45:
                self.out(i + 1, "- %s" % q("%d:%d" % (self.published(), t)))
            elif r < 0.55:
                n = R.randint(1, 4)
                p = self.published()
                self.port += n
                self.out(i + 1, "- %s" % q("%d-%d:%d-%d" % (
                    p, p + n, t, t + n)))
            elif r < 0.65:
                self.out(i + 1, "- %s" % q("%d-%d" % (t, t + R.randint(1,
                                                                     5))))
            elif r < 0.75:
                self.out(i + 1, "- %s" % q("%d:%d/%s" % (
                    self.published(), t, R.choice(["udp", "tcp", "sctp"]))))
            else:
                self.out(i + 1, "- target: %s" % t)
                if R.random() < 0.7:
                    self.out(i + 2, "published: %d" % self.published())
                if R.random() < 0.5:
                    self.out(i + 2, "protocol: " + R.choice(["tcp", "udp"]))
                if R.random() < 0.5:
                    self.out(i + 2, "mode: " + R.choice(["host", "ingress"]))

    def env(self, i, key):
        names = R.sample(["A", "B", "PATH_X", "EMPTY", "VAULT_ADDR", "LANG",
                          "TZ", "DEBUG", "N"], R.randint(1, 5))
        if R.random() < 0.5:
            self.out(i, key + ":")
            for n in names:
                v = R.choice(["1", "true", "", "x y", "a=b", None, "0.5"])
                self.out(i + 1, "%s:%s" % (n, "" if v is None else " " +
                                           q(v)))
        else:
            self.out(i, key + ":")
            for n in names:
                v = R.choice(["1", "", "a=b", None, "x y"])
                self.out(i + 1, "- " + q(n if v is None else "%s=%s" % (
                    n, v)))

    def env_file(self, i, svc):
        rel = "env/%s.env" % svc
        self.file(rel, "# generated\nA=1\nB=two words\nC=\nD=x=y\n")
        self.out(i, "env_file: " + (q(rel) if R.random() < 0.5 else
                                    "[%s]" % q(rel)))

    def volumes_key(self, i):
        self.out(i, "volumes:")
        for _ in range(R.randint(1, 4)):
            r = R.random()
            tgt = "/mnt/" + name("t")
            if r < 0.3:
                v = name("vol")
                self.volumes.add(v)
                self.out(i + 1, "- %s" % q("%s:%s%s" % (
                    v, tgt, R.choice(["", ":ro", ":rw", ":nocopy"]))))
            elif r < 0.5:
                self.out(i + 1, "- %s" % q("/srv/%s:%s%s" % (
                    name("d"), tgt, R.choice(["", ":ro", ":z"]))))
            elif r < 0.6:
                self.out(i + 1, "- " + q(tgt))
            else:
                kind = R.choice(["volume", "bind", "tmpfs"])
                self.out(i + 1, "- type: " + kind)
                self.out(i + 2, "target: " + tgt)
                if kind == "volume":
                    v = name("vol")
                    self.volumes.add(v)
                    self.out(i + 2, "source: " + v)
                    if R.random() < 0.5:
                        self.out(i + 2, "volume: {nocopy: %s}" %
                                 R.choice(["true", "false"]))
                elif kind == "bind":
                    self.out(i + 2, "source: /srv/" + name("b"))
                    if R.random() < 0.5:
                        self.out(i + 2, "bind: {propagation: %s}" % R.choice(
                            ["rprivate", "shared", "slave"]))
                else:
                    if R.random() < 0.7:
                        self.out(i + 2, "tmpfs: {size: %d}" % R.choice(
                            [1000, 65536, 1048576]))
                if kind != "tmpfs" and R.random() < 0.5:
                    self.out(i + 2, "read_only: " + R.choice(["true",
                                                              "false"]))

    def file_refs(self, i, kind):
        table = self.secrets if kind == "secrets" else self.configs
        self.out(i, kind + ":")
        for _ in range(R.randint(1, 3)):
            key = name(kind[0])
            table[key] = True
            if R.random() < 0.4:
                self.out(i + 1, "- " + key)
            else:
                self.out(i + 1, "- source: " + key)
                if R.random() < 0.6:
                    self.out(i + 2, "target: " + (
                        name("tg") if kind == "secrets" else
                        "/etc/" + name("c")))
                for k, v in (("uid", q("1000")), ("gid", q("0")),
                             ("mode", R.choice(["0400", "0440", "292",
                                                "0o444"]))):
                    if R.random() < 0.4:
                        self.out(i + 2, "%s: %s" % (k, v))

    def networks_key(self, i):
        keys = [name("n") for _ in range(R.randint(1, 3))]
        for k in keys:
            self.networks[k] = True
        if R.random() < 0.4:
            self.out(i, "networks: [%s]" % ", ".join(keys))
            return
        self.out(i, "networks:")
        for k in keys:
            if R.random() < 0.3:
                self.out(i + 1, k + ":")
            else:
                self.out(i + 1, k + ":")
                self.out(i + 2, "aliases: [%s]" % ", ".join(
                    name("al") for _ in range(R.randint(1, 2))))

    def healthcheck(self, i):
        self.out(i, "healthcheck:")
        if R.random() < 0.15:
            self.out(i + 1, "disable: true")
            return
        self.out(i + 1, "test: " + R.choice([
            '["CMD", "true"]', '["CMD-SHELL", "exit 0"]', '"true"',
            "[\"NONE\"]"]))
        for k in ("interval", "timeout", "start_period"):
            if R.random() < 0.6:
                self.out(i + 1, "%s: %s" % (k, duration()))
        if R.random() < 0.5:
            self.out(i + 1, "retries: " + num(R.randint(0, 5)))

    def deploy(self, i, dnsrr_ok):
        self.out(i, "deploy:")
        mode = R.random()
        job = 0.1 <= mode < 0.2
        if mode < 0.1:
            self.out(i + 1, "mode: global")
        elif mode < 0.2:
            self.out(i + 1, "mode: replicated-job")
            self.out(i + 1, "replicas: 0")
        else:
            if R.random() < 0.3:
                self.out(i + 1, "mode: replicated")
            self.out(i + 1, "replicas: " + num(0))
        if R.random() < 0.3:
            # the engine refuses ingress ports with dnsrr
            self.out(i + 1, "endpoint_mode: " + R.choice(
                ["vip", "dnsrr"] if dnsrr_ok else ["vip"]))
        if R.random() < 0.5:
            self.out(i + 1, "labels:")
            for _ in range(R.randint(1, 3)):
                self.out(i + 2, "%s: %s" % (name("com.example."),
                                            q(R.choice(["1", "x", "", "a b"]))))
        if R.random() < 0.5:
            self.out(i + 1, "resources:")
            for part in R.sample(["limits", "reservations"], R.randint(1, 2)):
                self.out(i + 2, part + ":")
                self.out(i + 3, "cpus: " + json.dumps(R.choice(
                    ["0.5", "1", "0.125", "2", ".25"])))
                if R.random() < 0.7:
                    self.out(i + 3, "memory: " + json.dumps(size()))
                if part == "reservations" and R.random() < 0.3:
                    self.out(i + 3, "generic_resources:")
                    for kind in R.sample(["gpu", "ssd", "fpga"],
                                         R.randint(1, 2)):
                        self.out(i + 4, "- discrete_resource_spec: "
                                 "{kind: %s, value: %d}" % (
                                     kind, R.randint(1, 4)))
                if part == "limits" and self.version != "3.8" and \
                        R.random() < 0.3:
                    self.out(i + 3, "pids: " + str(R.randint(1, 500)))
        if R.random() < 0.5:
            self.out(i + 1, "restart_policy:")
            # a job may not restart on "any"
            self.out(i + 2, "condition: " + R.choice(
                ["none", "on-failure"] + ([] if job else ["any"])))
            for k in ("delay", "window"):
                if R.random() < 0.5:
                    self.out(i + 2, "%s: %s" % (k, duration()))
            if R.random() < 0.5:
                self.out(i + 2, "max_attempts: " + num(R.randint(0, 5)))
        for part in ("update_config", "rollback_config"):
            if not job and R.random() < 0.4:
                self.out(i + 1, part + ":")
                self.out(i + 2, "parallelism: " + num(R.randint(0, 4)))
                if False:
                    self.out(i + 2, "parallelism: " + num(R.randint(0, 4)))
                for k in ("delay", "monitor"):
                    if R.random() < 0.4:
                        self.out(i + 2, "%s: %s" % (k, duration()))
                if R.random() < 0.4:
                    self.out(i + 2, "failure_action: " + R.choice(
                        ["pause", "continue", "rollback"] if part ==
                        "update_config" else ["pause", "continue"]))
                if R.random() < 0.3:
                    self.out(i + 2, "max_failure_ratio: " + R.choice(
                        ["0.1", ".3", "0", "1"]))
                if R.random() < 0.4:
                    self.out(i + 2, "order: " + R.choice(["start-first",
                                                          "stop-first"]))
        if R.random() < 0.4:
            self.out(i + 1, "placement:")
            if True:
                self.out(i + 2, "constraints: [%s]" % ", ".join(q(c) for c in
                         R.sample(["node.role == manager",
                                   "node.labels.zone!=eu",
                                   "node.platform.os==linux",
                                   "engine.labels.x == y"],
                                  R.randint(1, 3))))
            if R.random() < 0.4:
                self.out(i + 2, "preferences: [{spread: node.labels.%s}]" %
                         name("z"))
            if mode >= 0.2 and R.random() < 0.3:
                self.out(i + 2, "max_replicas_per_node: " + str(
                    R.randint(1, 3)))

    def simple_keys(self, i):
        opts = [
            ("command", lambda: R.choice(['["sleep", "1"]', '"sleep 1"',
                                          "echo 'a b' c", "[]"])),
            ("entrypoint", lambda: R.choice(['["/bin/sh", "-c"]',
                                             '"/bin/sh -c"'])),
            ("user", lambda: q(R.choice(["1000", "nobody", "1000:1000"]))),
            ("working_dir", lambda: "/tmp"),
            ("hostname", lambda: name("h")),
            ("domainname", lambda: "example.org"),
            ("stop_signal", lambda: q(R.choice(["SIGTERM", "SIGINT", "9"]))),
            ("stop_grace_period", duration),
            ("init", lambda: R.choice(["true", "false"])),
            ("tty", lambda: R.choice(["true", "false"])),
            ("stdin_open", lambda: R.choice(["true", "false"])),
            ("read_only", lambda: R.choice(["true", "false"])),
            ("cap_add", lambda: "[%s]" % ", ".join(q(x) for x in R.sample(
                ["NET_ADMIN", "SYS_TIME", "CAP_CHOWN", "ALL", "net_raw",
                 " sys_admin", "RESET", "cap_kill"], R.randint(1, 3)))),
            ("cap_drop", lambda: "[%s]" % ", ".join(q(x) for x in R.sample(
                ["NET_RAW", "MKNOD", "CAP_KILL", "all", "chown", "RESET",
                 "NET_ADMIN"], R.randint(1, 3)))),
            ("dns", lambda: R.choice(['8.8.8.8', '["1.1.1.1", "9.9.9.9"]'])),
            ("dns_search", lambda: R.choice(["example.org",
                                             "[a.example, b.example]"])),
            ("tmpfs", lambda: R.choice(["/run", '["/run", "/tmp"]'])),
            ("isolation", lambda: "default"),
            ("ulimits", lambda: R.choice(["{nproc: 65535}",
                                          "{nofile: {soft: 1024, hard: 2048}}"
                                          ])),
            ("sysctls", lambda: R.choice(
                ["{net.core.somaxconn: 1024}",
                 '["net.ipv4.tcp_syncookies=0"]'])),
            ("logging", lambda: R.choice(
                ['{driver: json-file, options: {max-size: "10m"}}',
                 "{driver: syslog}", "{options: {tag: x}}"])),
            ("labels", lambda: R.choice(['{a: "1", b: x}', '["c=d", "e"]'])),
        ]
        if R.random() < 0.1:
            opts.append(("credential_spec", lambda: R.choice(
                ["{file: spec.json}", "{registry: cred}"])))
        if self.version == "3.13":
            opts.append(("oom_score_adj", lambda: str(R.randint(-500, 500))))
        for k, v in R.sample(opts, R.randint(2, 10)):
            self.out(i, "%s: %s" % (k, v()))
        if R.random() < 0.3:
            self.out(i, "extra_hosts:")
            for h in R.sample(["db:10.0.0.%d" % R.randint(1, 250),
                               "cache=10.1.0.%d" % R.randint(1, 250),
                               "v6:[::1]", "bare-entry"], R.randint(1, 3)):
                self.out(i + 1, "- " + q(h))

    def service(self, n):
        svc = "s%d" % n
        self.out(1, svc + ":")
        self.out(2, "image: " + q(R.choice(IMAGES)))
        ports = R.random() < 0.45
        self.deploy(2, not ports)
        self.simple_keys(2)
        if ports:
            self.ports(2)
        for fn in (self.volumes_key, self.healthcheck, self.networks_key):
            if R.random() < 0.45:
                fn(2)
        if R.random() < 0.5:
            self.env(2, "environment")
        if R.random() < 0.2:
            self.env_file(2, svc)
        for kind in ("secrets", "configs"):
            if R.random() < 0.3:
                self.file_refs(2, kind)

    def toplevel(self):
        if self.networks:
            self.out(0, "networks:")
            for k in self.networks:
                self.out(1, k + ":")
                r = R.random()
                if r < 0.3:
                    self.out(2, "driver: overlay")
                if r < 0.2:
                    self.out(2, "attachable: true")
                if R.random() < 0.3:
                    self.out(2, "labels: {tier: %s}" % q("x"))
                if R.random() < 0.2:
                    self.out(2, "driver_opts: {encrypted: %s}" % q(""))
                if R.random() < 0.15:
                    n = R.randint(1, 250)
                    self.out(2, "ipam:")
                    self.out(3, "config: [{subnet: %s}]" %
                             q("172.%d.%d.0/24" % (16 + n % 16, n)))
        if self.volumes:
            self.out(0, "volumes:")
            for v in sorted(self.volumes):
                self.out(1, v + ":")
                if R.random() < 0.3:
                    self.out(2, "labels: [a=b]")
        for kind, table in (("secrets", self.secrets),
                            ("configs", self.configs)):
            if not table:
                continue
            self.out(0, kind + ":")
            for k in table:
                rel = "%s/%s.txt" % (kind, k)
                self.file(rel, "%s data %d\n" % (k, R.randint(0, 999)))
                self.out(1, k + ":")
                self.out(2, "file: ./" + rel)
                if R.random() < 0.3:
                    self.out(2, "labels: {k: %s}" % q("v"))


def main():
    global R
    seed, d = int(sys.argv[1]), sys.argv[2]
    R = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    st = Stack(d)
    for n in range(R.randint(1, 4)):
        st.service(n)
    st.toplevel()
    with open(os.path.join(d, "stack.yml"), "w") as f:
        f.write("# gen_stack.py %d\n" % seed)
        f.write("\n".join(st.lines) + "\n")


if __name__ == "__main__":
    main()
