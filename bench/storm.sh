#!/usr/bin/env bash
# An events storm: once 100 stacks x 10 services are in sync, UPDATES
# hand-made updates (default 1000, each service once) are sent straight
# to the engine by 4 clients as fast as it takes them.  Measured: how long
# the storm took, when the last service was repaired (after the storm's
# end), the cycles stackd ran meanwhile and the updates it wrote.  The
# interval is 60 s: the events alone drive the repairs.  Prints a
# markdown section.  Needs root (dockerd).
#
#   bench/storm.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
updates=${UPDATES:-1000}
dir=$(mktemp -d /tmp/stackd-storm.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	"$here/../tests/harness/swarm.sh" stop "$dir/engine" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
"$here/../tests/harness/swarm.sh" start "$dir/engine" 1 >/dev/null 2>&1
sock=$dir/engine/e1/sock
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)
. "$here/lib.sh"
make_stacks "$dir/stacks" "$stacks"
cat >"$dir/stackd.yaml" <<EOF
engines:
  - {name: e1, host: "unix://$sock"}
sources:
  - name: s
    dir: {path: $dir/stacks}
interval: 60s
owner: bench-storm
stacks: {resolve_image: never}
lease: {enabled: false}
status: {listen: 127.0.0.1:$port}
EOF
"$build/stackd" run -c "$dir/stackd.yaml" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 900); do all_synced "$port" "$stacks" && break; sleep 0.2; done
sleep 3
metric() { curl -s "http://127.0.0.1:$port/metrics" | sed -n "s/^$1 //p"; }
cycles='stackd_reconcile_cycles_total{engine="e1"}'
writes='stackd_writes_total{engine="e1",action="update",kind="service"}'
c0=$(metric "$cycles") w0=$(metric "$writes")

# The storm, then the wait for the last repair; both timed here.
python3 - "$sock" "$stacks" "$updates" <<'PY' >"$dir/times"
import http.client, json, socket, sys, threading, time

sock, stacks, updates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)

def call(c, method, path, body=None):
    c.request(method, path, body, {"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, r.read()

names = ["b%d_s%d" % (i % stacks, (i // stacks) % 10) for i in range(updates)]

def storm(part):
    c = C("engine")
    for name in part:
        _, body = call(c, "GET", "/services/" + name)
        svc = json.loads(body)
        svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"].append("STORM=1")
        call(c, "POST", "/services/%s/update?version=%d" % (svc["ID"], svc["Version"]["Index"]),
             json.dumps(svc["Spec"]))

t0 = time.monotonic()
threads = [threading.Thread(target=storm, args=(names[k::4],)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
t1 = time.monotonic()
c = C("engine")
while True:
    _, body = call(c, "GET", '/services?filters={"label":["com.docker.stack.namespace"]}')
    left = [s for s in json.loads(body)
            if "STORM=1" in s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env", [])]
    if not left:
        break
    if time.monotonic() - t1 > 300:
        print("unrepaired", len(left))
        break
    time.sleep(0.1)
t2 = time.monotonic()
print("%.1f %.1f" % (t1 - t0, t2 - t1))
PY
c1=$(metric "$cycles") w1=$(metric "$writes")
read -r storm_s after_s <"$dir/times"
last=$(curl -s "http://127.0.0.1:$port/api/v1/status" | python3 -c "import json,sys; print(json.load(sys.stdin)['engines'][0]['last_cycle_seconds'])")

echo "## Events storm: $updates hand-made updates, $stacks stacks x 10 services"
echo
echo "\`bench/storm.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker -H "unix://$sock" version --format '{{.Server.Version}}')."
echo "Interval 60 s, lease off, resolve_image never: only the events wake"
echo "the worker. 4 clients send the updates straight to the engine."
echo
echo "| updates | storm s | last repair after the storm s | cycles | updates written | last cycle s |"
echo "|---:|---:|---:|---:|---:|---:|"
echo "| $updates | $storm_s | $after_s | $((c1 - c0)) | $((w1 - w0)) | $last |"
