#!/usr/bin/env bash
# `make run`: run stackd against the engine in DOCKER_HOST if one answers,
# otherwise against a throwaway single-node swarm started (and removed on
# exit) by swarm.sh.
#
#   tests/harness/run.sh STACKD EXAMPLES_DIR
set -uo pipefail
stackd=$1
examples=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=
key=

cleanup() { [ -z "$key" ] || rm -f "$key"; [ -z "$dir" ] || "$here/swarm.sh" stop "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$stackd" ping >/dev/null 2>&1; then
	echo "run: using the engine at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
	[ "$(id -u)" = 0 ] || { echo "run: no engine answers and starting one needs root" >&2; exit 1; }
	dir=$(mktemp -d /tmp/stackd-run.XXXXXX)
	echo "run: no engine reachable; starting a throwaway swarm engine in $dir"
	STACKD_E1_ADDR=127.0.0.3 STACKD_E1_DATA_PORT=4791 \
		"$here/swarm.sh" start "$dir" 1 >/dev/null || exit 1
	export DOCKER_HOST="unix://$dir/e1/sock"
	unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH
fi

"$stackd" ping || exit 1
# The throwaway engine's image was imported: no registry holds it, and the
# engine can reach none, so pinning could only warn on every service.
resolve=()
if [ -n "$dir" ]; then
	resolve=(--resolve-image never)
	echo "run: images are not pinned (--resolve-image never): the throwaway engine's image is in no registry"
fi
# examples/vault is SOPS-encrypted to the published test key; git keeps
# no file modes, and stackd refuses a key file others can read.
key=$(mktemp /tmp/stackd-run-key.XXXXXX)
cat "$examples/sops-test-key.txt" >"$key"
echo "run: examples/vault decrypts with the test key examples/sops-test-key.txt"
echo "run: status page on http://127.0.0.1:9090/ (Ctrl-C stops stackd${dir:+ and the throwaway engine})"
[ -z "$dir" ] || echo "run: the engine is DOCKER_HOST=$DOCKER_HOST"
# Not exec: the trap must stop the throwaway engine once stackd exits.
"$stackd" run --dir "$examples" --listen 127.0.0.1:9090 --sops-age-key-file "$key" \
    "${resolve[@]}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
wait $pid
wait $pid
rc=$?
exit $rc
