#!/usr/bin/env bash
# The reconciler benchmark: 100 stacks x 10 services (replicas 0) on a
# throwaway engine, deployed by a `docker stack deploy --resolve-image never`
# loop and by stackd, cold and no-op, in the same run.  Needs root (dockerd).
#
#   bench/reconcile.sh BUILD_DIR   (prints a markdown section)
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
dir=$(mktemp -d /tmp/stackd-bench.XXXXXX)
trap '"$here/../tests/harness/swarm.sh" stop "$dir/engine" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$here/../tests/harness/swarm.sh" start "$dir/engine" 1 >/dev/null 2>&1
export DOCKER_HOST=unix://$dir/engine/e1/sock

mkdir -p "$dir/files"
for i in $(seq 0 $((stacks - 1))); do
	{
		echo 'version: "3.8"'
		echo 'services:'
		for s in $(seq 0 9); do
			printf '  s%d:\n    image: local/busybox:1\n' "$s"
			if [ "$s" = 0 ]; then
				printf '    environment: ["STACK=%d", "CHANGE=${BENCH_CHANGE:-1}"]\n' "$i"
			else
				printf '    environment: ["STACK=%d"]\n' "$i"
			fi
			printf '    deploy: {replicas: 0, labels: [bench=%d]}\n' "$i"
		done
	} >"$dir/files/stack-$i.yml"
done

gone() { # prefix
	for _ in $(seq 1 240); do
		[ -z "$(docker service ls -q --filter label=com.docker.stack.namespace)$(docker network ls -q --filter label=com.docker.stack.namespace)" ] && return 0
		sleep 0.5
	done
}
cli_loop() {
	local t0 t1
	t0=$(date +%s.%N)
	for i in $(seq 0 $((stacks - 1))); do
		docker stack deploy --resolve-image never -c "$dir/files/stack-$i.yml" "cli$i" >/dev/null
	done
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

echo "## Reconcile: $stacks stacks x 10 services, one engine"
echo
echo "\`bench/reconcile.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker version --format '{{.Server.Version}}')."
echo "stackd runs as the controller does: load every stack, observe the engine once"
echo "(4 list calls: the observe column), plan and apply each.  Writes are creates +"
echo "updates + removes; the CLI loop's calls are not counted.  The first no-op runs"
echo "right after the cold apply, while the engine is still busy with it."
echo
echo "| run | wall s | observe s | GET | POST | DELETE | writes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| docker stack deploy loop, cold | $(cli_loop) | | | | | |"
echo "| docker stack deploy loop, no-op | $(cli_loop) | | | | | |"
for i in $(seq 0 $((stacks - 1))); do docker stack rm "cli$i" >/dev/null 2>&1; done
gone
"$build/bench/bench_reconcile" sd $(for i in $(seq 0 $((stacks - 1))); do echo "$dir/files/stack-$i.yml"; done)
