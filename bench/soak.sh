#!/usr/bin/env bash
# The soak: `stackd run` on examples/ against a throwaway engine, cycling
# as fast as it may (--interval 20ms), for CYCLES no-op reconcile cycles
# (default 10 000).  Samples the daemon's resident memory every tenth of the
# way and the writes it made after the first cycle: the RSS must stay flat
# and the writes at zero.  Prints a markdown section.  Needs root (dockerd).
#
#   bench/soak.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cycles=${CYCLES:-10000}
port=19095
dir=$(mktemp -d /tmp/stackd-soak.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	"$here/../tests/harness/swarm.sh" stop "$dir/engine" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
# Its own swarm address, so that it can run beside a test run.
STACKD_E1_ADDR=127.0.0.5 STACKD_E1_DATA_PORT=4793 \
	"$here/../tests/harness/swarm.sh" start "$dir/engine" 1 >/dev/null 2>&1
export DOCKER_HOST=unix://$dir/engine/e1/sock

"$build/stackd" run --dir "$here/../examples" --interval 20ms --owner soak \
	--listen "127.0.0.1:$port" --log-level warn >"$dir/log" 2>&1 &
pid=$!

status() { curl -s "http://127.0.0.1:$port/api/v1/status"; }
field() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
ncycles() { status | field "j['engines'][0]['cycles']" 2>/dev/null || echo 0; }
writes() {
	curl -s "http://127.0.0.1:$port/metrics" |
		awk '/^stackd_writes_total/ { n += $2 } END { print n + 0 }'
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

# Deployed and settled: every stack synced.
for _ in $(seq 1 600); do
	curl -s "http://127.0.0.1:$port/api/v1/stacks" 2>/dev/null |
		field "all(s['state'] == 'synced' for s in j) and len(j) > 0" 2>/dev/null |
		grep -q True && break
	sleep 0.5
done
start=$(ncycles)
w0=$(writes)
t0=$(date +%s)

echo "## Soak: $cycles no-op reconcile cycles"
echo
echo "\`bench/soak.sh\`: \`stackd run --dir examples --interval 20ms\` on a throwaway"
echo "engine after the first deploy; $(date -u +%Y-%m-%d), $(nproc) cores."
echo
echo "| cycles | RSS (KiB) | writes since the start |"
echo "|---:|---:|---:|"
echo "| 0 | $(rss) | 0 |"
step=$((cycles / 10))
next=$step
while :; do
	n=$(( $(ncycles) - start ))
	if [ "$n" -ge "$next" ]; then
		echo "| $n | $(rss) | $(( $(writes) - w0 )) |"
		[ "$n" -ge "$cycles" ] && break
		next=$((next + step))
	fi
	kill -0 "$pid" || { echo "stackd died:"; tail -5 "$dir/log"; exit 1; }
	sleep 1
done
t1=$(date +%s)
echo
echo "$cycles cycles in $((t1 - t0)) s ($(awk -v c="$cycles" -v s="$((t1 - t0))" 'BEGIN { printf "%.0f", c / (s ? s : 1) }') cycles/s, 5 engine calls each)."
