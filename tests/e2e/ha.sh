#!/usr/bin/env bash
# High availability on a swarm of three managers and a worker (its own,
# started here with swarm.sh cluster): failover between managers while an
# apply runs, the return to the preferred manager, quorum lost and back,
# a worker lost (the engine reschedules, stackd writes nothing), the
# writer's lease between two daemons (SIGKILL, SIGSTOP past the TTL,
# SIGTERM), and a change by hand right after stackd's own write.
# Prints TAP; timings go to stderr (# lines) for bench/RESULTS.md.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
swarm=$here/../harness/swarm.sh
d=$(mktemp -d /tmp/stackd-ha.XXXXXX)
c=$d/cluster
pids=()

cleanup() {
	local p
	# A failure is easier to read with the daemons' own words.
	[ -z "${STACKD_HA_LOGS:-}" ] || cp "$d"/*.log "$STACKD_HA_LOGS"/ 2>/dev/null
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$swarm" stop "$c" >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
"$swarm" cluster "$c" 3 1 >"$d/env" 2>"$d/cluster.log" || { cat "$d/cluster.log"; echo "not ok 1 - cluster started"; exit 1; }
# shellcheck disable=SC1091
. "$d/env"
m() { DOCKER_HOST=$1 docker "${@:2}"; }
any() { # docker at the first manager that answers as one
	local h
	for h in $STACKD_TEST_MANAGERS; do m "$h" node ls >/dev/null 2>&1 && { m "$h" "$@"; return; }; done
	return 1
}
now() { date +%s.%N; }
since() { python3 -c "print('%.2f' % ($(now) - $1))"; }
status() { curl -s "http://127.0.0.1:$1/api/v1/status"; }
engine_is() { status "$1" | py "$2"; }
synced() { curl -s "http://127.0.0.1:$1/api/v1/stacks" | py 'j and all(s["state"] == "synced" for s in j)'; }
writes() { grep -cE 'msg="?(created|updated|removed)' "$1"; }	# quoted when fields follow
eq() { [ "$("${@:2}")" = "$1" ]; }	# eq VALUE CMD...: polled by within
# Tasks of a service running on a node other than $2 (NodeID, or "").
tasks_running() {
	local sock=${STACKD_TEST_ENGINE1#unix://}
	curl -s --unix-socket "$sock" -G http://x/v1.41/tasks \
		--data-urlencode "filters={\"service\":[\"$1\"],\"desired-state\":[\"running\"]}" |
		python3 -c "import json,sys; print(sum(1 for t in json.load(sys.stdin) if t['Status']['State'] == 'running' and t.get('NodeID') != '${2:-}'))"
}

mkdir -p "$d/stacks/web" "$d/stacks/big"
# On the host network: the harness's nodes share one network namespace,
# where only one of them can create an overlay network's vxlan device.
cat >"$d/stacks/web/compose.yaml" <<'EOF'
services:
  app:
    image: local/busybox:1
    networks: [hostnet]
    deploy: {replicas: 2}
  agent:
    image: local/busybox:1
    networks: [hostnet]
    deploy: {mode: global}
  edge:
    image: local/busybox:1
    networks: [hostnet]
    deploy:
      placement: {constraints: [node.role == worker]}
networks:
  hostnet: {external: true, name: host}
EOF
# Manager 1 is reached through tests/harness/killproxy.py, which SIGKILLs
# its dockerd when the 21st service create arrives: the kill lands in the
# middle of the apply on any machine, where a poll loop raced it and lost.
pref=unix://$d/proxy.sock
python3 "$here/../harness/killproxy.py" "$d/proxy.sock" "${STACKD_TEST_ENGINE1#unix://}" \
	"$c/e1/pid" '/services/create ' 21 >"$d/proxy.log" 2>&1 &
pids+=($!)
within 10 grep -q ready "$d/proxy.log"
hosts=$(printf '%s, ' "$pref" ${STACKD_TEST_MANAGERS#* }); hosts=[${hosts%, }]
config() { # file port
	cat >"$1" <<EOF
engines:
  - name: swarm
    hosts: $hosts
sources:
  - name: s
    dir: {path: $d/stacks, debounce: 100ms}
interval: 5s
lease: {ttl: 6s}
owner: e2e-ha
status: {listen: 127.0.0.1:$2}
EOF
}
config "$d/a.yaml" 19231
config "$d/b.yaml" 19232
daemon() { # config log
	"$stackd" run -c "$1" >>"$2" 2>&1 &
	echo $!
}

# --- the CLI's deployment of the same file, on the same topology --------
conf=$here/../conformance
e1() { DOCKER_HOST=$STACKD_TEST_ENGINE1 "$@"; }
# The roles of the nodes running each task of the global and the
# constrained service: "agent=manager,manager,manager,worker edge=worker".
placement() { # STACK
	python3 - "${STACKD_TEST_ENGINE1#unix://}" "$1" <<'EOF'
import http.client, json, socket, sys, urllib.parse
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])
def get(path):
    c = C("x"); c.request("GET", "/v1.41" + path); return json.loads(c.getresponse().read())
roles = {n["ID"]: n["Spec"]["Role"] for n in get("/nodes")}
out = []
for svc in ("agent", "edge"):
    f = urllib.parse.quote(json.dumps({"service": [sys.argv[2] + "_" + svc], "desired-state": ["running"]}))
    r = sorted(roles.get(t.get("NodeID"), "?") for t in get("/tasks?filters=" + f) if t["Status"]["State"] == "running")
    out.append(svc + "=" + ",".join(r))
print(" ".join(out))
EOF
}
want="agent=manager,manager,manager,worker edge=worker"
e1 docker stack deploy --resolve-image never -c "$d/stacks/web/compose.yaml" cliweb >"$d/cli.out" 2>&1
check "docker stack deploy: the global service on each node, the constrained one on the worker" \
	within 60 eq "$want" placement cliweb
e1 python3 "$conf/compare.py" snapshot cliweb "$d/cli.json"
e1 docker stack rm cliweb >/dev/null 2>&1
cli_gone() { [ -z "$(e1 docker service ls -q --filter label=com.docker.stack.namespace=cliweb)" ]; }
within 60 cli_gone

a=$(daemon "$d/a.yaml" "$d/a.log"); pids+=("$a")
check "the daemon converges the stacks through the first manager" \
	within 40 synced 19231
check "stackd places the tasks as the CLI did" within 40 eq "$want" placement web
e1 python3 "$conf/compare.py" snapshot web "$d/stackd.json"
check "and writes the specs the CLI wrote (compare.py)" \
	e1 python3 "$conf/compare.py" diff "$d/cli.json" "$d/stackd.json"
check "a global service runs a task on each of the 4 nodes" \
	within 40 eq 4 tasks_running web_agent
worker_id=$(m "$STACKD_TEST_ENGINE4" info --format '{{.Swarm.NodeID}}')
check "node.role == worker places the task on the worker" \
	within 30 eq 0 tasks_running web_edge "$worker_id"
check "the lease is this daemon's, the preferred manager in use" \
	engine_is 19231 'j["engines"][0]["lease"]["role"] == "writer" and j["engines"][0]["address"] == "'"$pref"'"'
check "and it runs there" within 30 eq 1 tasks_running web_edge

# --- the leader killed in the middle of an apply ---------------------------
{
	echo "services:"
	for i in $(seq -w 1 60); do printf '  s%s:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' "$i"; done
} >"$d/stacks/big/compose.yaml.new"
mv "$d/stacks/big/compose.yaml.new" "$d/stacks/big/compose.yaml"
leader_gone() { # a zombie is dead too
	local p; p=$(cat "$c/e1/pid")
	[ ! -e "/proc/$p" ] || grep -q '^[0-9]* (.*) Z' "/proc/$p/stat"
}
within 30 leader_gone
t_kill=$(now)
big() { any service ls -q --filter label=com.docker.stack.namespace=big 2>/dev/null | wc -l; }
check "after the leader's SIGKILL the apply goes on through another manager: 60 services" \
	within 90 eq 60 big
echo "# failover: kill of the leader -> all 60 services: $(since "$t_kill") s" >&2
# The daemon logs what an apply made once it ends: the creates before the
# failed one, its error, then the rest in a later cycle.
made=$(sed -n '/stack=big .*create service big_s.*: /q;/stack=big .*msg="\?created/p' "$d/a.log" | wc -l)
check "the kill fell mid-apply: $made creates made, then one failed on the dead manager" \
	eval '[ "$made" -gt 0 ] && [ "$made" -lt 61 ] && grep -q "error .*stack=big .*create service big_s" "$d/a.log"'
check "every object of big is created once (61 created lines)" \
	test "$(grep -c 'stack=big .*msg="\?created' "$d/a.log")" = 61
check "no service is duplicated (60 names, each once)" \
	test "$(any service ls --filter label=com.docker.stack.namespace=big --format '{{.Name}}' | sort -u | wc -l)" = 60
check "status shows the manager in use and the failover" \
	within 20 engine_is 19231 'j["engines"][0]["address"] != "'"$pref"'" and j["engines"][0]["failovers"] >= 1 and "switched from" in j["engines"][0]["last_failover"]'
check "the log says why it failed over" grep -q 'msg="switched from unix://.*/proxy.sock to' "$d/a.log"
"$swarm" restart "$c" 1 2>/dev/null
check "the preferred manager is used again once it is back" \
	within 40 engine_is 19231 'j["engines"][0]["address"] == "'"$pref"'"'
check "and every stack is in sync" within 30 synced 19231

# --- a change by hand 0.2 s after stackd's own write ----------------------
# Scale web_app to 5 by hand and print how long until stackd has it back
# at 3; with a path, first change the file to 3 replicas and do it 0.2 s
# after stackd's own update (inside the own-write window).
hand_change() { # [COMPOSE_FILE]
	python3 - "$STACKD_TEST_ENGINE1" "$@" <<'EOF'
import json, os, subprocess, sys, time
env = {"DOCKER_HOST": sys.argv[1], "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
if len(sys.argv) > 2:
    path = sys.argv[2]
    ev = subprocess.Popen(["docker", "events", "--filter", "type=service", "--filter",
        "service=web_app", "--format", "{{json .}}"], stdout=subprocess.PIPE, text=True, env=env)
    time.sleep(0.5)
    text = open(path).read().replace("replicas: 2", "replicas: 3")
    open(path + ".new", "w").write(text)
    os.rename(path + ".new", path)
    for line in ev.stdout:
        e = json.loads(line)
        if e["Action"] == "update" and e["Actor"]["Attributes"].get("replicas.new") == "3":
            break
    ev.kill()
    time.sleep(0.2)
t0 = time.time()
subprocess.run(["docker", "service", "scale", "-d", "web_app=5"], capture_output=True, env=env)
while time.time() - t0 < 10:
    r = subprocess.run(["docker", "service", "inspect", "web_app", "--format",
        "{{.Spec.Mode.Replicated.Replicas}}"], capture_output=True, text=True, env=env).stdout.strip()
    if r == "3":
        break
    time.sleep(0.05)
print("%.2f" % (time.time() - t0))
EOF
}
ow=$(hand_change "$d/stacks/web/compose.yaml")
# The same hand change at a quiet moment (past the 3 s window), in the
# same run: the bound to hold, whatever the machine's load.
sleep 4
quiet=$(hand_change)
echo "# own-write window: a hand change 0.2 s after stackd's update repaired in $ow s, at a quiet moment in $quiet s" >&2
# Within 1 s; on a machine so loaded that the quiet-moment repair itself
# is slow, no slower than that plus 0.3 s.
check "a hand change 0.2 s after stackd's own update is repaired within 1 s ($ow s; quiet: $quiet s)" \
	python3 -c "import sys; sys.exit(0 if float('$ow') <= max(1.0, float('$quiet') + 0.3) else 1)"

# --- a worker lost: the engine reschedules, stackd writes nothing ---------
# The hand changes above scaled web_app to 5 and back: let the engine
# finish shutting the extra tasks down first, so that what follows the
# kill is the engine's rescheduling alone (seen in CI: 5 still running).
check "web_app is back to its 3 tasks before the worker is lost" \
	within 60 eq 3 tasks_running web_app
w0=$(writes "$d/a.log")
# From the kill on, what the status says of web: web_edge can run on the
# worker only, so no node satisfies it: degraded, and saying why, while
# its spec is still the file's (no write is due).
short() {
	curl -s "http://127.0.0.1:19231/api/v1/stacks/web" | py 'j["health"] == "degraded" and j["state"] != "failed" and any(s["running"] < s["desired"] and s["health"] == "degraded" and "no suitable node" in s["health_reason"] for e in j["engines"].values() for s in e["services"])'
}
(within 120 short && touch "$d/short") &
watcher=$!
"$swarm" kill "$c" 4 2>/dev/null
node_down() { any node ls --format '{{.Hostname}} {{.Status}}' | grep -q Down; }
check "the worker's node goes down" within 60 node_down
check "the engine reschedules web_app off the lost worker (3 running on managers)" \
	within 90 eq 3 tasks_running web_app "$worker_id"
# Once seen failing in CI, with nothing to say why: the spec, tasks, nodes.
eq 3 tasks_running web_app "$worker_id" || {
	echo "# $(tasks_running web_app "$worker_id") running off the worker, spec replicas $(any service inspect web_app --format '{{.Spec.Mode.Replicated.Replicas}} version {{.Version.Index}}'); web_app's tasks and the nodes:"
	any service ps --no-trunc web_app 2>&1 | sed 's/^/#   /'
	any node ls 2>&1 | sed 's/^/#   /'
} >&2
sleep 6
check "stackd wrote nothing while the engine rescheduled" test "$(writes "$d/a.log")" = "$w0"
wait "$watcher"
check "the status said web was degraded: no node for web_edge" test -f "$d/short"
"$swarm" restart "$c" 4 2>/dev/null
web_synced() { curl -s "http://127.0.0.1:19231/api/v1/stacks/web" | py 'j["state"] == "synced" and j["health"] == "healthy"'; }
check "and once the worker is back, synced and healthy again, still without a write" \
	eval 'within 90 web_synced && [ "$(writes "$d/a.log")" = "$w0" ]'

# --- quorum lost: nothing written, said so, resumed --------------------
"$swarm" kill "$c" 2 2>/dev/null
"$swarm" kill "$c" 3 2>/dev/null
w0=$(writes "$d/a.log")
sed -i 's/replicas: 3/replicas: 1/' "$d/stacks/web/compose.yaml"
check "with two of three managers down the status says no manager can serve" \
	within 60 engine_is 19231 'not j["engines"][0]["reachable"] and "no manager can serve" in (j["engines"][0]["error"] or "")'
check "and nothing was written" test "$(writes "$d/a.log")" = "$w0"
t_q=$(now)
"$swarm" restart "$c" 2 2>/dev/null &
"$swarm" restart "$c" 3 2>/dev/null
wait $!
replicas() { any service inspect web_app --format '{{.Spec.Mode.Replicated.Replicas}}' 2>/dev/null; }
check "once quorum is back the change is applied" within 90 eq 1 replicas
echo "# quorum back (restart begun) -> change applied: $(since "$t_q") s" >&2

# --- two daemons, one writer -------------------------------------------
b=$(daemon "$d/b.yaml" "$d/b.log"); pids+=("$b")
check "a second daemon stands by and says who holds the lease" \
	within 20 engine_is 19232 'j["engines"][0]["lease"]["role"] == "standby" and "lease held by" in j["engines"][0]["standby"]'
check "the standby's metrics say it holds no lease" \
	sh -c "curl -s http://127.0.0.1:19232/metrics | grep -q '^stackd_lease_held{engine=\"swarm\"} 0'"
any service scale -d web_app=4 >/dev/null 2>&1
check "drift is repaired by the writer" within 20 eq 1 replicas
check "the standby wrote nothing" test "$(writes "$d/b.log")" = 0
t_k=$(now)
kill -KILL "$a"
check "SIGKILL of the writer: the standby takes over within the TTL and a poll (8 s)" \
	within 8 engine_is 19232 'j["engines"][0]["lease"]["role"] == "writer"'
echo "# lease: SIGKILL of the holder -> standby writer in $(since "$t_k") s (ttl 6 s)" >&2
a=$(daemon "$d/a.yaml" "$d/a.log"); pids+=("$a")
check "the restarted daemon stands by" within 20 engine_is 19231 'j["engines"][0]["lease"]["role"] == "standby"'
kill -STOP "$b"
check "SIGSTOP of the writer past the TTL: the other takes over" \
	within 15 engine_is 19231 'j["engines"][0]["lease"]["role"] == "writer"'
sed -i 's/replicas: 1/replicas: 2/' "$d/stacks/web/compose.yaml"
check "the new writer applies the next change" within 20 eq 2 replicas
wb=$(writes "$d/b.log")
kill -CONT "$b"
sed -i 's/replicas: 2/replicas: 1/' "$d/stacks/web/compose.yaml"
check "after SIGCONT the old writer stands by" \
	within 15 engine_is 19232 'j["engines"][0]["lease"]["role"] == "standby"'
check "the change after SIGCONT is applied once" within 20 eq 1 replicas
sleep 3
check "the resumed old writer wrote nothing" test "$(writes "$d/b.log")" = "$wb"
t_t=$(now)
kill -TERM "$a"; wait "$a" 2>/dev/null
check "SIGTERM gives the lease up: the standby takes over within 3 s" \
	within 3 engine_is 19232 'j["engines"][0]["lease"]["role"] == "writer"'
echo "# lease: SIGTERM of the holder -> standby writer in $(since "$t_t") s" >&2
