#!/usr/bin/env bash
# The daemon's no-op cycle: 100 stacks x 10 services (replicas 0) in a
# watched directory, one throwaway engine.  Once everything is in sync,
# CYCLES cycles (default 20) are read off the status API: the cycle's
# time, of it the time spent asking the engine (observe), and the GET
# requests per cycle.  Prints one markdown row per stackd binary given,
# measured in the same run against the same engine and files; RESYNC
# (a duration) sets the config's resync: 1ms makes every cycle list.
# PROGRESSING=P keeps one service of P stacks starting (health
# progressing): its tasks are then read every cycle, and counted.
# Needs root (dockerd).
#
#   bench/cycle.sh LABEL=STACKD[@RESYNC] [LABEL=STACKD[@RESYNC]...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
cycles=${CYCLES:-20}
moving=${PROGRESSING:-0}
dir=$(mktemp -d /tmp/stackd-cycle.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	"$here/../tests/harness/swarm.sh" stop "$dir/engine" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
"$here/../tests/harness/swarm.sh" start "$dir/engine" 1 >/dev/null 2>&1
export DOCKER_HOST=unix://$dir/engine/e1/sock
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)

. "$here/lib.sh"
make_stacks "$dir/stacks" "$stacks" "$moving"


gets() {
	curl -s "http://127.0.0.1:$port/metrics" |
		sed -n 's/^stackd_engine_requests_total{engine="e1",method="GET"} //p'
}
task_reads() {
	curl -s "http://127.0.0.1:$port/api/v1/status" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['engines'][0]['observe']['task_reads'])"
}

measure() { # label stackd [resync]
	local label=$1 stackd=$2 resync=${3:-} rows rss g0 g1 t0 t1
	cat >"$dir/stackd.yaml" <<EOF
engines:
  - {name: e1, host: "$DOCKER_HOST"}
sources:
  - name: s
    dir: {path: $dir/stacks}
interval: 1s
owner: bench-cycle
stacks: {resolve_image: never}
lease: {enabled: false}
status: {listen: 127.0.0.1:$port}
EOF
	[ -z "$resync" ] || echo "resync: $resync" >>"$dir/stackd.yaml"
	"$stackd" run -c "$dir/stackd.yaml" >"$dir/$label.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do all_synced "$port" "$stacks" "$moving" && break; sleep 0.2; done
	sleep 2	# the first full lists after the stream opens
	g0=$(gets) t0=$(task_reads)
	rows=$(cycle_rows "$port" 0 "$cycles")
	g1=$(gets) t1=$(task_reads)
	rss=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	printf '%s' "$rows" | python3 -c "
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
cyc = statistics.median(r[0] for r in rows)
obs = statistics.median(r[1] for r in rows)
print('| %s | %d | %.3f | %.3f | %.2f | %.1f | %.1f | %s |' % ('$label', len(rows), cyc, obs,
      cyc / obs if obs else 0, ($g1 - $g0) / len(rows), ($t1 - $t0) / len(rows), '$rss'))"
}

echo "## Daemon: the no-op cycle, $stacks stacks x 10 services ($moving progressing), one engine"
echo
echo "\`bench/cycle.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker version --format '{{.Server.Version}}')."
echo "\`stackd run\` on a watched directory, interval 1s, lease off, resolve_image"
echo "never; once every stack is synced, $cycles cycles are read off"
echo "/api/v1/status: the cycle, of it the time asking the engine (observe),"
echo "and the GET requests per cycle (from /metrics)."
echo
echo "| stackd | cycles | median cycle s | median observe s | cycle / observe | GETs / cycle | task reads / cycle | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for arg in "$@"; do
	bin=${arg#*=}
	resync=
	case $bin in *@*) resync=${bin#*@}; bin=${bin%@*} ;; esac
	measure "${arg%%=*}" "$bin" "$resync"
done
