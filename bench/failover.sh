#!/usr/bin/env bash
# Failover time: on a harness swarm of three managers, the leader's dockerd
# is SIGKILLed right after a change to a stack file; measured are the raft
# election (kill -> a surviving manager names a new leader: the floor) and
# stackd's recovery (kill -> its next successful write, from its log).
# Ten kills; prints each and the medians.
#
#   bench/failover.sh BUILD_DIR [KILLS]
set -euo pipefail
build=${1:?usage: bench/failover.sh BUILD_DIR [KILLS]}
kills=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
swarm=$here/../tests/harness/swarm.sh
d=$(mktemp -d /tmp/stackd-failover.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	"$swarm" stop "$d/c" >/dev/null 2>&1 || true
	rm -rf "$d"
}
trap cleanup EXIT
"$swarm" cluster "$d/c" 3 >"$d/env" 2>/dev/null
# shellcheck disable=SC1091
. "$d/env"
mkdir -p "$d/stacks/web"
file=$d/stacks/web/compose.yaml
write_file() { printf 'services:\n  app:\n    image: local/busybox:1\n    networks: [hostnet]\n    deploy: {replicas: %s}\nnetworks:\n  hostnet: {external: true, name: host}\n' "$1" >"$file.new"; mv "$file.new" "$file"; }
write_file 1
hosts=$(printf '%s, ' $STACKD_TEST_MANAGERS)
cat >"$d/stackd.yaml" <<EOF
engines:
  - {name: swarm, hosts: [${hosts%, }]}
sources:
  - {name: s, dir: {path: $d/stacks, debounce: 50ms}}
interval: 2s
lease: {enabled: false}
owner: bench-failover
EOF
"$build/stackd" run -c "$d/stackd.yaml" --listen "" >"$d/log" 2>&1 &
pid=$!
now() { date +%s.%N; }
leader_engine() { # the engine number of the current leader
	local n
	for n in 1 2 3; do
		if DOCKER_HOST=unix://$d/c/e$n/sock docker node inspect self --format '{{.ManagerStatus.Leader}}' 2>/dev/null | grep -q true; then
			echo "$n"; return
		fi
	done
}
for _ in $(seq 100); do grep -q 'stack=web object=service/web_app msg=created' "$d/log" && break; sleep 0.1; done
echo "## Failover: leader SIGKILL on a 3-manager harness swarm"; echo
el=(); rec=()
for k in $(seq "$kills"); do
	l=$(leader_engine)
	writes=$(grep -c 'msg="updated' "$d/log" || true)
	write_file $((k % 2 + 2))
	sleep 0.3	# the change is seen; its write may be in flight
	t0=$(now)
	"$swarm" kill "$d/c" "$l" 2>/dev/null
	# The next write after the kill: the change, or (if it landed
	# before the kill) another one made now.
	if [ "$(grep -c 'msg="updated' "$d/log" || true)" -gt "$writes" ]; then
		writes=$(grep -c 'msg="updated' "$d/log" || true); write_file $((k % 2 + 4))
	fi
	te=
	while :; do
		for n in 1 2 3; do
			[ "$n" = "$l" ] && continue
			if DOCKER_HOST=unix://$d/c/e$n/sock docker node ls --format '{{.ManagerStatus}}' 2>/dev/null | grep -q Leader; then te=$(now); break; fi
		done
		[ -n "$te" ] && break
		sleep 0.1
	done
	while [ "$(grep -c 'msg="updated' "$d/log" || true)" -le "$writes" ]; do sleep 0.05; done
	tw=$(now)
	e=$(python3 -c "print('%.2f' % ($te - $t0))"); r=$(python3 -c "print('%.2f' % ($tw - $t0))")
	el+=("$e"); rec+=("$r")
	echo "- kill $k (engine $l): election ${e} s, next write ${r} s"
	"$swarm" restart "$d/c" "$l" 2>/dev/null
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo; echo "Median over $kills kills: election $(median "${el[@]}") s, kill -> next write $(median "${rec[@]}") s"
