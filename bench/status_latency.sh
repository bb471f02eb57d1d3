#!/usr/bin/env bash
# The status server's answer time, two stackd binaries one after the
# other: 100 stacks x 10 services (replicas 0) on the engine in
# DOCKER_HOST; once synced, 200 requests of each route (curl, one at a
# time) while the daemon cycles every second.  Prints a markdown table
# of the median and 95th percentile, ms.
#
#   bench/status_latency.sh OLD_STACKD NEW_STACKD
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
old=$(realpath "${1:?usage: bench/status_latency.sh OLD NEW}") new=$(realpath "${2:?}")
tmp=$(mktemp -d /tmp/stackd-lat.XXXXXX)
pid=
trap '[ -z "$pid" ] || kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir -p empty
make_stacks stacks 100
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)
routes="/ /metrics /api/v1/status /api/v1/stacks /api/v1/stacks/b7 /stacks/b7"
measure() { # label bin
	stacks_config latency "$port" >stackd.yaml
	"$2" run -c stackd.yaml >log.$1 2>&1 & pid=$!
	for _ in $(seq 600); do all_synced $port 100 && break; sleep 0.5; done
	sleep 3
	for r in $routes; do
		for _ in $(seq 200); do
			curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$r"
		done | python3 -c "
import statistics, sys
t = sorted(float(l) * 1000 for l in sys.stdin)
print('| $1 | $r | %.2f | %.2f |' % (statistics.median(t), t[int(len(t) * 0.95)]))"
	done
	kill $pid; wait $pid 2>/dev/null; pid=
}
echo "| stackd | route | median ms | p95 ms |"
echo "|---|---|---:|---:|"
measure before "$old"
measure after "$new"
"$new" apply --dir empty --allow-empty --owner latency >/dev/null 2>&1
