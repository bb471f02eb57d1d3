#!/usr/bin/env bash
# The event-fed informer: an idle daemon makes no engine call per cycle, a
# hand change is seen through its event and repaired, a silent event
# stream leaves drift unrepaired no longer than one resync, a closed one
# makes every cycle list again until it is back, and a storm of hand
# updates is coalesced and every one repaired.  stackd reaches the engine
# through tests/harness/eventproxy.py, which loses the event stream on
# purpose.  Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-events.XXXXXX)
pid= ppid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	[ -z "$ppid" ] || { kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-events >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
engine_sock=${DOCKER_HOST#unix://}
mkdir -p "$d/src/ev" "$d/empty" "$d/ctl"
{
	echo 'services:'
	for s in a b c; do
		printf '  %s:\n    image: local/busybox:1\n    environment: {WHO: %s}\n    deploy: {replicas: 0}\n' "$s" "$s"
	done
} >"$d/src/ev/compose.yaml"
python3 "$here/../harness/eventproxy.py" "$d/proxy.sock" "$engine_sock" "$d/ctl" >"$d/proxy.log" 2>&1 &
ppid=$!
within 10 test -S "$d/proxy.sock"
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
resync=10
cat >"$d/stackd.yaml" <<YAML
engines:
  - {name: local, host: "unix://$d/proxy.sock"}
sources:
  - name: s
    dir: {path: src, debounce: 100ms}
owner: e2e-events
interval: 1s
resync: ${resync}s
lease: {enabled: false}
status: {listen: "127.0.0.1:$port"}
YAML
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!

status() { curl -s "http://127.0.0.1:$port/api/v1/status"; }
# The engine's cycles, full lists and quiet observes, as named in $1.
field() { status | python3 -c "
import json, sys
e = json.load(sys.stdin)['engines'][0]
f = {'cycles': e['cycles'], 'lists': e['observe']['lists'],
     'quiet': e['observe']['quiet']}
print(*(f[k] for k in '$1'.split()))"; }
gets() { curl -s "http://127.0.0.1:$port/metrics" |
	sed -n 's/^stackd_engine_requests_total{engine="local",method="GET"} //p'; }
synced() { curl -s "http://127.0.0.1:$port/api/v1/stacks" | py "len(j) == 1 and j[0]['state'] == 'synced'"; }
env_of() { docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' "$1" 2>/dev/null; }
repaired() { [ "$(env_of "ev_$1")" = "[\"WHO=$1\"]" ]; }
hand() { docker service update --detach --env-add "EVIL=$2" "ev_$1" >/dev/null; }
# Wait for a full list to have just happened (the stream taken, a write,
# a resync): what follows then has the longest stretch before the next.
fresh_list() {
	local l
	l=$(field lists)
	within $((resync + 5)) eval '[ "$(field lists)" -gt "$l" ]'
}

check "the stack is deployed through the proxy" within 60 synced
out=$(tail -5 "$d/log")

# 1. Idle: cycles go on, and none asks the engine anything.
sleep 2
g0=$(gets) c0=$(field cycles)
sleep 4
g1=$(gets) c1=$(field cycles)
out="GETs $g0 -> $g1, cycles $c0 -> $c1"
check "an idle daemon: $((c1 - c0)) cycles in 4 s, no engine call" \
	eval '[ $((c1 - c0)) -ge 3 ] && [ "$g1" -eq "$g0" ]'

# 2. A hand change is heard and repaired with an inspect, not a list per
#    cycle.
g0=$(gets)
hand a 1
check "a hand change is repaired through its event" within 5 repaired a
sleep 2
g1=$(gets)
out="GETs $g0 -> $g1; $(grep -c 'engine event' "$d/log") events logged"
check "it cost a handful of calls ($((g1 - g0))), not a list each cycle" \
	eval '[ $((g1 - g0)) -le 14 ]'

# 3. A silent stream: the change is not seen until the resync, then it is.
fresh_list
touch "$d/ctl/mute"
t0=$(date +%s.%N)
hand b 2
sleep 3
out="$(env_of ev_b)"
check "a muted event stream: the hand change is not seen at once" eval '! repaired b'
check "a muted event stream: the resync (${resync}s) repairs it" within $((resync + 3)) repaired b
t1=$(date +%s.%N)
out=$(grep "ev_b" "$d/log" | tail -2)
check "repaired $(python3 -c "print(round($t1 - $t0, 1))") s after the change, within one resync" \
	eval "python3 -c 'import sys; sys.exit(0 if $t1 - $t0 <= $resync + 3 else 1)'"
rm -f "$d/ctl/mute"

# 4. A closed stream: every cycle lists in full until it is back.
touch "$d/ctl/cut"
within 5 grep -q "event stream:" "$d/log"
hand c 3
check "a closed event stream: a hand change is still repaired at the next cycle" within 5 repaired c
# One document for both: a cycle between two reads would skew them.
read -r c0 l0 < <(field "cycles lists")
sleep 3
read -r c1 l1 < <(field "cycles lists")
out="lists $l0 -> $l1, cycles $c0 -> $c1"
check "while it is closed, every cycle lists everything" \
	eval '[ $((c1 - c0)) -ge 2 ] && [ $((l1 - l0)) -ge $((c1 - c0)) ]'
rm -f "$d/ctl/cut"
q0=$(field quiet)
check "once it is back, cycles are quiet again" within 20 eval '[ "$(field quiet)" -gt "$q0" ]'
within 5 synced
sleep 1
g0=$(gets)
sleep 3
g1=$(gets)
out="GETs $g0 -> $g1"
check "and cost no call" eval '[ "$g1" -eq "$g0" ]'

# 5. A storm: 150 hand updates in a few seconds, straight to the engine.
c0=$(field cycles)
python3 - "$engine_sock" <<'PY'
import http.client, json, socket, sys

class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])

c = C("engine")
for i in range(150):
    name = "ev_" + "abc"[i % 3]
    c.request("GET", "/services/" + name)
    svc = json.loads(c.getresponse().read())
    svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = ["WHO=storm%d" % i]
    c.request("POST", "/services/%s/update?version=%d" % (svc["ID"], svc["Version"]["Index"]),
              json.dumps(svc["Spec"]), {"Content-Type": "application/json"})
    c.getresponse().read()
PY
check "after a storm of 150 hand updates every service is repaired" within 15 eval \
	'repaired a && repaired b && repaired c'
sleep 2
c1=$(field cycles)
out="cycles $c0 -> $c1; $(grep -c 'drift repaired' "$d/log") repairs logged"
check "the storm was coalesced: $((c1 - c0)) cycles for 150 updates" eval '[ $((c1 - c0)) -lt 75 ]'
check "and the stack is synced" within 10 synced
echo "1..$n"
