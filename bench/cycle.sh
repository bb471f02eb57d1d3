#!/usr/bin/env bash
# The daemon's no-op cycle: 100 stacks x 10 services (replicas 0) in a
# watched directory, one throwaway engine.  Once everything is in sync,
# CYCLES cycles (default 20) are read off the status API: the cycle's
# time, and of it the engine's list calls (observe).  Prints one markdown
# row per stackd binary given, measured in the same run against the same
# engine and files.  Needs root (dockerd).
#
#   bench/cycle.sh LABEL=STACKD [LABEL=STACKD...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
cycles=${CYCLES:-20}
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

for i in $(seq 0 $((stacks - 1))); do
	mkdir -p "$dir/stacks/b$i"
	{
		echo 'services:'
		for s in $(seq 0 9); do
			printf '  s%d:\n    image: local/busybox:1\n' "$s"
			printf '    environment: ["STACK=%d", "S=%d"]\n' "$i" "$s"
			printf '    deploy: {replicas: 0, labels: [bench=%d]}\n' "$i"
		done
	} >"$dir/stacks/b$i/compose.yaml"
done

. "$here/lib.sh"
synced() {
	curl -s "http://127.0.0.1:$port/api/v1/stacks" |
		python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if len(j) == $stacks and all(s['state'] == 'synced' for s in j) else 1)" 2>/dev/null
}

measure() { # label stackd
	local label=$1 stackd=$2 rows rss
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
	"$stackd" run -c "$dir/stackd.yaml" >"$dir/$label.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do synced && break; sleep 0.2; done
	rows=$(cycle_rows "$port" 0 "$cycles")
	rss=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	printf '%s' "$rows" | python3 -c "
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
cyc = statistics.median(r[0] for r in rows)
obs = statistics.median(r[1] for r in rows)
print('| %s | %d | %.3f | %.3f | %.2f | %s |' % ('$label', len(rows), cyc, obs, cyc / obs if obs else 0, '$rss'))"
}

echo "## Daemon: the no-op cycle, $stacks stacks x 10 services, one engine"
echo
echo "\`bench/cycle.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker version --format '{{.Server.Version}}')."
echo "\`stackd run\` on a watched directory, interval 1s, lease off, resolve_image"
echo "never; once every stack is synced, $cycles cycles are read off"
echo "/api/v1/status: the cycle, and of it the five list calls (observe)."
echo
echo "| stackd | cycles | median cycle s | median observe s | cycle / observe | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
for arg in "$@"; do
	measure "${arg%%=*}" "${arg#*=}"
done
