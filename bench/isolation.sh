#!/usr/bin/env bash
# One engine's cycle while the other engine of the same daemon is healthy,
# and while it hangs: a unix socket that accepts every connection and
# never answers.  100 stacks x 10 services (replicas 0) on each engine,
# from one watched directory.  Once engine 1 is in sync, CYCLES of its
# cycles (default 20) are read off /api/v1/status.  Prints a markdown
# section.  Needs root (dockerd).
#
#   bench/isolation.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
cycles=${CYCLES:-20}
dir=$(mktemp -d /tmp/stackd-iso.XXXXXX)
pid= hang=
cleanup() {
	local p
	for p in $pid $hang; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
	"$here/../tests/harness/swarm.sh" stop "$dir/engines" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
"$here/../tests/harness/swarm.sh" start "$dir/engines" 2 >"$dir/env" 2>/dev/null
set -a; . "$dir/env"; set +a
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)

. "$here/lib.sh"
make_stacks "$dir/stacks" "$stacks"

# Accepts, reads, never answers: an engine whose daemon is wedged.
python3 "$here/../tests/harness/hangsock.py" "$dir/hang.sock" >"$dir/hang.out" 2>&1 &
hang=$!
for _ in $(seq 1 50); do grep -q ready "$dir/hang.out" && break; sleep 0.1; done

engine() { curl -s "http://127.0.0.1:$port/api/v1/status" | python3 -c "import json,sys; e=json.load(sys.stdin)['engines'][$1]; print($2)" 2>/dev/null; }
e1_synced() {
	curl -s "http://127.0.0.1:$port/api/v1/stacks" | python3 -c "
import json, sys
j = json.load(sys.stdin)
ok = [s for s in j if s['engines'].get('local', {}).get('state') == 'synced']
sys.exit(0 if len(ok) == $stacks else 1)" 2>/dev/null
}

measure() { # label remote-engine-yaml
	local label=$1 rows remote
	cat >"$dir/stackd.yaml" <<EOF
engines:
  - {name: local, host: "$STACKD_TEST_ENGINE1"}
$2
sources:
  - name: s
    dir: {path: $dir/stacks}
interval: 1s
owner: bench-iso
stacks: {resolve_image: never}
lease: {enabled: false}
status: {listen: 127.0.0.1:$port}
EOF
	"$build/stackd" run -c "$dir/stackd.yaml" >"$dir/$label.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 900); do e1_synced && break; sleep 0.2; done
	rows=$(cycle_rows "$port" 0 "$cycles")
	remote=$(engine 1 "'synced' if e['reachable'] else (e['error'] or 'unreachable')[:60]")
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	printf '%s' "$rows" | python3 -c "
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
print('| %s | %d | %.3f | %.3f | %.3f | %s |' % ('$label', len(rows),
    statistics.median(r[0] for r in rows), max(r[0] for r in rows),
    statistics.median(r[1] for r in rows), '''$remote'''.replace('|', '/')))"
}

echo "## Isolation: one engine hung, the other's cycle"
echo
echo "\`bench/isolation.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(DOCKER_HOST=$STACKD_TEST_ENGINE1 docker version --format '{{.Server.Version}}')."
echo "One daemon, two engines, $stacks stacks x 10 services on each (interval 1s)."
echo "Engine 2 is the harness's TLS engine, then a socket that accepts and never"
echo "answers. $cycles cycles of engine 1 each."
echo
echo "| engine 2 | cycles of engine 1 | median s | max s | median observe s | engine 2 says |"
echo "|---|---:|---:|---:|---:|---|"
measure "healthy (TCP+TLS)" "  - {name: remote, host: \"$STACKD_TEST_ENGINE2\", tls: {cert_dir: \"$STACKD_TEST_CERTS\"}}"
measure "hung (accepts, never answers)" "  - {name: remote, host: \"unix://$dir/hang.sock\"}"
