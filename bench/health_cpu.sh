#!/usr/bin/env bash
# The no-op event-fed cycle's CPU, two stackd binaries alternating: 100
# stacks x 10 services (replicas 0, all healthy) on the engine in
# DOCKER_HOST, CPU (utime + stime) per cycle over 30 s each, twice.  The
# CPU of the daemon's children (the status process) counts too.
#
#   bench/health_cpu.sh OLD_STACKD NEW_STACKD
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
old=$(realpath "${1:?usage: bench/health_cpu.sh OLD NEW}") new=$(realpath "${2:?}")
tmp=$(mktemp -d /tmp/stackd-hcpu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir -p empty
[ -d stacks ] || make_stacks stacks 100
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)
tick=$(getconf CLK_TCK)
measure() { # label bin
	stacks_config cpu "$port" >stackd.yaml
	"$2" run -c stackd.yaml >log.$1 2>&1 & local pid=$!
	for i in $(seq 600); do all_synced $port 100 && break; sleep 0.5; done
	sleep 5
	cyc() { curl -s http://127.0.0.1:$port/api/v1/status | python3 -c "import json,sys; print(json.load(sys.stdin)['engines'][0]['cycles'])"; }
	cpu() { # the daemon and its live children (status process: 2nd word
		# of stat may hold spaces, so count fields from the end)
		local t=0 p
		for p in $pid $(pgrep -P $pid); do
			t=$((t + $(awk '{print $(NF-38)+$(NF-37)}' /proc/$p/stat 2>/dev/null || echo 0)))
		done
		echo $t
	}
	c0=$(cyc); t0=$(cpu); sleep 30; c1=$(cyc); t1=$(cpu)
	echo "$1 cycles $((c1-c0)) cpu_ms_per_cycle $(python3 -c "print(round(($t1-$t0)*1000/$tick/($c1-$c0),1))")"
	kill $pid; wait $pid 2>/dev/null
}
for r in 1 2; do measure old "$old"; measure new "$new"; done
"$new" apply --dir empty --allow-empty --owner cpu >/dev/null 2>&1
